using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// Trains a denoiser to predict the noise added by the forward process (Ho et al. 2020): pick t ~ U{1..T} (the
/// scheduler's training range), noise an image <c>x_t = sqrt(ab_t)·x0 + sqrt(1 - ab_t)·eps</c>, predict eps (or the
/// scheduler's <see cref="INoiseScheduler.GetTrainingTarget"/>: x0 or v) from (x_t, t/T, context), minimise the MSE.
/// </summary>
/// <remarks>
/// Adam with a scheduled learning rate (linear decay, cosine or constant, with optional warm-up), optional Min-SNR-γ
/// loss weighting, context dropout for classifier-free guidance, optional EMA weights.
/// Every step runs in its own dispose scope, so memory stays flat. Seeded: the same options, model initialisation and
/// data give the same weights on the CPU. Not thread-safe; one run at a time per model.
/// <para>
/// With <see cref="DiffusionTrainerOptions.Precision"/> = <see cref="Precision.BFloat16"/> the run is mixed precision
/// by hand: float32 master copies of the model's parameters take the Adam steps, the learning-rate schedule and the
/// EMA; the model is cast to bfloat16 for the forward and backward passes (x_t, time and context cast to bfloat16);
/// the loss is computed in float32 from the bfloat16 prediction; gradients are copied to the masters and, after the
/// step, the masters are rounded back into the bfloat16 model. When the run ends (also on cancellation or an
/// exception) the model is cast back to float32, buffers included, and holds the master (or EMA) weights. Casting may
/// replace the model's <c>Parameter</c> objects, so look parameters up again after training. A trainable text encoder
/// stays in float32; its output is cast to bfloat16 (its gradients flow back through the cast).
/// </para>
/// </remarks>
public sealed class DiffusionTrainer
{
    private const double LossSmoothing = 0.98;
    private readonly DiffusionTrainerOptions _options;

    /// <summary>Creates a trainer; the options are validated now.</summary>
    /// <exception cref="ArgumentException">When an option is invalid (the exception names it).</exception>
    public DiffusionTrainer(DiffusionTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        _options = options;
    }

    /// <summary>The validated options.</summary>
    public DiffusionTrainerOptions Options => _options;

