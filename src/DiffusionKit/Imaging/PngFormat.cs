namespace DiffusionKit.Imaging;

/// <summary>
/// The parts of the PNG format (PNG specification, third edition) that 8-bit RGB and grayscale images use: the file signature, the
/// header constants, the chunk CRC and the five scanline filters. <see cref="PngEncoder"/> writes with them and the demo
/// package's PNG decoder reads with them; they are public for other readers and writers of such files.
/// </summary>
/// <remarks>Thread-safe: no state.</remarks>
public static class PngFormat
{
    /// <summary>Bytes per pixel of 8-bit RGB (colour type 2): the distance of the filters' "left" byte.</summary>
    public const int BytesPerPixel = 3;

    /// <summary>Colour type 2: truecolour without alpha.</summary>
    public const byte ColourTypeRgb = 2;

    /// <summary>Colour type 0: grayscale without alpha (one byte per pixel at bit depth 8).</summary>
    public const byte ColourTypeGrayscale = 0;

    /// <summary>Colour type 4: grayscale with alpha.</summary>
    public const byte ColourTypeGrayscaleAlpha = 4;

    /// <summary>The colour type byte's offset in a PNG file: signature (8), IHDR length and type (8), width, height (8), bit depth (1).</summary>
    public const int ColourTypeOffset = 25;

    /// <summary>The length of a chunk type (four ASCII letters, such as <c>IHDR</c>).</summary>
    public const int ChunkTypeLength = 4;

    /// <summary>The eight bytes every PNG file starts with (137 80 78 71 13 10 26 10).</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>
    /// The CRC stored after a chunk's data: the CRC-32 of ISO 3309 / ITU-T V.42 (reflected polynomial 0xEDB88320) over
    /// the chunk type and the data, not the length (PNG specification, section 5.3).
    /// </summary>
    /// <param name="chunkType">The chunk type's four bytes, such as the ASCII of <c>IDAT</c>.</param>
    /// <param name="data">The chunk's data (may be empty).</param>
    /// <returns>The CRC, to be written big-endian after the data.</returns>
    /// <exception cref="ArgumentException">When <paramref name="chunkType"/> does not hold exactly four bytes.</exception>
    public static uint ChunkCrc(ReadOnlySpan<byte> chunkType, ReadOnlySpan<byte> data)
    {
        if (chunkType.Length != ChunkTypeLength)
        {
            throw new ArgumentException(
                $"{nameof(chunkType)} holds {chunkType.Length} bytes; a PNG chunk type is exactly {ChunkTypeLength} (such as \"IDAT\").",
                nameof(chunkType));
        }

        return Crc32.Append(Crc32.Compute(chunkType), data);
    }

    /// <summary>
    /// Filters one scanline of 8-bit RGB pixels for writing (PNG specification, section 9.2): each byte minus the
    /// filter's prediction from the byte one pixel to the left, the byte above and the byte above-left.
    /// </summary>
    /// <param name="filter">The filter type.</param>
    /// <param name="row">The raw row: width × <see cref="BytesPerPixel"/> bytes.</param>
    /// <param name="previous">The raw row above, as long as <paramref name="row"/>; all zero for the first row.</param>
    /// <param name="destination">Receives the filtered bytes (without the filter-type byte); as long as <paramref name="row"/> and overlapping neither input.</param>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="filter"/> is not one of the five filter types.</exception>
    /// <param name="bytesPerPixel">Bytes per pixel: <see cref="BytesPerPixel"/> (3) for 8-bit RGB, 1 for 8-bit grayscale (colour type 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="bytesPerPixel"/> is not 1 or 3.</exception>
    /// <exception cref="ArgumentException">When the lengths differ, <paramref name="row"/> is not a whole number of pixels, or <paramref name="destination"/> overlaps an input.</exception>
    public static void Filter(PngFilterType filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, Span<byte> destination, int bytesPerPixel = BytesPerPixel)
    {
        CheckRow(filter, row, nameof(row), previous, destination, bytesPerPixel);
        for (int i = 0; i < row.Length; i++)
        {
            destination[i] = (byte)(row[i] - Predict(filter, row, previous, i, bytesPerPixel));
        }
    }

