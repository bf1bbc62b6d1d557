using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Imaging;

public sealed class PngTests
{
    private static readonly byte[] Signature = [137, 80, 78, 71, 13, 10, 26, 10];

    [Theory]
    [InlineData(1, 1)]
    [InlineData(7, 5)]
    [InlineData(64, 48)]
    [InlineData(200, 150)] // more than 64 KiB of image data: several IDAT chunks
    public void Round_trip_through_the_decoder_is_bit_exact(int width, int height)
    {
        RgbImage original = TestImages.Noise(width, height, seed: width * 1000 + height);

        RgbImage decoded = PngDecoder.Decode(PngEncoder.Encode(original));

        decoded.Width.Should().Be(width);
        decoded.Height.Should().Be(height);
        decoded.Pixels.Should().Equal(original.Pixels);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    public void Round_trip_is_bit_exact_for_every_filter_type(int filter)
    {
        RgbImage original = TestImages.Gradient(23, 17, seed: filter);
        byte[] png = PngEncoder.Encode(original, (PngFilterType)filter);

        RgbImage decoded = PngDecoder.Decode(png);

        RowFilterTypes(png, 17, 23).Should().OnlyContain(f => f == filter);
        decoded.Pixels.Should().Equal(original.Pixels);
    }

    [Fact]
    public void Adaptive_encoding_round_trips_a_smooth_image()
    {
        RgbImage original = TestImages.Gradient(40, 30, seed: 9);

        PngDecoder.Decode(PngEncoder.Encode(original)).Pixels.Should().Equal(original.Pixels);
    }

    [Fact]
    public void File_starts_with_the_signature_and_has_IHDR_IDAT_IEND_with_correct_CRCs()
    {
        byte[] png = PngEncoder.Encode(TestImages.Noise(9, 4, seed: 1));

        png.Take(8).Should().Equal(Signature);
        var chunks = ReadChunks(png);
        chunks.First().Type.Should().Be("IHDR");
        chunks.Last().Type.Should().Be("IEND");
        chunks.Where(c => c.Type == "IDAT").Should().NotBeEmpty();
        foreach (var chunk in chunks)
        {
            chunk.StoredCrc.Should().Be(BitwiseCrc32(Encoding.ASCII.GetBytes(chunk.Type).Concat(chunk.Data).ToArray()), $"chunk {chunk.Type}");
        }

        byte[] ihdr = chunks.First().Data;
        ihdr.Should().HaveCount(13);
        BinaryPrimitives.ReadInt32BigEndian(ihdr).Should().Be(9);
        BinaryPrimitives.ReadInt32BigEndian(ihdr.AsSpan(4)).Should().Be(4);
        ihdr.Skip(8).Should().Equal(8, 2, 0, 0, 0);
    }

    [Fact]
    public void Crc_of_the_IEND_chunk_is_the_well_known_constant()
    {
        byte[] png = PngEncoder.Encode(TestImages.Noise(2, 2, seed: 2));

        png.TakeLast(12).Should().Equal(0, 0, 0, 0, (byte)'I', (byte)'E', (byte)'N', (byte)'D', 0xAE, 0x42, 0x60, 0x82);
    }

    [Fact]
    public void Decoder_rejects_a_flipped_byte_through_the_chunk_crc()
    {
        byte[] png = PngEncoder.Encode(TestImages.Noise(8, 8, seed: 3));
        png[8 + 8 + 13 + 4 + 8 + 5] ^= 0x01; // a byte inside the IDAT data

        var act = () => PngDecoder.Decode(png);

        act.Should().Throw<InvalidDataException>().WithMessage("*CRC*");
    }

    [Fact]
    public void Decoder_rejects_a_truncated_file()
    {
        byte[] png = PngEncoder.Encode(TestImages.Noise(8, 8, seed: 4));

        foreach (int keep in new[] { png.Length - 1, png.Length - 12, png.Length / 2, 20, 9 })
        {
            var act = () => PngDecoder.Decode(png[..keep]);
            act.Should().Throw<InvalidDataException>().WithMessage("*runcated*", $"keeping {keep} of {png.Length} bytes");
        }
    }

    [Fact]
    public void Decoder_rejects_a_bad_signature()
    {
        byte[] png = PngEncoder.Encode(TestImages.Noise(2, 2, seed: 5));
        png[1] = (byte)'X';

        var act = () => PngDecoder.Decode(png);

        act.Should().Throw<InvalidDataException>().WithMessage("*signature*");
    }

    [Theory]
    [InlineData(6, 8)] // RGBA
    [InlineData(4, 8)] // grey with alpha
    [InlineData(0, 16)] // 16-bit grey
    [InlineData(2, 16)] // 16-bit RGB
    public void Decoder_rejects_unsupported_formats_with_a_clear_message(byte colourType, byte bitDepth)
    {
        byte[] png = PngEncoder.Encode(TestImages.Noise(2, 2, seed: 6));
        png[8 + 8 + 8] = bitDepth;
        png[8 + 8 + 9] = colourType;
        FixCrc(png, 8);

        var act = () => PngDecoder.Decode(png);

        act.Should().Throw<InvalidDataException>().WithMessage($"*bit depth {bitDepth}, colour type {colourType}*");
    }

    [Fact]
    public void Decoder_rejects_an_unknown_filter_type()
    {
        byte[] raw = new byte[2 * 10];
        raw[10] = 5; // row 1 filter type
        byte[] png = BuildPng(3, 2, raw);

        var act = () => PngDecoder.Decode(png);

        act.Should().Throw<InvalidDataException>().WithMessage("*filter type 5*");
    }

    [Fact]
    public void Decoder_rejects_image_data_that_is_too_short()
    {
        byte[] png = BuildPng(3, 2, new byte[10]); // one row of two

        var act = () => PngDecoder.Decode(png);

        act.Should().Throw<InvalidDataException>().WithMessage("*needs 20*");
    }

    [Fact]
    public void Decoder_reads_a_file_written_by_an_independent_encoder()
    {
        // Filter types chosen by hand: Sub on row 0, Up on row 1, applied here with the spec's arithmetic.
        byte[] raw =
        [
            1, 10, 20, 30, 5, 5, 5,
            2, 1, 1, 1, 250, 250, 250,
        ];
        byte[] png = BuildPng(2, 2, raw);

        RgbImage image = PngDecoder.Decode(png);

        image.Pixels.Should().Equal(10, 20, 30, 15, 25, 35, /* row 1 = row 0 + deltas */ 11, 21, 31, 9, 19, 29);
    }

    [Fact]
    public void Save_writes_atomically_and_replaces_an_existing_file()
    {
        string folder = Path.Combine(Path.GetTempPath(), "dk-png-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            string path = Path.Combine(folder, "out.png");
            File.WriteAllText(path, "old");
            RgbImage image = TestImages.Noise(5, 5, seed: 8);

            PngEncoder.Save(image, path);

            PngDecoder.Load(path).Pixels.Should().Equal(image.Pixels);
            Directory.GetFiles(folder).Should().ContainSingle();
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    internal static uint BitwiseCrc32(byte[] data)
    {
        uint crc = 0xFFFFFFFF;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) == 1 ? (crc >> 1) ^ 0xEDB88320 : crc >> 1;
            }
        }

        return ~crc;
    }

