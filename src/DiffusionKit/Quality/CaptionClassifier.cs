using System.Globalization;
using DiffusionKit.Models;
using DiffusionKit.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Quality;

/// <summary>
/// A small image classifier trained on a folder's own images, one class per distinct caption ("a photo of a bag"):
/// the judge and the feature extractor of <see cref="SampleQualityEvaluator"/>, so the quality of a model's samples can
/// be measured on the user's data without a judge trained elsewhere.
/// </summary>
/// <remarks>
/// <para>
/// It suits folders whose captions name classes: at least 2 and at most <see cref="CaptionClassifierOptions.MaxClasses"/>
/// distinct captions, each on at least <see cref="CaptionClassifierOptions.MinImagesPerClass"/> images
/// (<see cref="Unsuitable"/> says why a dataset does not). Free-text captions, one per image, name no classes.
/// </para>
/// <para>
/// Training draws <see cref="CaptionClassifierOptions.Steps"/> batches with replacement from a seeded
/// <see cref="Random"/>, initialises the weights from a seeded generator and minimises cross-entropy with Adam, in
/// float32 on the CPU; the same data and options give the same weights. The convolutions take the kernel route in force
/// (<see cref="Native.KernelRouting"/>): <see cref="SampleQualityEvaluator"/> runs the kernel check on its denoiser first.
/// </para>
/// </remarks>
public sealed class CaptionClassifier : IDisposable
{
    private readonly CaptionClassifierNetwork _network;
    private readonly Dictionary<string, int> _classOf;

