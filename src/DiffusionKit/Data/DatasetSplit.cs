namespace DiffusionKit.Data;

/// <summary>
/// A data set split into a training part and a held-out validation part (for
/// <see cref="Training.TrainingValidator"/>): a small, deterministic fraction of the images, chosen by a seeded shuffle
/// and stratified by caption, so the same data set and seed always hold out the same images and every caption keeps
/// its share of the training images.
/// </summary>
/// <remarks>
/// The two parts are views of the original data set (no image is copied) and are disjoint: an image is in exactly one.
/// A view of an <see cref="IStreamingImageCaptionDataset"/> is one too (streaming, augmentation and prefetching pass
/// through). Stratification: within each caption the images are shuffled, each gets the key <c>(rank + 0.5) / size</c>
/// of its caption group, and the images with the smallest keys (ties in seeded random order) are held out, so a caption
/// with many images gives about <c>fraction</c> of them and a caption with one image is held out only when needed.
/// </remarks>
public sealed class DatasetSplit
{
    /// <summary>The most images <see cref="Create"/> holds out by default: 500.</summary>
    public const int DefaultMaxValidationImages = 500;

    private DatasetSplit(IImageCaptionDataset source, int[] training, int[] validation)
    {
        Source = source;
        TrainingIndices = training;
        ValidationIndices = validation;
        Training = Subset.Of(source, training);
        Validation = Subset.Of(source, validation);
    }

    /// <summary>The data set that was split.</summary>
    public IImageCaptionDataset Source { get; }

    /// <summary>The images to train on, in the source's order.</summary>
    public IImageCaptionDataset Training { get; }

    /// <summary>The held-out images, in the source's order (empty when the fraction is 0).</summary>
    public IImageCaptionDataset Validation { get; }

    /// <summary>The source indices of <see cref="Training"/>, ascending.</summary>
    public IReadOnlyList<int> TrainingIndices { get; }

    /// <summary>The source indices of <see cref="Validation"/>, ascending.</summary>
    public IReadOnlyList<int> ValidationIndices { get; }

    /// <summary>
    /// Holds out <c>round(fraction · Count)</c> images, at least 1 (when <paramref name="fraction"/> &gt; 0) and at most
    /// <paramref name="maxValidationImages"/>, always leaving at least one to train on.
    /// </summary>
    /// <param name="dataset">The data set to split.</param>
    /// <param name="fraction">The fraction to hold out, in [0, 1); 0 holds out nothing.</param>
    /// <param name="seed">Seed of the shuffle: the same data set (captions in the same order) and seed give the same split.</param>
    /// <param name="maxValidationImages">The cap on held-out images; at least 1. Default <see cref="DefaultMaxValidationImages"/>.</param>
    /// <returns>The split.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="fraction"/> is outside [0, 1) or the cap is below 1.</exception>
    /// <exception cref="ArgumentException">When the fraction is positive but the data set has fewer than 2 images.</exception>
    public static DatasetSplit Create(IImageCaptionDataset dataset, double fraction, long seed, int maxValidationImages = DefaultMaxValidationImages)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        if (!(fraction >= 0 && fraction < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "The validation fraction must lie in [0, 1); 0 holds out nothing.");
        }

        ArgumentOutOfRangeException.ThrowIfLessThan(maxValidationImages, 1);
        int n = dataset.Count;
        if (fraction == 0)
        {
            return new DatasetSplit(dataset, Enumerable.Range(0, n).ToArray(), Array.Empty<int>());
        }

        if (n < 2)
        {
            throw new ArgumentException($"A validation split needs at least 2 images (one to train on, one to hold out); the data set has {n}.", nameof(dataset));
        }

        int count = Math.Clamp((int)Math.Round(fraction * n, MidpointRounding.AwayFromZero), 1, Math.Min(maxValidationImages, n - 1));

        // System.Random with an explicit seed is the same sequence on every platform and .NET version.
        var random = new Random(unchecked((int)seed ^ (int)(seed >> 32) ^ 0x5EED_5917));
        var keys = new double[n];
        var ties = new double[n];
        foreach (var group in Enumerable.Range(0, n).GroupBy(dataset.GetCaption, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            int[] members = group.ToArray();
            random.Shuffle(members);
            for (int rank = 0; rank < members.Length; rank++)
            {
                keys[members[rank]] = (rank + 0.5) / members.Length;
            }
        }

        for (int i = 0; i < n; i++)
        {
            ties[i] = random.NextDouble();
        }

        var held = Enumerable.Range(0, n).OrderBy(i => keys[i]).ThenBy(i => ties[i]).ThenBy(i => i).Take(count).Order().ToArray();
        var isHeld = new bool[n];
        foreach (int i in held)
        {
            isHeld[i] = true;
        }

        return new DatasetSplit(dataset, Enumerable.Range(0, n).Where(i => !isHeld[i]).ToArray(), held);
    }

    /// <summary>A view of some of a data set's images.</summary>
    private class Subset(IImageCaptionDataset inner, int[] indices) : IImageCaptionDataset
    {
        public static IImageCaptionDataset Of(IImageCaptionDataset inner, int[] indices) =>
            inner is IStreamingImageCaptionDataset streaming ? new StreamingSubset(streaming, indices) : new Subset(inner, indices);

        public int Count => indices.Length;

        public int ImageSize => inner.ImageSize;

        public int Channels => inner.Channels;

        protected int Source(int index) => (uint)index < (uint)indices.Length
            ? indices[index]
            : throw new ArgumentOutOfRangeException(nameof(index), index, $"The index must lie in 0..{indices.Length - 1}.");

        public string GetCaption(int index) => inner.GetCaption(Source(index));

        public void CopyImage(int index, Span<byte> destination) => inner.CopyImage(Source(index), destination);
    }

    /// <summary>A view of a streaming data set: streaming, augmentation and prefetching pass through.</summary>
    private sealed class StreamingSubset : Subset, IStreamingImageCaptionDataset
    {
        private readonly IStreamingImageCaptionDataset _streaming;

        public StreamingSubset(IStreamingImageCaptionDataset streaming, int[] rows)
            : base(streaming, rows)
        {
            _streaming = streaming;
        }

        public bool ReadPerBatch => _streaming.ReadPerBatch;

        public bool Augments => _streaming.Augments;

        public void CopyAugmentedImage(int index, Span<byte> destination, int seed) => _streaming.CopyAugmentedImage(Source(index), destination, seed);

        public void Prefetch(IReadOnlyList<int> indices) => _streaming.Prefetch(indices.Select(Source).ToArray());
    }
}