    /// <summary>Trains <paramref name="model"/> in place.</summary>
    /// <typeparam name="TModel">A TorchSharp module that is also an <see cref="IDenoiser"/>; its forward takes (x_t, t/T, context).</typeparam>
    /// <param name="model">The network; left in eval mode (and, with bfloat16 training, in float32) afterwards.</param>
    /// <param name="scheduler">Supplies T and the forward process.</param>
    /// <param name="dataset">Training pairs; image size and channels must match the model.</param>
    /// <param name="encoder">
    /// Encodes captions; its ContextSize must match the model. A frozen encoder encodes each distinct caption once; an
    /// <see cref="ITrainableTextEncoder"/> (such as <see cref="Text.LearnedTextEncoder"/>) encodes every batch and is
    /// trained with the model (its parameters join the optimiser and, when on, the EMA). Context dropout substitutes the
    /// encoder's empty-prompt context.
    /// </param>
    /// <param name="progress">Receives a report after every step; may be null.</param>
    /// <param name="cancellationToken">Checked before every step; on cancellation the model keeps the weights of the last finished step.</param>
    /// <returns>The run's summary.</returns>
    /// <exception cref="ArgumentException">When the data set or encoder does not fit the model, or bfloat16 training is asked for a model that is not float32.</exception>
    /// <exception cref="OperationCanceledException">When cancelled.</exception>
    /// <exception cref="InvalidOperationException">When the loss becomes NaN or infinite (lower the learning rate).</exception>
    public TrainingResult Train<TModel>(
        TModel model,
        INoiseScheduler scheduler,
        IImageCaptionDataset dataset,
        ITextEncoder encoder,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
        where TModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(encoder);
        if (dataset.ImageSize != model.ImageSize || dataset.Channels != model.Channels)
        {
            throw new ArgumentException($"The data set has {dataset.Channels}-channel {dataset.ImageSize}x{dataset.ImageSize} images but the model expects {model.Channels}-channel {model.ImageSize}x{model.ImageSize}; build the model with matching ImageSize/InChannels.", nameof(dataset));
        }

        if (dataset.Count < 1)
        {
            throw new ArgumentException("The data set is empty.", nameof(dataset));
        }

        if (encoder.ContextSize != model.ContextSize)
        {
            throw new ArgumentException($"The encoder produces {encoder.ContextSize}-dimensional contexts but the model expects {model.ContextSize}; build the model with ContextSize = {encoder.ContextSize}.", nameof(encoder));
        }

        cancellationToken.ThrowIfCancellationRequested();

        // Prompt encoder: a trainable encoder encodes each batch inside the step, so gradients reach its weights (which
        // join the optimiser and the EMA); a frozen one is encoded once up front. Dropped contexts become the encoder's
        // unconditional context (its empty prompt), not zeros.
        var trainableEncoder = encoder as ITrainableTextEncoder;
        using var data = TrainingData.Load(dataset, encoder, encodeContexts: trainableEncoder is null);
        using var frozenUnconditional = trainableEncoder is null && _options.ContextDropout > 0 ? encoder.EncodeUnconditional() : null;

        // Mixed precision: the optimiser and the EMA work on float32 masters; the model itself is cast to bfloat16 inside
        // the try below, so the finally always casts it back.
        // Precision.Auto: time both precisions on this machine with this network first (weights are restored after).
        var measurement = _options.Precision == Precision.Auto
            ? PrecisionProbe.MeasureTraining(model, scheduler, (int)Math.Min(_options.BatchSize, dataset.Count), cancellationToken)
            : null;
        if (measurement is not null)
        {
            _options.OnPrecisionMeasured?.Invoke(measurement);
        }

        var precision = measurement?.Chosen ?? _options.Precision;
        using var masters = precision == Precision.BFloat16 ? BFloat16MasterWeights.Create(model) : null;
        var encoderParameters = trainableEncoder?.TrainableParameters().ToList() ?? new List<TorchSharp.Modules.Parameter>();
        ExponentialMovingAverage? ema = null;
        using var generator = new Generator((ulong)_options.Seed);
        using var optimizer = optim.Adam(
            (masters?.Masters ?? (IEnumerable<TorchSharp.Modules.Parameter>)model.parameters().ToList()).Concat(encoderParameters).ToList(),
            lr: _options.LearningRate);
        var computeType = masters is null ? ScalarType.Float32 : ScalarType.BFloat16;

        int batch = (int)Math.Min(_options.BatchSize, data.Count);
        int batchesPerEpoch = (int)(data.Count / batch);
        int? plannedSteps = _options.Steps ?? (_options.Epochs is { } e ? e * batchesPerEpoch : null);
        var device = model.Device;
        double totalTimesteps = scheduler.TrainTimesteps;

        var clock = Stopwatch.StartNew();
        Tensor? order = null;
        int step = 0;
        double loss = double.NaN;
        double average = double.NaN;
        bool stoppedByTime = false;
        try
        {
            masters?.CastModel();
            if (_options.EmaDecay > 0)
            {
                // Parameters come from the masters (float32); buffers (BatchNorm statistics) from the model as cast now.
                var averaged = masters is null
                    ? model.state_dict().Values
                    : masters.Masters.Concat(model.named_buffers(include_nonpersistent: false).Select(b => b.buffer));
                ema = new ExponentialMovingAverage(averaged.Concat(encoderParameters).ToList(), _options.EmaDecay);
            }

            model.train();
            while (plannedSteps is null || step < plannedSteps)
            {
                if (_options.MaxDuration is { } budget && clock.Elapsed >= budget)
                {
                    stoppedByTime = true;
                    break;
                }

                cancellationToken.ThrowIfCancellationRequested();
                int inEpoch = step % batchesPerEpoch;
                if (inEpoch == 0)
                {
                    order?.Dispose();
                    order = randperm(data.Count, generator: generator);
                }

                double lr = LearningRateAt(_options, step, plannedSteps, clock.Elapsed);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                }

                using (var scope = NewDisposeScope())
                {
                    var index = order!.narrow(0, (long)inEpoch * batch, batch);
                    var next = inEpoch + 1 < batchesPerEpoch ? order!.narrow(0, (long)(inEpoch + 1) * batch, batch) : null;
                    var x0 = data.Batch(index, generator, next).to(device);
                    var context = trainableEncoder is null
                        ? data.Contexts!.index_select(0, index)
                        : trainableEncoder.EncodeForTraining(index.data<long>().Select(i => data.Captions[i]).ToArray());
                    var t = randint(scheduler.FirstTrainTimestep, scheduler.FirstTrainTimestep + scheduler.TrainTimesteps, new long[] { batch }, ScalarType.Int64, generator: generator);
                    var noise = randn(x0.shape, dtype: ScalarType.Float32, generator: generator).to(device);
                    if (_options.ContextDropout > 0)
                    {
                        var keep = rand(new long[] { batch, 1 }, generator: generator).ge(_options.ContextDropout).to(ScalarType.Float32);
                        var unconditional = frozenUnconditional ?? trainableEncoder!.EncodeForTraining(new[] { string.Empty });
                        context = (context * keep) + (unconditional * (1 - keep));
                    }

                    var noisy = scheduler.AddNoise(x0, noise, t.to(device));
                    var time = (t.to(ScalarType.Float32) / totalTimesteps).to(device);
                    var predicted = model.call(noisy.to(computeType), time.to(computeType), context.to(device).to(computeType));
                    var target = scheduler.GetTrainingTarget(x0, noise, t.to(device));
                    var mse = _options.SnrGamma is { } gamma
                        ? (predicted.to(ScalarType.Float32) - target).square().mean(new long[] { 1, 2, 3 }).mul(scheduler.GetMinSnrLossWeights(t, gamma).to(device)).mean()
                        : nn.functional.mse_loss(predicted.to(ScalarType.Float32), target);

                    optimizer.zero_grad();
                    if (masters is not null)
                    {
                        model.zero_grad();
                    }

                    mse.backward();
                    masters?.CopyGradientsToMasters();
                    optimizer.step();
                    masters?.CopyMastersToModel();
                    loss = mse.item<float>();
                }

                if (!double.IsFinite(loss))
                {
                    throw new InvalidOperationException($"Training diverged at step {step + 1}: the loss is {loss}. Lower the learning rate (now {lr}) or check the data for NaN.");
                }

                ema?.Update();
                step++;
                average = double.IsNaN(average) ? loss : (LossSmoothing * average) + ((1 - LossSmoothing) * loss);
                progress?.Report(new TrainingProgress(step, plannedSteps ?? 0, loss, average, lr, step * (double)batch / clock.Elapsed.TotalSeconds, clock.Elapsed));
            }
        }
        finally
        {
            order?.Dispose();
            ema?.CopyToLive();
            ema?.Dispose();
            masters?.RestoreModel();
            model.eval();
        }

