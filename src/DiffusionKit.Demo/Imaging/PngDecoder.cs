using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;
using DiffusionKit.Imaging;

namespace DiffusionKit.Demo.Imaging;

/// <summary>
/// Reads the PNG files that <see cref="PngEncoder"/> writes, and any other 8-bit truecolour (colour type 2) or 8-bit
/// grayscale (colour type 0, read as an <see cref="ImageMode.Grayscale"/> image), non-interlaced PNG with filter types 0 to 4. Every chunk's CRC is checked. Ancillary chunks and PLTE
/// (a suggested palette for truecolour) are skipped; any other critical chunk is refused.
/// </summary>
/// <remarks>Thread-safe: the decoder keeps no state.</remarks>
public static class PngDecoder
{
    /// <summary>Decodes a complete PNG file.</summary>
    /// <param name="png">The file's bytes.</param>
    /// <returns>The image.</returns>
    /// <exception cref="InvalidDataException">
    /// The bytes are not a PNG (bad signature), are damaged (a CRC mismatch, a truncated chunk, a corrupt or short
    /// zlib stream, an unknown filter type) or use a format this decoder does not read (not 8-bit RGB or grayscale, interlaced).
    /// </exception>
    public static RgbImage Decode(byte[] png)
    {
        ArgumentNullException.ThrowIfNull(png);
        ReadOnlySpan<byte> data = png;
        if (data.Length < PngFormat.Signature.Length || !data[..PngFormat.Signature.Length].SequenceEqual(PngFormat.Signature))
        {
            throw new InvalidDataException("Not a PNG file: the 8-byte PNG signature is missing.");
        }

        int width = 0, height = 0, bytesPerPixel = PngFormat.BytesPerPixel;
        bool seenHeader = false, seenEnd = false;
        using var idat = new MemoryStream();
        int offset = PngFormat.Signature.Length;
        while (!seenEnd)
        {
            if (data.Length - offset < 12)
            {
                throw new InvalidDataException(
                    $"Truncated PNG: a chunk starting at byte {offset} needs at least 12 bytes, but only {data.Length - offset} remain (no IEND chunk).");
            }

            uint length = BinaryPrimitives.ReadUInt32BigEndian(data[offset..]);
            ReadOnlySpan<byte> typeBytes = data.Slice(offset + 4, 4);
            string type = Encoding.ASCII.GetString(typeBytes);
            if (length > int.MaxValue || length > (uint)(data.Length - offset - 12))
            {
                throw new InvalidDataException(
                    $"Truncated PNG: chunk '{type}' at byte {offset} declares {length} data bytes, but only {Math.Max(0, data.Length - offset - 12)} remain.");
            }

            ReadOnlySpan<byte> body = data.Slice(offset + 8, (int)length);
            uint stored = BinaryPrimitives.ReadUInt32BigEndian(data[(offset + 8 + (int)length)..]);
            uint actual = PngFormat.ChunkCrc(typeBytes, body);
            if (stored != actual)
            {
                throw new InvalidDataException(
                    $"Corrupt PNG: chunk '{type}' at byte {offset} has CRC 0x{stored:X8}, but its bytes give 0x{actual:X8}.");
            }

            if (!seenHeader && type != "IHDR")
            {
                throw new InvalidDataException($"Invalid PNG: the first chunk is '{type}', not IHDR.");
            }

            switch (type)
            {
                case "IHDR":
                    if (seenHeader)
                    {
                        throw new InvalidDataException("Invalid PNG: more than one IHDR chunk.");
                    }

                    (width, height, bytesPerPixel) = ReadHeader(body);
                    seenHeader = true;
                    break;
                case "IDAT":
                    idat.Write(body);
                    break;
                case "IEND":
                    seenEnd = true;
                    break;
                case "PLTE":
                    break;
                default:
                    if (char.IsUpper(type[0]))
                    {
                        throw new InvalidDataException($"Unsupported PNG: unknown critical chunk '{type}'.");
                    }

                    break;
            }

            offset += 12 + (int)length;
        }

        if (idat.Length == 0)
        {
            throw new InvalidDataException("Invalid PNG: no IDAT chunk.");
        }

        byte[] pixels = Unfilter(Inflate(idat, width, height, bytesPerPixel), width, height, bytesPerPixel);
        if (bytesPerPixel == PngFormat.BytesPerPixel)
        {
            return new RgbImage(width, height, pixels);
        }

        var rgb = new byte[pixels.Length * 3];
        for (int i = 0; i < pixels.Length; i++)
        {
            rgb[i * 3] = rgb[(i * 3) + 1] = rgb[(i * 3) + 2] = pixels[i];
        }

        return new RgbImage(width, height, rgb, ImageMode.Grayscale);
    }

