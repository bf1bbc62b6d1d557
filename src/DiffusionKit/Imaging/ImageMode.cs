namespace DiffusionKit.Imaging;

/// <summary>
/// The colour mode of images: what a folder's images are trained as, what a model's samples are written as. The
/// value is the number of channels (a model's <c>in_channels</c>), and the names in files and on the command line are
/// Pillow's: <c>L</c> and <c>RGB</c> (<see cref="ImageModeNames"/>).
/// </summary>
public enum ImageMode
{
    /// <summary>8-bit grayscale, one channel (<c>L</c>); PNGs are written with colour type 0.</summary>
    Grayscale = 1,

    /// <summary>8-bit RGB, three channels (<c>RGB</c>); PNGs are written with colour type 2.</summary>
    Rgb = 3,
}