        return new TrainingResult(step, loss, average, clock.Elapsed, step * (double)batch / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), stoppedByTime)
        {
            Precision = precision,
            PrecisionMeasurement = measurement,
        };
    }

    /// <summary>The learning rate at a step: the schedule's value at the run's fraction (steps or time, whichever is further along), times the warm-up factor.</summary>
    internal static double LearningRateAt(DiffusionTrainerOptions options, int step, int? plannedSteps, TimeSpan elapsed)
    {
        double warmup = options.WarmupSteps > 0 ? Math.Min(1.0, (step + 1) / (double)options.WarmupSteps) : 1.0;
        double fraction = 0;
        if (plannedSteps is { } total)
        {
            fraction = step / (double)total;
        }

        if (options.MaxDuration is { } budget)
        {
            fraction = Math.Max(fraction, elapsed / budget);
        }

        fraction = Math.Min(fraction, 1);
        double shape = options.LearningRateSchedule switch
        {
            LearningRateSchedule.Constant => 1,
            LearningRateSchedule.Linear => 1 - fraction,
            LearningRateSchedule.Cosine => 0.5 * (1 + Math.Cos(Math.PI * fraction)),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.LearningRateSchedule, "Unknown learning-rate schedule."),
        };
        return options.LearningRate * warmup * shape;
    }
}
