namespace DiffusionKit.Data;

/// <summary>
/// A data set that is best read batch by batch rather than loaded whole: it may stream images from disk (so a trainer
/// must not copy all of them into one tensor) and may apply random augmentation on every read.
/// <see cref="Training.DiffusionTrainer"/> reads such a data set per batch, hinting the next batch with
/// <see cref="Prefetch"/>.
/// </summary>
/// <remarks>Implementations are safe to read from several threads.</remarks>
public interface IStreamingImageCaptionDataset : IImageCaptionDataset
{
    /// <summary>True when a trainer should read per batch (streaming, or augmentation on); false when loading it whole is fine.</summary>
    bool ReadPerBatch { get; }

    /// <summary>True when <see cref="CopyAugmentedImage"/> applies random augmentation (otherwise it equals CopyImage and a trainer need not draw seeds).</summary>
    bool Augments { get; }

    /// <summary>Copies image <paramref name="index"/>, augmented with randomness from <paramref name="seed"/> (the same seed gives the same pixels).</summary>
    /// <param name="index">0..Count-1.</param>
    /// <param name="destination">At least ImageSize·ImageSize·Channels bytes.</param>
    /// <param name="seed">Seed of this read's augmentation.</param>
    void CopyAugmentedImage(int index, Span<byte> destination, int seed);

    /// <summary>Hints that these images will be read soon; a streaming implementation starts decoding them in the background.</summary>
    /// <param name="indices">Indices in 0..Count-1.</param>
    void Prefetch(IReadOnlyList<int> indices);
}
