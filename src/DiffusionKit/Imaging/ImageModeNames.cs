namespace DiffusionKit.Imaging;

/// <summary>
/// The one name table of <see cref="ImageMode"/>: Pillow's mode names <c>L</c> and <c>RGB</c> (as a checkpoint's
/// <c>training.image_mode</c>, the CLI's <c>--image-mode</c> and the PyTorch trainer write and read them), and the
/// mode of a channel count. Names parse case-insensitively; unknown names fail, listing the allowed ones.
/// </summary>
public static class ImageModeNames
{
    /// <summary>The name of <see cref="ImageMode.Grayscale"/>: <c>L</c> (Pillow's luminance mode).</summary>
    public const string Grayscale = "L";

    /// <summary>The name of <see cref="ImageMode.Rgb"/>: <c>RGB</c>.</summary>
    public const string Rgb = "RGB";

    /// <summary>The names users may give, for help texts and error messages: <c>L, RGB</c>.</summary>
    public static string Allowed => $"{Grayscale}, {Rgb}";

    /// <summary>The name of a mode: <c>L</c> or <c>RGB</c>.</summary>
    /// <param name="mode">The mode.</param>
    /// <returns>Its name.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="mode"/> is not a defined value.</exception>
    public static string Format(ImageMode mode) => mode switch
    {
        ImageMode.Grayscale => Grayscale,
        ImageMode.Rgb => Rgb,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, $"Not an image mode; the modes are {Allowed}."),
    };

    /// <summary>Parses <c>L</c> (also <c>grayscale</c>, <c>greyscale</c>, <c>gray</c>, <c>grey</c>) or <c>RGB</c>, ignoring case.</summary>
    /// <param name="name">The name.</param>
    /// <param name="mode">The mode when the name is known.</param>
    /// <returns>True when <paramref name="name"/> names a mode.</returns>
    public static bool TryParse(string? name, out ImageMode mode)
    {
        switch (name?.Trim().ToUpperInvariant())
        {
            case "L" or "GRAYSCALE" or "GREYSCALE" or "GRAY" or "GREY":
                mode = ImageMode.Grayscale;
                return true;
            case "RGB":
                mode = ImageMode.Rgb;
                return true;
            default:
                mode = default;
                return false;
        }
    }

    /// <summary>Parses a mode name (see <see cref="TryParse"/>).</summary>
    /// <param name="name">The name.</param>
    /// <param name="what">What the name is, for the error message (an option or a config key).</param>
    /// <returns>The mode.</returns>
    /// <exception cref="ArgumentException">When the name is not a mode's; the message names <paramref name="what"/> and the allowed names.</exception>
    public static ImageMode Parse(string? name, string what = "image mode") =>
        TryParse(name, out var mode) ? mode
            : throw new ArgumentException($"{what} is '{name}', which is not an image mode; allowed values: {Allowed} (L is 8-bit grayscale).", nameof(name));

    /// <summary>The mode of images with <paramref name="channels"/> channels: 1 is <see cref="ImageMode.Grayscale"/>, 3 is <see cref="ImageMode.Rgb"/>.</summary>
    /// <param name="channels">1 or 3.</param>
    /// <returns>The mode.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="channels"/> is neither 1 nor 3.</exception>
    public static ImageMode FromChannels(int channels) => channels switch
    {
        1 => ImageMode.Grayscale,
        3 => ImageMode.Rgb,
        _ => throw new ArgumentOutOfRangeException(nameof(channels), channels, "Only 1 (grayscale, L) or 3 (RGB) channels make images."),
    };
}