    private static List<(string Type, byte[] Data, uint StoredCrc)> ReadChunks(byte[] png)
    {
        var chunks = new List<(string, byte[], uint)>();
        int offset = 8;
        while (offset < png.Length)
        {
            int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(offset));
            string type = Encoding.ASCII.GetString(png, offset + 4, 4);
            byte[] data = png.AsSpan(offset + 8, length).ToArray();
            uint crc = BinaryPrimitives.ReadUInt32BigEndian(png.AsSpan(offset + 8 + length));
            chunks.Add((type, data, crc));
            offset += 12 + length;
        }

        offset.Should().Be(png.Length);
        return chunks;
    }

    private static byte[] RowFilterTypes(byte[] png, int height, int width)
    {
        using var idat = new MemoryStream(ReadChunks(png).Where(c => c.Type == "IDAT").SelectMany(c => c.Data).ToArray());
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        using var raw = new MemoryStream();
        zlib.CopyTo(raw);
        byte[] bytes = raw.ToArray();
        bytes.Should().HaveCount(height * ((width * 3) + 1));
        return Enumerable.Range(0, height).Select(y => bytes[y * ((width * 3) + 1)]).ToArray();
    }

    private static void FixCrc(byte[] png, int chunkOffset)
    {
        int length = BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(chunkOffset));
        uint crc = BitwiseCrc32(png.AsSpan(chunkOffset + 4, length + 4).ToArray());
        BinaryPrimitives.WriteUInt32BigEndian(png.AsSpan(chunkOffset + 8 + length), crc);
    }

    /// <summary>Writes a PNG from already filtered scanlines, independently of <see cref="PngEncoder"/>.</summary>
    private static byte[] BuildPng(int width, int height, byte[] filteredRows)
    {
        using var file = new MemoryStream();
        file.Write(Signature);
        byte[] ihdr = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(ihdr, width);
        BinaryPrimitives.WriteInt32BigEndian(ihdr.AsSpan(4), height);
        ihdr[8] = 8;
        ihdr[9] = 2;
        WriteChunk(file, "IHDR", ihdr);
        using var compressed = new MemoryStream();
        using (var zlib = new ZLibStream(compressed, CompressionLevel.Fastest, leaveOpen: true))
        {
            zlib.Write(filteredRows);
        }

        WriteChunk(file, "IDAT", compressed.ToArray());
        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    private static void WriteChunk(Stream file, string type, byte[] data)
    {
        byte[] header = new byte[8];
        BinaryPrimitives.WriteInt32BigEndian(header, data.Length);
        Encoding.ASCII.GetBytes(type, header.AsSpan(4));
        file.Write(header);
        file.Write(data);
        byte[] crc = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crc, BitwiseCrc32(header.AsSpan(4).ToArray().Concat(data).ToArray()));
        file.Write(crc);
    }
}
