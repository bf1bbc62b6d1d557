using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DiffusionKit.IO;

namespace DiffusionKit.Imaging;

/// <summary>
/// Writes <see cref="RgbImage"/>s as PNG files: 8-bit truecolour (colour type 2), or 8-bit grayscale (colour type 0)
/// for an image whose <see cref="RgbImage.Mode"/> is <see cref="ImageMode.Grayscale"/>, not interlaced, one IHDR, the
/// zlib stream split over IDAT chunks of at most 64 KiB, and IEND. Each row gets the filter with the smallest
/// sum of absolute differences (the heuristic the PNG specification suggests).
/// </summary>
/// <remarks>Thread-safe: the encoder keeps no state.</remarks>
public static class PngEncoder
{
    private const int MaxIdatLength = 64 * 1024;

    /// <summary>Encodes an image as a complete PNG file.</summary>
    /// <param name="image">The image.</param>
    /// <returns>The PNG file's bytes.</returns>
    public static byte[] Encode(RgbImage image) => Encode(image, forcedFilter: null);

    /// <summary>Encodes an image and writes it to <paramref name="path"/> atomically (a temporary file in the same folder, then a move), so a reader never sees half a file.</summary>
    /// <param name="image">The image.</param>
    /// <param name="path">The destination; its folder must exist. An existing file is replaced.</param>
    public static void Save(RgbImage image, string path)
    {
        ArgumentNullException.ThrowIfNull(image);
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, Encode(image));
    }

    /// <summary>Encodes with one filter type for every row, or the adaptive choice when <paramref name="forcedFilter"/> is null. Tests use this to exercise each filter.</summary>
    /// <param name="image">The image.</param>
    /// <param name="forcedFilter">The filter for every row, or null to choose per row.</param>
    /// <returns>The PNG file's bytes.</returns>
    internal static byte[] Encode(RgbImage image, PngFilterType? forcedFilter)
    {
        ArgumentNullException.ThrowIfNull(image);
        using var file = new MemoryStream();
        file.Write(PngFormat.Signature);

        Span<byte> header = stackalloc byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, image.Width);
        BinaryPrimitives.WriteInt32BigEndian(header[4..], image.Height);
        header[8] = 8; // bit depth
        header[9] = image.Mode == ImageMode.Grayscale ? PngFormat.ColourTypeGrayscale : PngFormat.ColourTypeRgb;
        header[10] = 0; // compression method: deflate
        header[11] = 0; // filter method: adaptive, five types
        header[12] = 0; // no interlace
        WriteChunk(file, "IHDR", header);

        byte[] compressed = Compress(image, forcedFilter);
        for (int offset = 0; offset < compressed.Length; offset += MaxIdatLength)
        {
            WriteChunk(file, "IDAT", compressed.AsSpan(offset, Math.Min(MaxIdatLength, compressed.Length - offset)));
        }

        WriteChunk(file, "IEND", []);
        return file.ToArray();
    }

    private static byte[] Compress(RgbImage image, PngFilterType? forcedFilter)
    {
        bool grey = image.Mode == ImageMode.Grayscale;
        int bytesPerPixel = grey ? 1 : PngFormat.BytesPerPixel;
        int stride = image.Width * bytesPerPixel;
        var current = new byte[stride];
        var previous = new byte[stride];
        var filtered = new byte[stride];
        var best = new byte[stride];
        using var output = new MemoryStream();
        using (var zlib = new ZLibStream(output, CompressionLevel.Optimal, leaveOpen: true))
        {
            for (int y = 0; y < image.Height; y++)
            {
                ReadOnlySpan<byte> source = image.Pixels.AsSpan(y * image.Width * PngFormat.BytesPerPixel, image.Width * PngFormat.BytesPerPixel);
                if (grey)
                {
                    for (int x = 0; x < stride; x++)
                    {
                        current[x] = RgbImage.Luma(source[x * 3], source[(x * 3) + 1], source[(x * 3) + 2]);
                    }
                }
                else
                {
                    source.CopyTo(current);
                }

                ReadOnlySpan<byte> row = current;
                PngFilterType chosen = PngFilterType.None;
                long bestCost = long.MaxValue;
                for (var filter = PngFilterType.None; filter <= PngFilterType.Paeth; filter++)
                {
                    if (forcedFilter is { } forced && forced != filter)
                    {
                        continue;
                    }

                    PngFormat.Filter(filter, row, previous, filtered, bytesPerPixel);
                    long cost = 0;
                    foreach (byte b in filtered)
                    {
                        cost += Math.Abs((int)(sbyte)b);
                    }

                    if (cost < bestCost)
                    {
                        bestCost = cost;
                        chosen = filter;
                        filtered.CopyTo(best, 0);
                    }
                }

                zlib.WriteByte((byte)chosen);
                zlib.Write(best);
                row.CopyTo(previous);
            }
        }

        return output.ToArray();
    }

    private static void WriteChunk(Stream file, string type, ReadOnlySpan<byte> data)
    {
        Span<byte> word = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(word, data.Length);
        file.Write(word);
        Span<byte> typeBytes = stackalloc byte[4];
        Encoding.ASCII.GetBytes(type, typeBytes);
        file.Write(typeBytes);
        file.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(word, PngFormat.ChunkCrc(typeBytes, data));
        file.Write(word);
    }
}
