using DiffusionKit.Models;
using DiffusionKit.Native;
using DiffusionKit.Pipeline;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;
using static TorchSharp.torch;

namespace DiffusionKit.Quality;

/// <summary>
/// Measures how good a model's samples are against a validation split of the user's own folder, with a judge trained on
/// the folder's training images (<see cref="CaptionClassifier"/>): the fraction of samples the judge assigns to their
/// caption, and the Fréchet distance between the samples' and the validation images' features (an FID-style score
/// whose feature extractor is that judge), and the judge's mean probability of the prompted caption. Used to choose a checkpoint's guidance (<see cref="GuidanceSelection"/>) and
/// to follow quality during training.
/// </summary>
/// <remarks>
/// <para>
/// Each measurement samples <c>imagesPerCaption</c> images for each of <see cref="Captions"/> (the validation split's
/// distinct captions) in one batch, with the pipeline's default sampler and fixed seeds (image i of caption p from
/// <c>seed + p·imagesPerCaption + i</c>, as a <see cref="GenerationRequest"/> of all the captions numbers them), rounds
/// them to 8 bits as a PNG would, and compares them with every validation image. Fixed seeds make measurements of
/// different checkpoints and guidance weights comparable. <see cref="RealDistance"/> is the same distance for as many
/// real training images, drawn per caption: the value a perfect model would show at this sample count.
/// </para>
/// <para>Not thread-safe. Everything runs in float32 on the CPU, each measurement in its own dispose scope.</para>
/// </remarks>
public sealed class SampleQualityEvaluator : IDisposable
{
    private readonly SchedulerOptions _scheduler;
    private readonly SnapshotModel _copy;
    private readonly Tensor _validationFeatures;
    private readonly int _perCaption;
    private readonly long _seed;

    /// <summary>Trains the judge on <paramref name="training"/> and reads <paramref name="validation"/>.</summary>
    /// <param name="model">The network being trained or evaluated (only read: its type builds the copy that receives snapshots' weights, and its kernel check runs first).</param>
    /// <param name="scheduler">The training scheduler settings (schedule and prediction type).</param>
    /// <param name="encoder">The prompt encoder being used.</param>
    /// <param name="training">The images the model trains on; its captions must name classes (<see cref="CaptionClassifier.Unsuitable"/>).</param>
    /// <param name="validation">Held-out images of the same folder, at least 2, never trained on.</param>
    /// <param name="imagesPerCaption">Images sampled per caption in each measurement. Default 10.</param>
    /// <param name="seed">Seed of the first sampled image and of the real-image draw. Default 0.</param>
    /// <param name="sampler">The sampling algorithm. Default <see cref="PipelineDefaults.DefaultSampler"/>, the pipeline's.</param>
    /// <param name="steps">Denoising steps; null for the sampler's default, as the pipeline.</param>
    /// <param name="classifier">The judge's training settings; null for the defaults (seeded with <paramref name="seed"/>).</param>
    /// <param name="cancellationToken">Stops the judge's training.</param>
    /// <exception cref="ArgumentException">When the captions are not classes, the validation split is too small or has no caption of the training images, or the images do not fit the model.</exception>
    public SampleQualityEvaluator(DenoiserModule model, SchedulerOptions scheduler, ITextEncoder encoder, IImageCaptionDataset training, IImageCaptionDataset validation, int imagesPerCaption = 10, long seed = 0, SamplerKind sampler = PipelineDefaults.DefaultSampler, int? steps = null, CaptionClassifierOptions? classifier = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(training);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentOutOfRangeException.ThrowIfLessThan(imagesPerCaption, 1);
        foreach (var (data, name) in new[] { (training, nameof(training)), (validation, nameof(validation)) })
        {
            if (data.ImageSize != model.ImageSize || data.Channels != model.Channels)
            {
                throw new ArgumentException($"The {name} images are {data.Channels}-channel {data.ImageSize}x{data.ImageSize}; the model expects {model.Channels}-channel {model.ImageSize}x{model.ImageSize}.", name);
            }
        }

        if (validation.Count < 2)
        {
            throw new ArgumentException($"The validation split has {validation.Count} image(s); a feature distance needs at least 2.", nameof(validation));
        }

        _scheduler = scheduler.WithAlgorithm(sampler, steps);
        SchedulerFactory.Validated(_scheduler);
        _perCaption = imagesPerCaption;
        _seed = seed;
        KernelCheck.Ensure(model, ScalarType.Float32, backward: true); // the judge's convolutions take the route it chooses

        Classifier = CaptionClassifier.Train(training, classifier ?? new CaptionClassifierOptions { Seed = seed }, cancellationToken);
        try
        {
            var validationCaptions = Enumerable.Range(0, validation.Count).Select(validation.GetCaption).ToArray();
            Captions = validationCaptions.Where(c => Classifier.ClassOf(c) >= 0).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToArray();
            if (Captions.Count == 0)
            {
                throw new ArgumentException("No caption of the validation split is a caption of the training images.", nameof(validation));
            }

            using (var scope = NewDisposeScope())
            {
                var images = TrainingData.ReadImages(validation, Enumerable.Range(0, validation.Count).ToArray());
                var labels = tensor(validationCaptions.Select(c => (long)Classifier.ClassOf(c)).ToArray());
                ValidationAccuracy = Classifier.Classify(images).eq(labels).to(ScalarType.Float64).mean().item<double>();
                _validationFeatures = Classifier.Features(images).MoveToOuterDisposeScope();
                RealDistance = FrechetDistance.Between(Classifier.Features(TrainingData.ReadImages(training, DrawPerCaption(training))), _validationFeatures);
            }

            _copy = new SnapshotModel(model, encoder);
        }
        catch
        {
            Classifier.Dispose();
            _validationFeatures?.Dispose();
            throw;
        }
    }

