using System.Text;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

/// <summary>The public PNG primitives: signature, chunk CRC and the five scanline filters, checked against hand-computed values.</summary>
public sealed class PngFormatTests
{
    // Two RGB pixels and the row above them.
    private static readonly byte[] Row = [10, 20, 30, 40, 60, 80];
    private static readonly byte[] Above = [5, 5, 5, 50, 10, 90];

    public static TheoryData<PngFilterType, byte[]> FilteredRows() => new()
    {
        { PngFilterType.None, [10, 20, 30, 40, 60, 80] },
        { PngFilterType.Sub, [10, 20, 30, 30, 40, 50] },      // minus the byte one pixel to the left (0 for the first pixel)
        { PngFilterType.Up, [5, 15, 25, 246, 50, 246] },     // minus the byte above, modulo 256
        { PngFilterType.Average, [8, 18, 28, 10, 45, 20] },  // minus floor((left + above) / 2)
        { PngFilterType.Paeth, [5, 15, 25, 246, 40, 246] },  // minus whichever of left, above, above-left is nearest left + above - above-left
    };

    [Fact]
    public void Signature_is_the_eight_PNG_bytes()
    {
        PngFormat.Signature.ToArray().Should().Equal(137, 80, 78, 71, 13, 10, 26, 10);
    }

    [Fact]
    public void Chunk_crc_covers_type_and_data()
    {
        // Every PNG ends with the same IEND chunk: 00 00 00 00 'IEND' AE 42 60 82.
        PngFormat.ChunkCrc("IEND"u8, []).Should().Be(0xAE426082u);
        PngFormat.ChunkCrc("IDAT"u8, [1, 2, 3]).Should().Be(PngTests.BitwiseCrc32(Encoding.ASCII.GetBytes("IDAT").Concat(new byte[] { 1, 2, 3 }).ToArray()));
        PngFormat.ChunkCrc("IDAT"u8, [1, 2, 3]).Should().NotBe(PngFormat.ChunkCrc("IDAT"u8, [1, 2, 4]));
    }

    [Theory]
    [MemberData(nameof(FilteredRows))]
    public void Filter_subtracts_the_filters_prediction(PngFilterType filter, byte[] expected)
    {
        var destination = new byte[Row.Length];

        PngFormat.Filter(filter, Row, Above, destination);

        destination.Should().Equal(expected);
    }

    [Theory]
    [MemberData(nameof(FilteredRows))]
    public void Unfilter_restores_the_raw_row(PngFilterType filter, byte[] filtered)
    {
        var destination = new byte[Row.Length];

        PngFormat.Unfilter(filter, filtered, Above, destination);

        destination.Should().Equal(Row);
    }

    [Theory]
    [InlineData(PngFilterType.None)]
    [InlineData(PngFilterType.Sub)]
    [InlineData(PngFilterType.Up)]
    [InlineData(PngFilterType.Average)]
    [InlineData(PngFilterType.Paeth)]
    public void Filter_then_unfilter_round_trips_random_rows(PngFilterType filter)
    {
        var random = new Random((int)filter);
        var row = new byte[3 * 37];
        var above = new byte[row.Length];
        random.NextBytes(row);
        random.NextBytes(above);
        var filtered = new byte[row.Length];
        var restored = new byte[row.Length];

        PngFormat.Filter(filter, row, above, filtered);
        PngFormat.Unfilter(filter, filtered, above, restored);

        restored.Should().Equal(row);
    }

    [Fact]
    public void Arguments_are_checked_by_name()
    {
        var six = new byte[6];
        var buffer = new byte[12];

        ((Action)(() => PngFormat.ChunkCrc("IDA"u8, []))).Should().Throw<ArgumentException>().WithParameterName("chunkType");
        ((Action)(() => PngFormat.Filter((PngFilterType)5, six, six.ToArray(), new byte[6]))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("filter");
        ((Action)(() => PngFormat.Unfilter((PngFilterType)5, six, six.ToArray(), new byte[6]))).Should().Throw<ArgumentOutOfRangeException>().WithParameterName("filter");
        ((Action)(() => PngFormat.Filter(PngFilterType.Sub, new byte[5], new byte[5], new byte[5]))).Should().Throw<ArgumentException>().WithParameterName("row");
        ((Action)(() => PngFormat.Unfilter(PngFilterType.Sub, new byte[5], new byte[5], new byte[5]))).Should().Throw<ArgumentException>().WithParameterName("filtered");
        ((Action)(() => PngFormat.Filter(PngFilterType.Up, six, new byte[3], new byte[6]))).Should().Throw<ArgumentException>().WithParameterName("previous");
        ((Action)(() => PngFormat.Filter(PngFilterType.Up, six, new byte[6], new byte[9]))).Should().Throw<ArgumentException>().WithParameterName("destination");
        ((Action)(() => PngFormat.Filter(PngFilterType.Sub, buffer.AsSpan(0, 6), new byte[6], buffer.AsSpan(3, 6)))).Should().Throw<ArgumentException>().WithParameterName("destination");
        ((Action)(() => PngFormat.Unfilter(PngFilterType.Up, six, buffer.AsSpan(0, 6), buffer.AsSpan(6, 6)))).Should().NotThrow("adjacent spans of one buffer do not overlap");
        ((Action)(() => PngFormat.Unfilter(PngFilterType.Up, six, buffer.AsSpan(0, 6), buffer.AsSpan(0, 6)))).Should().Throw<ArgumentException>().WithParameterName("destination");
    }
}
