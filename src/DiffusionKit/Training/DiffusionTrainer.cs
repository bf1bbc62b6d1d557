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
/// Adam with a linearly decaying learning rate, context dropout for classifier-free guidance, optional EMA weights.
/// Every step runs in its own dispose scope, so memory stays flat. Seeded: the same options, model initialisation and
/// data give the same weights on the CPU. Not thread-safe; one run at a time per model.
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
    /// <param name="model">The network; left in eval mode afterwards.</param>
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
    /// <exception cref="ArgumentException">When the data set or encoder does not fit the model.</exception>
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
        var trained = trainableEncoder is null ? model.parameters() : model.parameters().Concat(trainableEncoder.TrainableParameters());
        var averaged = trainableEncoder is null ? model.state_dict().Values : model.state_dict().Values.Concat(trainableEncoder.TrainableParameters());

        using var generator = new Generator((ulong)_options.Seed);
        using var optimizer = optim.Adam(trained, lr: _options.LearningRate);
        using var ema = _options.EmaDecay > 0 ? new ExponentialMovingAverage(averaged, _options.EmaDecay) : null;

        int batch = (int)Math.Min(_options.BatchSize, data.Count);
        int batchesPerEpoch = (int)(data.Count / batch);
        int? plannedSteps = _options.Steps ?? (_options.Epochs is { } e ? e * batchesPerEpoch : null);
        var device = model.Device;
        double totalTimesteps = scheduler.TrainTimesteps;

        model.train();
        var clock = Stopwatch.StartNew();
        Tensor? order = null;
        int step = 0;
        double loss = double.NaN;
        double average = double.NaN;
        bool stoppedByTime = false;
        try
        {
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

                double lr = LearningRateAt(step, plannedSteps, clock.Elapsed);
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                }

                using (var scope = NewDisposeScope())
                {
                    var index = order!.narrow(0, (long)inEpoch * batch, batch);
                    var x0 = data.Images.index_select(0, index).to(device);
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
                    var predicted = model.call(noisy, (t.to(ScalarType.Float32) / totalTimesteps).to(device), context.to(device));
                    var mse = nn.functional.mse_loss(predicted, scheduler.GetTrainingTarget(x0, noise, t.to(device)));

                    optimizer.zero_grad();
                    mse.backward();
                    optimizer.step();
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
            model.eval();
        }

        return new TrainingResult(step, loss, average, clock.Elapsed, step * (double)batch / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), stoppedByTime);
    }

    private double LearningRateAt(int step, int? plannedSteps, TimeSpan elapsed)
    {
        if (_options.LearningRateSchedule == LearningRateSchedule.Constant)
        {
            return _options.LearningRate;
        }

        double fraction = 0;
        if (plannedSteps is { } total)
        {
            fraction = step / (double)total;
        }

        if (_options.MaxDuration is { } budget)
        {
            fraction = Math.Max(fraction, elapsed / budget);
        }

        return _options.LearningRate * Math.Max(1 - fraction, 0);
    }
}