    /// <summary>The judge: the folder's own classifier and feature extractor.</summary>
    public CaptionClassifier Classifier { get; }

    /// <summary>The captions each measurement samples: the validation split's distinct captions, in ordinal order.</summary>
    public IReadOnlyList<string> Captions { get; }

    /// <summary>The judge's accuracy on the validation images: the ceiling of <see cref="SampleQuality.Accuracy"/>.</summary>
    public double ValidationAccuracy { get; }

    /// <summary>The feature distance of as many real training images as a measurement samples: the floor of <see cref="SampleQuality.FeatureDistance"/>.</summary>
    public double RealDistance { get; }

    /// <summary>Images each measurement samples.</summary>
    public int ImagesPerMeasurement => Captions.Count * _perCaption;

    /// <summary>Measures a training snapshot's published weights (the EMA weights when on).</summary>
    /// <param name="snapshot">The trainer's snapshot (valid during the callback).</param>
    /// <param name="guidance">The guidance weight w to sample with.</param>
    /// <param name="cancellationToken">Stops sampling between steps.</param>
    /// <returns>The measurement.</returns>
    public SampleQuality Measure(TrainingSnapshot snapshot, double guidance, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _copy.Load(snapshot);
        return Measure(_copy.Model, _copy.Encoder, guidance, cancellationToken);
    }

    /// <summary>Measures a model as it is (for example a loaded checkpoint's).</summary>
    /// <param name="model">The network, of the size and channels the evaluator was built for.</param>
    /// <param name="encoder">Its prompt encoder.</param>
    /// <param name="guidance">The guidance weight w to sample with.</param>
    /// <param name="cancellationToken">Stops sampling between steps.</param>
    /// <returns>The measurement.</returns>
    /// <exception cref="ArgumentException">When the model does not fit or <paramref name="guidance"/> is out of range.</exception>
    public SampleQuality Measure(IDenoiser model, ITextEncoder encoder, double guidance, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(encoder);
        GuidanceRange.ThrowIfOutOfRange(guidance, nameof(guidance));
        if (model.ImageSize != Classifier.ImageSize || model.Channels != Classifier.Channels)
        {
            throw new ArgumentException($"The model makes {model.Channels}-channel {model.ImageSize}x{model.ImageSize} images; the evaluator judges {Classifier.Channels}-channel {Classifier.ImageSize}x{Classifier.ImageSize}.", nameof(model));
        }

        using var scope = NewDisposeScope();
        var prompts = Captions.SelectMany(c => Enumerable.Repeat(c, _perCaption)).ToList();
        var context = encoder.Encode(prompts);
        var images = new DiffusionSampler().Sample(model, SchedulerFactory.Create(_scheduler), context,
            new SamplingOptions { ImageSeeds = ImageSeeds.Range(_seed, 0, prompts.Count), GuidanceScale = guidance, UnconditionalContext = guidance > 0 ? encoder.EncodeUnconditional() : null },
            cancellationToken: cancellationToken);
        var rounded = images.to(ScalarType.Float32).cpu().clamp(0, 1).mul(255).round().div(127.5).sub(1); // samplers return [0, 1]; the judge reads [-1, 1]
        var labels = tensor(prompts.Select(p => (long)Classifier.ClassOf(p)).ToArray());
        var probabilities = Classifier.Probabilities(rounded);
        double accuracy = probabilities.argmax(1).eq(labels).to(ScalarType.Float64).mean().item<double>();
        double confidence = probabilities.gather(1, labels.unsqueeze(1)).to(ScalarType.Float64).mean().item<double>();
        double distance = FrechetDistance.Between(Classifier.Features(rounded), _validationFeatures);
        return new SampleQuality(guidance, accuracy, confidence, distance, prompts.Count);
    }

    /// <summary>Measures a snapshot at each guidance weight and chooses one (<see cref="GuidanceSelection.Choose"/>).</summary>
    /// <param name="snapshot">The trainer's snapshot (valid during the callback).</param>
    /// <param name="candidates">The guidance weights to measure; null for <see cref="GuidanceSelection.DefaultCandidates"/>.</param>
    /// <param name="cancellationToken">Stops sampling between steps.</param>
    /// <returns>Every measurement, in the candidates' order, and the chosen one.</returns>
    public (IReadOnlyList<SampleQuality> Measured, SampleQuality Chosen) ChooseGuidance(TrainingSnapshot snapshot, IReadOnlyList<double>? candidates = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        candidates ??= GuidanceSelection.DefaultCandidates;
        if (candidates.Count == 0)
        {
            throw new ArgumentException("Give at least one guidance weight to measure.", nameof(candidates));
        }

        _copy.Load(snapshot);
        var measured = candidates.Select(w => Measure(_copy.Model, _copy.Encoder, w, cancellationToken)).ToList();
        return (measured, GuidanceSelection.Choose(measured));
    }

    /// <summary>Frees the judge, the features and the model copy.</summary>
    public void Dispose()
    {
        _copy.Dispose();
        _validationFeatures.Dispose();
        Classifier.Dispose();
    }

    // imagesPerCaption training images of each caption (fewer where a caption has fewer), drawn with a seeded Random.
    private int[] DrawPerCaption(IImageCaptionDataset training)
    {
        var random = new Random(unchecked((int)_seed));
        var byCaption = Enumerable.Range(0, training.Count).GroupBy(training.GetCaption, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.ToArray(), StringComparer.Ordinal);
        return Captions.SelectMany(c =>
        {
            var pool = byCaption.TryGetValue(c, out var found) ? found.ToArray() : [];
            random.Shuffle(pool);
            return pool.Take(_perCaption);
        }).ToArray();
    }
}
