using DiffusionKit.Models;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// The <see cref="TrainingCallbacks.Validation"/> measure for any <see cref="DenoiserModule"/>: the denoising loss of a
/// snapshot's published weights (the EMA weights when on) on held-out images (for example
/// <see cref="Data.DatasetSplit.Validation"/>), with fixed timesteps and fixed noise, so the number is comparable across
/// evaluations and across runs with the same validation images and seed.
/// </summary>
/// <remarks>
/// <para>
/// The loss is the plain, unweighted mean squared error between the network's output and its training target (the
/// noise for epsilon prediction, v for v-prediction, the clean image for sample prediction), per element: the training
/// loss without Min-SNR weighting, with every caption given (no context dropout) and no augmentation. A network that
/// predicts zeros scores about 1 with epsilon or v prediction.
/// </para>
/// <para>
/// Each image is evaluated at <see cref="EvaluationsPerImage"/> timesteps (enough for at least 100 evaluations in all):
/// evaluation j of N (image <c>j mod Count</c>) uses timestep <c>FirstTrainTimestep + floor((j + 0.5)·T/N)</c>, evenly
/// spread over the training range, and noise drawn from a generator seeded with the seed, the same at every call. The
/// copy runs in eval mode (BatchNorm uses its running statistics) under no_grad, in float32 on the CPU, each batch in
/// its own dispose scope. Not thread-safe.
/// </para>
/// </remarks>
public sealed class TrainingValidator : IDisposable
{
    /// <summary>The fewest evaluations (image × timestep) one <see cref="Evaluate"/> makes, so a handful of images still spans the timesteps.</summary>
    public const int MinEvaluations = 100;

    private readonly INoiseScheduler _scheduler;
    private readonly SnapshotModel _copy;
    private readonly byte[] _pixels;
    private readonly string[] _captions;
    private readonly int _imageSize;
    private readonly int _channels;
    private readonly long _seed;
    private readonly int _batchSize;

    /// <summary>Creates a validator for one run; reads the validation images now.</summary>
    /// <param name="model">The network being trained (only read: its <see cref="DenoiserModule.DenoiserType"/> builds the copy that receives each snapshot's weights).</param>
    /// <param name="scheduler">The training scheduler (forward process and prediction type).</param>
    /// <param name="encoder">The prompt encoder being used (a learned encoder is copied and receives the snapshot's encoder weights).</param>
    /// <param name="validation">The held-out images; at least one, of the model's size and channels.</param>
    /// <param name="seed">Seed of the fixed noise. Default 0.</param>
    /// <param name="batchSize">Evaluations per forward pass. Default 100.</param>
    /// <exception cref="ArgumentException">When the validation set is empty or does not fit the model.</exception>
    public TrainingValidator(DenoiserModule model, INoiseScheduler scheduler, ITextEncoder encoder, IImageCaptionDataset validation, long seed = 0, int batchSize = 100)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        if (validation.Count < 1)
        {
            throw new ArgumentException("The validation set is empty.", nameof(validation));
        }

        if (validation.ImageSize != model.ImageSize || validation.Channels != model.Channels)
        {
            throw new ArgumentException($"The validation set has {validation.Channels}-channel {validation.ImageSize}x{validation.ImageSize} images but the model expects {model.Channels}-channel {model.ImageSize}x{model.ImageSize}.", nameof(validation));
        }

        _scheduler = scheduler;
        _imageSize = validation.ImageSize;
        _channels = validation.Channels;
        int pixels = _imageSize * _imageSize * _channels;
        _pixels = new byte[(long)validation.Count * pixels];
        _captions = new string[validation.Count];
        for (int i = 0; i < validation.Count; i++)
        {
            validation.CopyImage(i, _pixels.AsSpan(i * pixels, pixels));
            _captions[i] = validation.GetCaption(i);
        }

        _seed = seed;
        _batchSize = batchSize;
        EvaluationsPerImage = Math.Max(1, (MinEvaluations + validation.Count - 1) / validation.Count);
        _copy = new SnapshotModel(model, encoder);
    }

    /// <summary>The validation images.</summary>
    public int Count => _captions.Length;

    /// <summary>Timesteps each image is evaluated at: <c>ceil(100 / Count)</c>, at least 1.</summary>
    public int EvaluationsPerImage { get; }

    /// <summary>Measures the validation loss of the snapshot's published weights (see the remarks).</summary>
    /// <param name="snapshot">The trainer's snapshot (valid during the callback).</param>
    /// <returns>The mean squared error over every evaluation and element.</returns>
    public double Evaluate(TrainingSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _copy.Load(snapshot);
        return Measure();
    }

    /// <summary>Frees the model copy.</summary>
    public void Dispose() => _copy.Dispose();

    private double Measure()
    {
        int n = Count;
        long total = (long)n * EvaluationsPerImage;
        int steps = _scheduler.TrainTimesteps;
        int first = _scheduler.FirstTrainTimestep;
        int pixels = _imageSize * _imageSize * _channels;
        double sum = 0;
        using var generator = new Generator((ulong)_seed);
        using var noGrad = no_grad();
        using var contexts = NewDisposeScope();
        var distinct = _captions.Distinct(StringComparer.Ordinal).ToList();
        var row = distinct.Select((c, i) => (c, i)).ToDictionary(p => p.c, p => (long)p.i, StringComparer.Ordinal);
        var encoded = _copy.Encoder.Encode(distinct).to(ScalarType.Float32);
        for (long from = 0; from < total; from += _batchSize)
        {
            using var scope = NewDisposeScope();
            int size = (int)Math.Min(_batchSize, total - from);
            var images = new long[size];
            var timesteps = new long[size];
            for (int k = 0; k < size; k++)
            {
                long j = from + k;
                images[k] = j % n;
                timesteps[k] = first + (long)Math.Floor((j + 0.5) * steps / total);
            }

            var bytes = new byte[(long)size * pixels];
            for (int k = 0; k < size; k++)
            {
                _pixels.AsSpan((int)(images[k] * pixels), pixels).CopyTo(bytes.AsSpan(k * pixels, pixels));
            }

            var x0 = TrainingData.ToImages(bytes, size, _imageSize, _channels);
            var noise = randn(x0.shape, dtype: ScalarType.Float32, generator: generator);
            var t = tensor(timesteps);
            var context = encoded.index_select(0, tensor(images.Select(i => row[_captions[i]]).ToArray()));
            var noisy = _scheduler.AddNoise(x0, noise, t);
            var time = t.to(ScalarType.Float32).div(tensor((float)steps));
            var predicted = _copy.Model.call(noisy, time, context);
            var target = _scheduler.GetTrainingTarget(x0, noise, t);
            sum += nn.functional.mse_loss(predicted, target, nn.Reduction.Sum).to(ScalarType.Float64).item<double>();
        }

        return sum / (total * pixels);
    }
}
