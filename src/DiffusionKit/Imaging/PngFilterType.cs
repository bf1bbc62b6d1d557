namespace DiffusionKit.Imaging;

/// <summary>The five PNG scanline filters (PNG specification, section 9.2), as written in each row's filter byte; see <see cref="PngFormat.Filter"/> and <see cref="PngFormat.Unfilter"/>.</summary>
public enum PngFilterType : byte
{
    /// <summary>The row is stored as is.</summary>
    None = 0,

    /// <summary>Each byte minus the byte one pixel to the left.</summary>
    Sub = 1,

    /// <summary>Each byte minus the byte above.</summary>
    Up = 2,

    /// <summary>Each byte minus the floor of the mean of left and above.</summary>
    Average = 3,

    /// <summary>Each byte minus the Paeth predictor of left, above and upper-left.</summary>
    Paeth = 4,
}
