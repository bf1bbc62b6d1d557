namespace DiffusionKit.Demo.Imaging;

/// <summary>How <see cref="GifAnimation"/> reduces colours to a GIF palette (at most 256 colours).</summary>
public enum GifPaletteMode
{
    /// <summary>
    /// One fixed global palette of 6 x 7 x 6 = 252 evenly spaced levels of red, green and blue (green gets the extra
    /// level because the eye is most sensitive to it); each channel is rounded to its nearest level. Fast, the same
    /// for every frame (no flicker), at most about 21 levels of error per channel.
    /// </summary>
    Uniform,

    /// <summary>One global palette of up to 256 colours chosen by median cut over the pixels of all frames.</summary>
    MedianCutGlobal,

    /// <summary>A local palette of up to 256 colours per frame, chosen by median cut over that frame's pixels.</summary>
    MedianCutPerFrame,
}