    /// <summary>Reads and decodes a PNG file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The image.</returns>
    /// <exception cref="InvalidDataException">See <see cref="Decode(byte[])"/>.</exception>
    public static RgbImage Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Decode(File.ReadAllBytes(path));
    }

    private static (int Width, int Height, int BytesPerPixel) ReadHeader(ReadOnlySpan<byte> body)
    {
        if (body.Length != 13)
        {
            throw new InvalidDataException($"Invalid PNG: IHDR has {body.Length} bytes instead of 13.");
        }

        uint width = BinaryPrimitives.ReadUInt32BigEndian(body);
        uint height = BinaryPrimitives.ReadUInt32BigEndian(body[4..]);
        if (width == 0 || height == 0 || width > int.MaxValue || height > int.MaxValue)
        {
            throw new InvalidDataException($"Invalid PNG: image size {width}x{height}.");
        }

        if ((width * 3 + 1) * (ulong)height > (ulong)Array.MaxLength)
        {
            throw new InvalidDataException($"Unsupported PNG: a {width}x{height} image is too large to decode into one array.");
        }

        byte bitDepth = body[8], colourType = body[9];
        if (bitDepth != 8 || colourType is not (PngFormat.ColourTypeRgb or PngFormat.ColourTypeGrayscale))
        {
            throw new InvalidDataException(
                $"Unsupported PNG: bit depth {bitDepth}, colour type {colourType}; only 8-bit RGB (colour type 2) and 8-bit grayscale (colour type 0) are read.");
        }

        if (body[10] != 0 || body[11] != 0)
        {
            throw new InvalidDataException($"Invalid PNG: compression method {body[10]}, filter method {body[11]} (both must be 0).");
        }

        if (body[12] != 0)
        {
            throw new InvalidDataException($"Unsupported PNG: interlace method {body[12]}; only non-interlaced images are read.");
        }

        return ((int)width, (int)height, colourType == PngFormat.ColourTypeGrayscale ? 1 : PngFormat.BytesPerPixel);
    }

    private static byte[] Inflate(MemoryStream idat, int width, int height, int bytesPerPixel)
    {
        int stride = width * bytesPerPixel;
        var raw = new byte[(stride + 1) * height];
        idat.Position = 0;
        using var zlib = new ZLibStream(idat, CompressionMode.Decompress);
        int read = 0;
        bool longer;
        try
        {
            int n;
            while (read < raw.Length && (n = zlib.Read(raw, read, raw.Length - read)) > 0)
            {
                read += n;
            }

            longer = read == raw.Length && zlib.ReadByte() >= 0;
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"Corrupt PNG: the zlib stream in IDAT cannot be inflated ({ex.Message}).", ex);
        }

        if (longer)
        {
            throw new InvalidDataException($"Invalid PNG: the image data is longer than the {raw.Length} bytes a {width}x{height} image needs.");
        }

        if (read < raw.Length)
        {
            throw new InvalidDataException($"Truncated PNG: the image data has {read} bytes, but a {width}x{height} image needs {raw.Length}.");
        }

        return raw;
    }

    private static byte[] Unfilter(byte[] raw, int width, int height, int bytesPerPixel)
    {
        int stride = width * bytesPerPixel;
        var pixels = new byte[stride * height];
        var zero = new byte[stride];
        for (int y = 0; y < height; y++)
        {
            byte filterByte = raw[y * (stride + 1)];
            if (filterByte > (byte)PngFilterType.Paeth)
            {
                throw new InvalidDataException($"Corrupt PNG: row {y} has filter type {filterByte}; only 0 to 4 exist.");
            }

            var filter = (PngFilterType)filterByte;
            ReadOnlySpan<byte> source = raw.AsSpan(y * (stride + 1) + 1, stride);
            Span<byte> row = pixels.AsSpan(y * stride, stride);
            ReadOnlySpan<byte> previous = y == 0 ? zero : pixels.AsSpan((y - 1) * stride, stride);
            PngFormat.Unfilter(filter, source, previous, row, bytesPerPixel);
        }

        return pixels;
    }
}
