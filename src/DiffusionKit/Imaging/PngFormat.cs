namespace DiffusionKit.Imaging;

/// <summary>Constants and the filter arithmetic shared by <see cref="PngEncoder"/> and the PNG decoder of DiffusionKit.Demo.</summary>
internal static class PngFormat
{
    /// <summary>The eight bytes every PNG file starts with.</summary>
    public static ReadOnlySpan<byte> Signature => [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    /// <summary>Bytes per pixel of 8-bit RGB (colour type 2): the filter distance.</summary>
    public const int BytesPerPixel = 3;

    /// <summary>Colour type 2: truecolour without alpha.</summary>
    public const byte ColourTypeRgb = 2;

    /// <summary>Colour type 0: grayscale without alpha (one byte per pixel at bit depth 8).</summary>
    public const byte ColourTypeGrayscale = 0;

    /// <summary>Colour type 4: grayscale with alpha.</summary>
    public const byte ColourTypeGrayscaleAlpha = 4;

    /// <summary>The colour type byte's offset in a PNG file: signature (8), IHDR length and type (8), width, height (8), bit depth (1).</summary>
    public const int ColourTypeOffset = 25;

    /// <summary>The Paeth predictor (PNG specification, section 9.4).</summary>
    /// <param name="a">The byte to the left.</param>
    /// <param name="b">The byte above.</param>
    /// <param name="c">The byte above and to the left.</param>
    /// <returns>Whichever of a, b, c is closest to a + b - c, ties broken in that order.</returns>
    public static byte Paeth(byte a, byte b, byte c)
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

    /// <summary>The predictor of one byte for a filter type.</summary>
    /// <param name="filter">The filter.</param>
    /// <param name="row">The raw (unfiltered) current row.</param>
    /// <param name="previous">The raw previous row (all zero for the first row).</param>
    /// <param name="i">The byte index in the row.</param>
    /// <param name="bytesPerPixel">The filter distance: 3 for 8-bit RGB, 1 for 8-bit grayscale.</param>
    /// <returns>The value the filter subtracts from (encoding) or adds to (decoding) byte <paramref name="i"/>.</returns>
    public static byte Predict(PngFilterType filter, ReadOnlySpan<byte> row, ReadOnlySpan<byte> previous, int i, int bytesPerPixel = BytesPerPixel)
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
            PngFilterType.Paeth => Paeth(left, up, upLeft),
            _ => throw new ArgumentOutOfRangeException(nameof(filter), filter, "Not a PNG filter type."),
        };
    }
}
