using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Imaging;
using SkiaSharp;

namespace DiffusionKit.Tests.Data;

/// <summary>Writes test image files: PNGs of any colour type (written by hand, so the test controls the exact encoding) and JPEGs through Skia.</summary>
internal static class ImageFiles
{
    /// <summary>PNG colour types.</summary>
    public const byte Gray = 0, Rgb = 2, Palette = 3, GrayAlpha = 4, Rgba = 6;

    /// <summary>Writes an 8-bit PNG; <paramref name="samples"/> holds channels-last samples for the colour type (palette: indices).</summary>
    public static string Png(string path, int width, int height, byte colorType, byte[] samples, byte[]? palette = null)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        int channels = colorType switch { Gray => 1, Rgb => 3, Palette => 1, GrayAlpha => 2, Rgba => 4, _ => throw new ArgumentOutOfRangeException(nameof(colorType)) };
        using var file = new MemoryStream();
        file.Write(new byte[] { 137, 80, 78, 71, 13, 10, 26, 10 });
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8;
        header[9] = colorType;
        Chunk(file, "IHDR", header);
        if (palette is not null)
        {
            Chunk(file, "PLTE", palette);
        }

        using var raw = new MemoryStream();
        using (var z = new ZLibStream(raw, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < height; y++)
            {
                z.WriteByte(0);
                z.Write(samples, y * width * channels, width * channels);
            }
        }

        Chunk(file, "IDAT", raw.ToArray());
        Chunk(file, "IEND", Array.Empty<byte>());
        File.WriteAllBytes(path, file.ToArray());
        return path;
    }

    /// <summary>Writes an RGB PNG of one colour.</summary>
    public static string Solid(string path, int width, int height, byte r, byte g, byte b)
    {
        var samples = new byte[width * height * 3];
        for (int i = 0; i < samples.Length; i += 3)
        {
            samples[i] = r;
            samples[i + 1] = g;
            samples[i + 2] = b;
        }

        return Png(path, width, height, Rgb, samples);
    }

    /// <summary>Writes a grayscale PNG (colour type 0) of one grey value.</summary>
    public static string SolidGray(string path, int width, int height, byte value) =>
        Png(path, width, height, Gray, Enumerable.Repeat(value, width * height).ToArray());

    /// <summary>Writes an RGB image as a JPEG at quality 100.</summary>
    public static string Jpeg(string path, RgbImage image)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Opaque));
        for (int y = 0; y < image.Height; y++)
        {
            for (int x = 0; x < image.Width; x++)
            {
                var c = image.GetPixel(x, y);
                bitmap.SetPixel(x, y, new SKColor(c.R, c.G, c.B));
            }
        }

        using var data = bitmap.Encode(SKEncodedImageFormat.Jpeg, 100);
        File.WriteAllBytes(path, data.ToArray());
        return path;
    }

    private static void Chunk(Stream file, string type, byte[] data)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        file.Write(length);
        byte[] typeBytes = Encoding.ASCII.GetBytes(type);
        file.Write(typeBytes);
        file.Write(data);
        uint crc = Crc32.Append(Crc32.Compute(typeBytes), data);
        Span<byte> crcBytes = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(crcBytes, crc);
        file.Write(crcBytes);
    }
}