    private CaptionClassifier(CaptionClassifierNetwork network, IReadOnlyList<string> classes, int imageSize, int channels, int featureSize)
    {
        _network = network;
        FeatureSize = featureSize;
        Classes = classes;
        ImageSize = imageSize;
        Channels = channels;
        _classOf = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => p.i, StringComparer.Ordinal);
    }

    /// <summary>The classes: the dataset's distinct captions, in ordinal order.</summary>
    public IReadOnlyList<string> Classes { get; }

    /// <summary>Height and width of the images it classifies.</summary>
    public int ImageSize { get; }

    /// <summary>Channels of the images it classifies.</summary>
    public int Channels { get; }

    /// <summary>Length of a row of <see cref="Features"/>.</summary>
    public int FeatureSize { get; }

    /// <summary>
    /// Why <paramref name="data"/> cannot train a classifier with <paramref name="options"/>, or null when it can.
    /// </summary>
    /// <param name="data">The images and captions.</param>
    /// <param name="options">The settings; null for the defaults.</param>
    /// <returns>A sentence naming the rule the data breaks, or null.</returns>
    public static string? Unsuitable(IImageCaptionDataset data, CaptionClassifierOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new CaptionClassifierOptions();
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < data.Count; i++)
        {
            string caption = data.GetCaption(i);
            counts[caption] = counts.GetValueOrDefault(caption) + 1;
            if (counts.Count > options.MaxClasses)
            {
                return string.Create(CultureInfo.InvariantCulture, $"the captions are not classes: more than {options.MaxClasses} distinct captions (free text names no class to judge by)");
            }
        }

        if (counts.Count < 2)
        {
            return $"the captions are not classes: {(counts.Count == 0 ? "no images" : "every image has the same caption")}, and a judge needs at least 2";
        }

        var rare = counts.Where(c => c.Value < options.MinImagesPerClass).OrderBy(c => c.Value).ToList();
        return rare.Count == 0 ? null
            : string.Create(CultureInfo.InvariantCulture, $"{rare.Count} of the {counts.Count} captions have fewer than {options.MinImagesPerClass} images (\"{rare[0].Key}\": {rare[0].Value})");
    }

    /// <summary>Trains a classifier on <paramref name="data"/> (see the remarks).</summary>
    /// <param name="data">The images and captions; their captions must name classes (<see cref="Unsuitable"/> is null).</param>
    /// <param name="options">The settings; null for the defaults.</param>
    /// <param name="cancellationToken">Stops training between steps.</param>
    /// <returns>The trained classifier, in eval mode.</returns>
    /// <exception cref="ArgumentException">When the captions are not classes (the message says why) or the images are smaller than 4×4.</exception>
    /// <exception cref="InvalidOperationException">When the loss turns non-finite (faulty CPU kernels; the message names the workarounds).</exception>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled.</exception>
    public static CaptionClassifier Train(IImageCaptionDataset data, CaptionClassifierOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new CaptionClassifierOptions();
        options.Validate();
        if (Unsuitable(data, options) is { } reason)
        {
            throw new ArgumentException($"Cannot train a caption classifier: {reason}.", nameof(data));
        }

        if (data.ImageSize < 4)
        {
            throw new ArgumentException($"The images are {data.ImageSize}x{data.ImageSize}; a caption classifier needs at least 4x4.", nameof(data));
        }

        var captions = Enumerable.Range(0, data.Count).Select(data.GetCaption).ToArray();
        var classes = captions.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
        var classOf = classes.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var network = new CaptionClassifierNetwork(data.Channels, options.Width, options.FeatureSize, classes.Length);
        try
        {
            using (var generator = new Generator((ulong)options.Seed))
            {
                WeightInitializer.Initialize(network, generator);
            }

            network.train();
            using var optimizer = optim.Adam(network.parameters(), options.LearningRate);
            var random = new Random(unchecked((int)options.Seed));
            var batch = new int[options.BatchSize];
            for (int step = 0; step < options.Steps; step++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                for (int k = 0; k < batch.Length; k++)
                {
                    batch[k] = random.Next(data.Count);
                }

                var labels = tensor(batch.Select(index => classOf[captions[index]]).ToArray());

                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = options.LearningRate * 0.5 * (1 + Math.Cos(Math.PI * step / options.Steps)); // cosine decay to 0
                }

                optimizer.zero_grad();
                var loss = nn.functional.cross_entropy(network.call(TrainingData.ReadImages(data, batch)), labels);
                double value = loss.item<float>();
                if (!double.IsFinite(value))
                {
                    throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"Training the caption classifier gave a non-finite loss at step {step + 1}: this CPU's convolution kernels are faulty. Workarounds: --threads 1, {Native.KernelRouting.PinVariable}=padded, or ONEDNN_MAX_CPU_ISA=AVX2 (docs/training.md, \"Faulty CPU kernels\")."));
                }

                loss.backward();
                optimizer.step();
            }

            network.eval();
            return new CaptionClassifier(network, classes, data.ImageSize, data.Channels, options.FeatureSize);
        }
        catch
        {
            network.Dispose();
            throw;
        }
    }

    /// <summary>The class index of <paramref name="caption"/>, or -1 when it is not one of <see cref="Classes"/>.</summary>
    /// <param name="caption">A caption.</param>
    /// <returns>The index, or -1.</returns>
    public int ClassOf(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return _classOf.TryGetValue(caption, out int index) ? index : -1;
    }

    /// <summary>The feature-layer activations of <paramref name="images"/>.</summary>
    /// <param name="images">Float32 [N, <see cref="Channels"/>, <see cref="ImageSize"/>, <see cref="ImageSize"/>] in [-1, 1].</param>
    /// <returns>Float32 [N, <see cref="FeatureSize"/>], without autograd.</returns>
    /// <exception cref="ArgumentException">When the shape does not match.</exception>
    public Tensor Features(Tensor images)
    {
        CheckImages(images);
        using var noGrad = no_grad();
        return _network.Features(images.to(ScalarType.Float32));
    }

    /// <summary>The predicted class index of each image.</summary>
    /// <param name="images">Float32 [N, <see cref="Channels"/>, <see cref="ImageSize"/>, <see cref="ImageSize"/>] in [-1, 1].</param>
    /// <returns>Int64 [N], indices into <see cref="Classes"/>.</returns>
    /// <exception cref="ArgumentException">When the shape does not match.</exception>
    public Tensor Classify(Tensor images)
    {
        CheckImages(images);
        using var noGrad = no_grad();
        return _network.call(images.to(ScalarType.Float32)).argmax(1);
    }

    /// <summary>The class probabilities of each image (softmax of the logits).</summary>
    /// <param name="images">Float32 [N, <see cref="Channels"/>, <see cref="ImageSize"/>, <see cref="ImageSize"/>] in [-1, 1].</param>
    /// <returns>Float32 [N, <see cref="Classes"/>.Count], rows summing to 1.</returns>
    /// <exception cref="ArgumentException">When the shape does not match.</exception>
    public Tensor Probabilities(Tensor images)
    {
        CheckImages(images);
        using var noGrad = no_grad();
        return nn.functional.softmax(_network.call(images.to(ScalarType.Float32)), 1);
    }

    /// <summary>Frees the network.</summary>
    public void Dispose() => _network.Dispose();

    private void CheckImages(Tensor images)
    {
        ArgumentNullException.ThrowIfNull(images);
        if (images.dim() != 4 || images.shape[1] != Channels || images.shape[2] != ImageSize || images.shape[3] != ImageSize)
        {
            throw new ArgumentException($"Expected images [N, {Channels}, {ImageSize}, {ImageSize}]; got [{string.Join(", ", images.shape)}].", nameof(images));
        }
    }
}
