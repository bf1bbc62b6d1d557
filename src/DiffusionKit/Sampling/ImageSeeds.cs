namespace DiffusionKit.Sampling;

/// <summary>
/// The one rule that gives every image its own seed: image k of a call or request with seed s is sampled from seed
/// <c>s + k</c> (k = prompt index · images per prompt + image index). The pipeline, the library's
/// <see cref="DiffusionSampler"/> and the training samples all number images this way, so an image is reproducible from
/// its seed through any of them.
/// </summary>
internal static class ImageSeeds
{
    /// <summary>Image <paramref name="image"/>'s seed under <paramref name="seed"/> (wraps around at the ends of <see cref="long"/>).</summary>
    public static long Of(long seed, int image) => unchecked(seed + image);

    /// <summary>The seeds of images <paramref name="first"/> .. <paramref name="first"/> + <paramref name="count"/> - 1.</summary>
    public static long[] Range(long seed, int first, int count)
    {
        var seeds = new long[count];
        for (int k = 0; k < count; k++)
        {
            seeds[k] = Of(seed, first + k);
        }

        return seeds;
    }
}
