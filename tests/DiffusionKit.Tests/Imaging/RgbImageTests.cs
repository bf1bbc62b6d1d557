using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

public sealed class RgbImageTests
{
    [Fact]
    public void Constructor_rejects_a_pixel_array_of_the_wrong_length_naming_the_parameter()
    {
        var act = () => new RgbImage(2, 2, new byte[11]);

        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("pixels");
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(1, 0)]
    [InlineData(-1, 1)]
    public void Constructor_rejects_non_positive_sizes(int width, int height)
    {
        var act = () => new RgbImage(width, height, []);

        act.Should().Throw<ArgumentOutOfRangeException>();
    }

    [Fact]
    public void FromChannelsFirst_converts_CHW_floats_to_HWC_bytes_with_rounding_and_clamping()
    {
        // 3 channels, 1 row, 2 pixels: R plane, G plane, B plane.
        float[] chw = [0f, 1f, /* G */ 0.5f, 1.2f, /* B */ -0.1f, 0.1f];

        RgbImage image = RgbImage.FromChannelsFirst(chw, channels: 3, height: 1, width: 2);

        image.Width.Should().Be(2);
        image.Height.Should().Be(1);
        image.Pixels.Should().Equal(0, 128, 0, /* pixel 1 */ 255, 255, 26);
    }

    [Fact]
    public void FromChannelsFirst_expands_grey_to_rgb()
    {
        float[] chw = [0.2f, 0.8f, 1f, 0f];

        RgbImage image = RgbImage.FromChannelsFirst(chw, channels: 1, height: 2, width: 2);

        image.GetPixel(0, 0).Should().Be(new RgbColor(51, 51, 51));
        image.GetPixel(1, 0).Should().Be(new RgbColor(204, 204, 204));
        image.GetPixel(0, 1).Should().Be(RgbColor.White);
        image.GetPixel(1, 1).Should().Be(RgbColor.Black);
    }

    [Theory]
    [InlineData(float.NaN)]
    [InlineData(float.PositiveInfinity)]
    [InlineData(float.NegativeInfinity)]
    public void FromChannelsFirst_rejects_non_finite_values(float bad)
    {
        float[] chw = [0f, 0.5f, bad, 1f];

        var act = () => RgbImage.FromChannelsFirst(chw, 1, 2, 2);

        act.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("chw");
    }

    [Fact]
    public void FromChannelsFirst_rejects_a_length_mismatch_and_unsupported_channel_counts()
    {
        var wrongLength = () => RgbImage.FromChannelsFirst(new float[11], 3, 2, 2);
        var twoChannels = () => RgbImage.FromChannelsFirst(new float[8], 2, 2, 2);

        wrongLength.Should().Throw<ArgumentException>().Which.ParamName.Should().Be("chw");
        twoChannels.Should().Throw<ArgumentOutOfRangeException>().Which.ParamName.Should().Be("channels");
    }

    [Fact]
    public void Upscale_repeats_each_pixel_in_a_square()
    {
        var image = new RgbImage(2, 1, [1, 2, 3, 4, 5, 6]);

        RgbImage big = image.Upscale(3);

        big.Width.Should().Be(6);
        big.Height.Should().Be(3);
        for (int y = 0; y < 3; y++)
        {
            for (int x = 0; x < 6; x++)
            {
                big.GetPixel(x, y).Should().Be(x < 3 ? new RgbColor(1, 2, 3) : new RgbColor(4, 5, 6));
            }
        }
    }
}