    /// <summary>
    /// Reverses <see cref="Filter"/> for one scanline when reading: each byte plus the filter's prediction from the
    /// already reconstructed bytes to the left, above and above-left.
    /// </summary>
    /// <param name="filter">The row's filter type.</param>
    /// <param name="filtered">The filtered row as stored (without the filter-type byte): width × <see cref="BytesPerPixel"/> bytes.</param>
    /// <param name="previous">The reconstructed row above, as long as <paramref name="filtered"/>; all zero for the first row.</param>
    /// <param name="destination">Receives the raw row; as long as <paramref name="filtered"/> and overlapping neither input.</param>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="filter"/> is not one of the five filter types.</exception>
    /// <param name="bytesPerPixel">Bytes per pixel: <see cref="BytesPerPixel"/> (3) for 8-bit RGB, 1 for 8-bit grayscale (colour type 0).</param>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="bytesPerPixel"/> is not 1 or 3.</exception>
    /// <exception cref="ArgumentException">When the lengths differ, <paramref name="filtered"/> is not a whole number of pixels, or <paramref name="destination"/> overlaps an input.</exception>
    public static void Unfilter(PngFilterType filter, ReadOnlySpan<byte> filtered, ReadOnlySpan<byte> previous, Span<byte> destination, int bytesPerPixel = BytesPerPixel)
    {
        CheckRow(filter, filtered, nameof(filtered), previous, destination, bytesPerPixel);
        for (int i = 0; i < filtered.Length; i++)
        {
            destination[i] = (byte)(filtered[i] + Predict(filter, destination, previous, i, bytesPerPixel));
        }
    }

    /// <summary>The Paeth predictor (PNG specification, section 9.4).</summary>
    /// <param name="a">The byte to the left.</param>
    /// <param name="b">The byte above.</param>
    /// <param name="c">The byte above and to the left.</param>
    /// <returns>Whichever of a, b, c is closest to a + b - c, ties broken in that order.</returns>
    internal static byte Paeth(byte a, byte b, byte c)
    {
        int p = a + b - c;
        int pa = Math.Abs(p - a);
        int pb = Math.Abs(p - b);
        int pc = Math.Abs(p - c);
        if (pa <= pb && pa <= pc)
        {
            return a;
        }

        return pb <= pc ? b : c;
    }

    /// <summary>The predictor of byte <paramref name="i"/> for a filter type, from the raw bytes of this row before it and of the row above, <paramref name="bytesPerPixel"/> being the distance of "left".</summary>
    private static byte Predict(PngFilterType filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, int i, int bytesPerPixel)
    {
        byte left = i >= bytesPerPixel ? row[i - bytesPerPixel] : (byte)0;
        byte up = previous[i];
        byte upLeft = i >= bytesPerPixel ? previous[i - bytesPerPixel] : (byte)0;
        return filter switch
        {
            PngFilterType.None => 0,
            PngFilterType.Sub => left,
            PngFilterType.Up => up,
            PngFilterType.Average => (byte)((left + up) >> 1),
            _ => Paeth(left, up, upLeft),
        };
    }

    private static void CheckRow(PngFilterType filter, ReadOnlySpan<byte> row, string rowName, ReadOnlySpan<byte> previous, ReadOnlySpan<byte> destination, int bytesPerPixel)
    {
        if (bytesPerPixel is not (1 or BytesPerPixel))
        {
            throw new ArgumentOutOfRangeException(nameof(bytesPerPixel), bytesPerPixel, $"{nameof(bytesPerPixel)} must be 1 (8-bit grayscale) or {BytesPerPixel} (8-bit RGB).");
        }

        if (filter is < PngFilterType.None or > PngFilterType.Paeth)
        {
            throw new ArgumentOutOfRangeException(nameof(filter), filter, $"{nameof(filter)} must be a PNG filter type 0..4 (None, Sub, Up, Average, Paeth).");
        }

        if (row.Length % bytesPerPixel != 0)
        {
            throw new ArgumentException(
                $"{rowName} holds {row.Length} bytes, not a whole number of {bytesPerPixel}-byte pixels.", rowName);
        }

        if (previous.Length != row.Length)
        {
            throw new ArgumentException(
                $"{nameof(previous)} holds {previous.Length} bytes but {rowName} holds {row.Length}; pass the row above (all zero for the first row) of the same length.",
                nameof(previous));
        }

        if (destination.Length != row.Length)
        {
            throw new ArgumentException(
                $"{nameof(destination)} holds {destination.Length} bytes but {rowName} holds {row.Length}; pass a span of the same length.",
                nameof(destination));
        }

        if (destination.Overlaps(row) || destination.Overlaps(previous))
        {
            throw new ArgumentException(
                $"{nameof(destination)} overlaps {(destination.Overlaps(row) ? rowName : nameof(previous))}; pass a separate buffer.",
                nameof(destination));
        }
    }
}
