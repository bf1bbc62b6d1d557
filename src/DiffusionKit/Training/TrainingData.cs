using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// A data set held as tensors: images in [-1, 1] as float32 [N, C, H, W], the captions, and (for a frozen encoder) the
/// encoded captions [N, ContextSize].
/// </summary>
internal sealed class TrainingData : IDisposable
{
    private TrainingData(Tensor images, string[] captions, Tensor? contexts)
    {
        Images = images;
        Captions = captions;
        Contexts = contexts;
    }

    public Tensor Images { get; }

    /// <summary>Caption of each image, in image order.</summary>
    public string[] Captions { get; }

    /// <summary>Encoded captions, or null when the encoder is trained with the model and encodes each batch itself.</summary>
    public Tensor? Contexts { get; }

    public long Count => Images.shape[0];

    /// <summary>Converts the data set (HWC bytes) and, when <paramref name="encodeContexts"/>, encodes each distinct caption once.</summary>
    public static TrainingData Load(IImageCaptionDataset dataset, ITextEncoder encoder, bool encodeContexts = true)
    {
        int n = dataset.Count;
        int size = dataset.ImageSize;
        int channels = dataset.Channels;
        int pixels = size * size * channels;
        var bytes = new byte[(long)n * pixels];
        var captions = new string[n];
        for (int i = 0; i < n; i++)
        {
            dataset.CopyImage(i, bytes.AsSpan(i * pixels, pixels));
            captions[i] = dataset.GetCaption(i);
        }

        using var scope = NewDisposeScope();
        var images = tensor(bytes, new long[] { n, size, size, channels }, ScalarType.Byte)
            .permute(0, 3, 1, 2).to(ScalarType.Float32).div(127.5).sub(1).contiguous();
        if (!encodeContexts)
        {
            return new TrainingData(images.MoveToOuterDisposeScope(), captions, null);
        }

        var distinct = captions.Distinct(StringComparer.Ordinal).ToList();
        var row = distinct.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var encoded = encoder.Encode(distinct).to(ScalarType.Float32);
        if (encoded.dim() != 2 || encoded.shape[0] != distinct.Count || encoded.shape[1] != encoder.ContextSize)
        {
            throw new InvalidOperationException($"The text encoder returned shape [{string.Join(", ", encoded.shape)}] for {distinct.Count} prompts; expected [{distinct.Count}, {encoder.ContextSize}].");
        }

        var contexts = encoded.index_select(0, tensor(captions.Select(c => row[c]).ToArray())).contiguous();
        return new TrainingData(images.MoveToOuterDisposeScope(), captions, contexts.MoveToOuterDisposeScope());
    }

    public void Dispose()
    {
        Images.Dispose();
        Contexts?.Dispose();
    }
}
