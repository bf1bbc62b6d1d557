namespace DiffusionKit.Models;

/// <summary>Size settings of an <see cref="AttentionUnet"/>.</summary>
/// <remarks>
/// The names and <c>config.json</c> fields are the context U-Net's (<c>in_channels</c>, <c>n_feat</c>, <c>n_cfeat</c>,
/// <c>height</c>), so a folder trains either network from the same options. The rest of the architecture follows from
/// them (see <see cref="AttentionUnet"/>).
/// </remarks>
public sealed class AttentionUnetOptions
{
    /// <summary>The GroupNorm group count of every normalisation layer: 8.</summary>
    internal const int NormGroups = 8;

    /// <summary>The width of one attention head: 32 (when 2 × Features is not a multiple of it, one head spans the width).</summary>
    internal const int HeadWidth = 32;

    /// <summary>The caption tokens the context vector is projected to for cross-attention: 4.</summary>
    internal const int ContextTokens = 4;

    /// <summary>
    /// The largest feature-map side that gets self- and cross-attention: 8. Attention's cost grows with the square of the
    /// pixel count; at 14×14 it took most of a training step on 2-core CPUs (docs/training.md, "The attention U-Net").
    /// </summary>
    internal const int MaxAttentionSide = 8;

    /// <summary>Image channels (<c>in_channels</c>). Default 3 (RGB). Must be at least 1.</summary>
    public int InChannels { get; init; } = 3;

    /// <summary>
    /// Base feature width (<c>n_feat</c>): the first level has this many channels, the two lower levels twice as many.
    /// Default 32. Must be a positive multiple of 8 (GroupNorm uses 8 groups).
    /// </summary>
    public int Features { get; init; } = 32;

    /// <summary>Length of the context vector (<c>n_cfeat</c>). Default 5. Must be at least 1.</summary>
    public int ContextSize { get; init; } = 5;

    /// <summary>Image height and width in pixels (<c>height</c>). Default 28. Must be a multiple of 4 and at least 8.</summary>
    public int ImageSize { get; init; } = 28;

    /// <summary>The attention heads of every attention layer: 2 × Features / 32, or 1 when that is not a whole number.</summary>
    internal int Heads => 2 * Features % HeadWidth == 0 ? 2 * Features / HeadWidth : 1;

    /// <summary>Whether the half-resolution level (ImageSize / 2) has attention stages: when its side is at most 8.</summary>
    public bool AttendsAtHalf => ImageSize / 2 <= MaxAttentionSide;

    /// <summary>Whether the quarter-resolution level (ImageSize / 4) has attention stages: when its side is at most 8 (the middle level always has one).</summary>
    public bool AttendsAtQuarter => ImageSize / 4 <= MaxAttentionSide;

    /// <summary>Checks every option and throws when one is out of range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range; the exception names it and the allowed values.</exception>
    public void Validate()
    {
        if (InChannels < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(InChannels), InChannels, "InChannels must be at least 1 (1 for grayscale, 3 for RGB images).");
        }

        if (Features < 8 || Features % 8 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Features), Features, "Features must be a positive multiple of 8 (16, 32, 64 ...), because GroupNorm uses 8 groups.");
        }

        if (ContextSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ContextSize), ContextSize, "ContextSize must be at least 1 (the text encoder's context length).");
        }

        if (ImageSize < 8 || ImageSize % 4 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(ImageSize), ImageSize, "ImageSize must be a multiple of 4 and at least 8 (for example 16, 28, 32 or 64), because the U-Net halves the image twice.");
        }
    }
}
