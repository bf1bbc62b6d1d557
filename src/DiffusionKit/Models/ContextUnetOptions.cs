namespace DiffusionKit.Models;

/// <summary>Size settings of a <see cref="ContextUnet"/>; the defaults are the course's sprite configuration.</summary>
/// <remarks>
/// The names map to the course's constructor arguments: <see cref="InChannels"/> is <c>in_channels</c>,
/// <see cref="Features"/> is <c>n_feat</c>, <see cref="ContextSize"/> is <c>n_cfeat</c> and
/// <see cref="ImageSize"/> is <c>height</c>.
/// </remarks>
public sealed class ContextUnetOptions
{
    /// <summary>Image channels (<c>in_channels</c>). Default 3 (RGB). Must be at least 1.</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>
    /// Base feature width (<c>n_feat</c>). Default 64. Must be a positive multiple of 8, because the network's
    /// GroupNorm layers use 8 groups over <c>Features</c> and <c>2 × Features</c> channels.
    /// </summary>
    public int Features { get; init; } = 64;

    /// <summary>Length of the context vector (<c>n_cfeat</c>). Default 5 (the course's sprite labels). Must be at least 1.</summary>
    public int ContextSize { get; init; } = 5;

    /// <summary>Image height and width in pixels (<c>height</c>). Default 16. Must be a multiple of 4 and at least 8.</summary>
    public int ImageSize { get; init; } = 16;

    /// <summary>Checks every option and throws when one is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it and the allowed values.</exception>
    public void Validate()
    {
        if (InChannels < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(InChannels), InChannels, "InChannels must be at least 1 (3 for RGB images).");
        }

        if (Features < 8 || Features % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Features), Features, "Features must be a positive multiple of 8 (8, 16, ..., 64 is the course's value), because GroupNorm uses 8 groups.");
        }

        if (ContextSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ContextSize), ContextSize, "ContextSize must be at least 1 (5 for the course's sprite labels).");
        }

        if (ImageSize < 8 || ImageSize % 4 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, "ImageSize must be a multiple of 4 and at least 8 (for example 16, 32 or 64), because the U-Net halves the image twice.");
        }
    }
}
