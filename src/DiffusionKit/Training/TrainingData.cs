using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// A data set held as tensors: images in [-1, 1] as float32 [N, C, H, W], the captions, and (for a frozen encoder) the
/// encoded captions [N, ContextSize]. A <see cref="Data.IStreamingImageCaptionDataset"/> that asks to be read per batch
/// (streaming or augmenting) is not loaded whole: <see cref="Batch"/> reads each batch from it.
/// </summary>
internal sealed class TrainingData : IDisposable
{
    private readonly Data.IStreamingImageCaptionDataset? _perBatch;

    private TrainingData(Tensor? images, string[] captions, Tensor? contexts, Data.IStreamingImageCaptionDataset? perBatch)
    {
        Images = images;
        Captions = captions;
        Contexts = contexts;
        _perBatch = perBatch;
    }

    /// <summary>All images, or null when the data set is read per batch.</summary>
    public Tensor? Images { get; }

    /// <summary>Caption of each image, in image order.</summary>
    public string[] Captions { get; }

    /// <summary>Encoded captions, or null when the encoder is trained with the model and encodes each batch itself.</summary>
    public Tensor? Contexts { get; }

    public long Count => Captions.Length;

    /// <summary>
    /// The images at <paramref name="index"/> as float32 [B, C, H, W] in [-1, 1] on the CPU. A per-batch data set is
    /// read now (augmented with a seed drawn from <paramref name="generator"/> when it augments) and told to prefetch
    /// <paramref name="next"/>; a loaded one is indexed without touching the generator.
    /// </summary>
    public Tensor Batch(Tensor index, Generator generator, Tensor? next)
    {
        if (_perBatch is null)
        {
            return Images!.index_select(0, index);
        }

        long[] rows = index.data<long>().ToArray();
        int size = _perBatch.ImageSize;
        int channels = _perBatch.Channels;
        int pixels = size * size * channels;
        var bytes = new byte[rows.Length * pixels];
        bool augment = _perBatch.Augments;
        int batchSeed = augment ? (int)randint(int.MaxValue, new long[] { 1 }, ScalarType.Int64, generator: generator).item<long>() : 0;
        for (int i = 0; i < rows.Length; i++)
        {
            var destination = bytes.AsSpan(i * pixels, pixels);
            if (augment)
            {
                _perBatch.CopyAugmentedImage((int)rows[i], destination, unchecked(batchSeed + (i * 7919)));
            }
            else
            {
                _perBatch.CopyImage((int)rows[i], destination);
            }
        }

        if (next is not null)
        {
            _perBatch.Prefetch(next.data<long>().Select(r => (int)r).ToArray());
        }

        return ToImages(bytes, rows.Length, size, channels);
    }

    /// <summary>Converts the data set (HWC bytes) and, when <paramref name="encodeContexts"/>, encodes each distinct caption once.</summary>
    public static TrainingData Load(IImageCaptionDataset dataset, ITextEncoder encoder, bool encodeContexts = true)
    {
        int n = dataset.Count;
        int size = dataset.ImageSize;
        int channels = dataset.Channels;
        int pixels = size * size * channels;
        var perBatch = dataset as Data.IStreamingImageCaptionDataset is { ReadPerBatch: true } streaming ? streaming : null;
        var bytes = perBatch is null ? new byte[(long)n * pixels] : null;
        var captions = new string[n];
        for (int i = 0; i < n; i++)
        {
            if (bytes is not null)
            {
                dataset.CopyImage(i, bytes.AsSpan(i * pixels, pixels));
            }

            captions[i] = dataset.GetCaption(i);
        }

        using var scope = NewDisposeScope();
        var images = bytes is null ? null : ToImages(bytes, n, size, channels);
        if (!encodeContexts)
        {
            return new TrainingData(images?.MoveToOuterDisposeScope(), captions, null, perBatch);
        }

        var distinct = captions.Distinct(StringComparer.Ordinal).ToList();
        var row = distinct.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var encoded = encoder.Encode(distinct).to(ScalarType.Float32);
        if (encoded.dim() != 2 || encoded.shape[0] != distinct.Count || encoded.shape[1] != encoder.ContextSize)
        {
            throw new InvalidOperationException($"The text encoder returned shape [{string.Join(", ", encoded.shape)}] for {distinct.Count} prompts; expected [{distinct.Count}, {encoder.ContextSize}].");
        }

        var contexts = encoded.index_select(0, tensor(captions.Select(c => row[c]).ToArray())).contiguous();
        return new TrainingData(images?.MoveToOuterDisposeScope(), captions, contexts.MoveToOuterDisposeScope(), perBatch);
    }

    public void Dispose()
    {
        Images?.Dispose();
        Contexts?.Dispose();
    }

    /// <summary>Images <paramref name="indices"/> of <paramref name="dataset"/> as float32 [N, C, H, W] in [-1, 1].</summary>
    internal static Tensor ReadImages(IImageCaptionDataset dataset, IReadOnlyList<int> indices)
    {
        int pixels = dataset.ImageSize * dataset.ImageSize * dataset.Channels;
        var bytes = new byte[(long)indices.Count * pixels];
        for (int k = 0; k < indices.Count; k++)
        {
            dataset.CopyImage(indices[k], bytes.AsSpan(k * pixels, pixels));
        }

        return ToImages(bytes, indices.Count, dataset.ImageSize, dataset.Channels);
    }

    /// <summary>HWC bytes → float32 [N, C, H, W] in [-1, 1].</summary>
    internal static Tensor ToImages(byte[] bytes, long n, int size, int channels) =>
        tensor(bytes, new long[] { n, size, size, channels }, ScalarType.Byte)
            .permute(0, 3, 1, 2).to(ScalarType.Float32).div(127.5).sub(1).contiguous();
}
