using DiffusionKit.Demo.Sprites;
using FluentAssertions;
using Xunit;
using static DiffusionKit.Tests.Data.NpyTestWriter;

namespace DiffusionKit.Tests.Data;

public sealed class NpyReaderTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Reads_float64_in_every_format_version(int major)
    {
        using var dir = new TempDirectory();
        string file = dir.Write("a.npy", Build("<f8", new[] { 2, 3 }, Doubles(1, 2, 3, 4, 5, 6.5), major));

        NpyArray array = NpyReader.Read(file);

        array.DataType.Should().Be(NpyDataType.Float64);
        array.Shape.Should().Equal(2, 3);
        array.Length.Should().Be(6);
        array.GetDouble(5).Should().Be(6.5);
    }

    [Fact]
    public void Reads_uint8_float32_and_int64()
    {
        using var dir = new TempDirectory();
        NpyReader.Read(dir.Write("u.npy", Build("|u1", new[] { 3 }, new byte[] { 7, 8, 255 }))).GetDouble(2).Should().Be(255);
        NpyReader.Read(dir.Write("f.npy", Build("<f4", new[] { 2 }, Floats(0.5f, -2f)))).GetDouble(1).Should().Be(-2);
        NpyArray longs = NpyReader.Read(dir.Write("i.npy", Build("<i8", new[] { 1, 2 }, Longs(-3, 1L << 40))));
        longs.DataType.Should().Be(NpyDataType.Int64);
        longs.GetDouble(1).Should().Be(1L << 40);
    }

    [Fact]
    public void Bad_magic_is_reported_with_the_file_name()
    {
        using var dir = new TempDirectory();
        byte[] bytes = Build("<f8", new[] { 1 }, Doubles(1));
        bytes[1] = (byte)'X';
        string file = dir.Write("magic.npy", bytes);

        Action act = () => NpyReader.Read(file);

        act.Should().Throw<InvalidDataException>().WithMessage($"*{file}*bad magic*");
    }

    [Fact]
    public void Truncated_data_is_reported_without_trusting_the_header()
    {
        using var dir = new TempDirectory();
        byte[] bytes = Build("<f8", new[] { 4 }, Doubles(1, 2, 3, 4));
        string file = dir.Write("short.npy", bytes[..^5]);

        Action act = () => NpyReader.Read(file);

        act.Should().Throw<InvalidDataException>().WithMessage($"*{file}*size mismatch*truncated*");
    }

    [Fact]
    public void A_huge_claimed_shape_fails_on_the_length_check_before_allocating()
    {
        using var dir = new TempDirectory();
        string file = dir.Write("huge.npy", Build("<f8", new[] { 100_000, 100_000 }, Doubles(1)));

        Action act = () => NpyReader.Read(file);

        act.Should().Throw<InvalidDataException>().WithMessage($"*{file}*");
    }

    [Fact]
    public void Truncated_header_and_preamble_are_reported()
    {
        using var dir = new TempDirectory();
        byte[] bytes = Build("<f8", new[] { 1 }, Doubles(1));
        string inHeader = dir.Write("h.npy", bytes[..20]);
        string inPreamble = dir.Write("p.npy", bytes[..5]);

        ((Action)(() => NpyReader.Read(inHeader))).Should().Throw<InvalidDataException>().WithMessage($"*{inHeader}*truncated*");
        ((Action)(() => NpyReader.Read(inPreamble))).Should().Throw<InvalidDataException>().WithMessage($"*{inPreamble}*truncated*");
    }

    [Fact]
    public void Trailing_bytes_are_a_size_mismatch()
    {
        using var dir = new TempDirectory();
        byte[] bytes = Build("|u1", new[] { 2 }, new byte[] { 1, 2, 3 });
        string file = dir.Write("long.npy", bytes);

        ((Action)(() => NpyReader.Read(file))).Should().Throw<InvalidDataException>().WithMessage("*size mismatch*trailing*");
    }

    [Theory]
    [InlineData(">f8")]
    [InlineData("<c16")]
    [InlineData("|O")]
    public void Unsupported_dtypes_are_named(string descr)
    {
        using var dir = new TempDirectory();
        string file = dir.Write("d.npy", Build(descr, new[] { 1 }, new byte[8]));

        ((Action)(() => NpyReader.Read(file))).Should().Throw<InvalidDataException>()
            .WithMessage($"*{file}*unsupported dtype '{descr}'*");
    }

    [Fact]
    public void Fortran_order_is_rejected()
    {
        using var dir = new TempDirectory();
        string file = dir.Write("f.npy", Build("<f8", new[] { 1, 1 }, Doubles(1), fortran: true));

        ((Action)(() => NpyReader.Read(file))).Should().Throw<InvalidDataException>().WithMessage($"*{file}*fortran_order*");
    }

    [Fact]
    public void Malformed_header_and_unknown_version_are_rejected()
    {
        using var dir = new TempDirectory();
        string bad = dir.Write("b.npy", Build("<f8", new[] { 1 }, Doubles(1), headerOverride: "{'descr': '<f8', 'shape': (1,)"));
        string version = dir.Write("v.npy", Build("<f8", new[] { 1 }, Doubles(1), major: 4));
        string negative = dir.Write("n.npy", Build("<f8", new[] { 1 }, Doubles(1), headerOverride: "{'descr': '<f8', 'fortran_order': False, 'shape': (-1,), }"));

        ((Action)(() => NpyReader.Read(bad))).Should().Throw<InvalidDataException>().WithMessage($"*{bad}*");
        ((Action)(() => NpyReader.Read(version))).Should().Throw<InvalidDataException>().WithMessage("*version 4*");
        ((Action)(() => NpyReader.Read(negative))).Should().Throw<InvalidDataException>().WithMessage("*dimension*");
    }

    [Fact]
    public void Non_seekable_streams_are_checked_as_they_arrive()
    {
        byte[] bytes = Build("<f8", new[] { 100_000_000 }, Doubles(1, 2));
        using var stream = new NonSeekableStream(bytes);

        ((Action)(() => NpyReader.Read(stream, "pipe"))).Should().Throw<InvalidDataException>().WithMessage("*pipe*truncated*");
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
