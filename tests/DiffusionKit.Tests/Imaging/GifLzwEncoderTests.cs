using DiffusionKit.Demo.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

public sealed class GifLzwEncoderTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void Every_length_round_trips_so_code_widening_before_the_end_code_is_right(int minCodeSize)
    {
        // Stopping after each possible length puts the end code at every table size, including just after
        // the table reaches a power of two, where encoder and decoder must agree on the wider code.
        var random = new Random(minCodeSize);
        byte[] all = new byte[700];
        for (int i = 0; i < all.Length; i++)
        {
            all[i] = (byte)random.Next(i % 50 < 25 ? 2 : 1 << minCodeSize);
        }

        for (int length = 1; length <= all.Length; length++)
        {
            byte[] input = all[..length];

            byte[] decoded = GifReader.DecodeLzw(GifLzwEncoder.Encode(input, minCodeSize), minCodeSize, length);

            decoded.Should().Equal(input, $"length {length}");
        }
    }

    [Fact]
    public void Rejects_an_index_that_does_not_fit_the_code_size()
    {
        FluentActions.Invoking(() => GifLzwEncoder.Encode([0, 1, 4], minCodeSize: 2)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
