using System.Diagnostics;
using System.Globalization;
using DiffusionKit.Models;
using DiffusionKit.Native;
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
/// Optional gradient clipping (<see cref="DiffusionTrainerOptions.MaxGradNorm"/>) and gradient accumulation
/// (<see cref="DiffusionTrainerOptions.GradientAccumulationSteps"/>); <see cref="TrainingCallbacks"/> receive snapshots for
/// periodic checkpoints, samples and validation (<see cref="DiffusionTrainerOptions.ValidateEvery"/>); <see cref="DiffusionTrainerOptions.ResumeFrom"/> continues a saved run bit for bit
/// (docs/training.md).
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
        => Train(model, scheduler, dataset, encoder, TrainingCallbacks.None, progress, cancellationToken);

    /// <summary>Trains <paramref name="model"/> in place, calling <paramref name="callbacks"/> for checkpoints and samples.</summary>
    /// <typeparam name="TModel">A TorchSharp module that is also an <see cref="IDenoiser"/>; its forward takes (x_t, t/T, context).</typeparam>
    /// <param name="model">The network; left in eval mode (and, with bfloat16 training, in float32) afterwards.</param>
    /// <param name="scheduler">Supplies T and the forward process.</param>
    /// <param name="dataset">Training pairs; image size and channels must match the model.</param>
    /// <param name="encoder">Encodes captions (see the other overload).</param>
    /// <param name="callbacks">
    /// Checkpoint and sample callbacks, called every <see cref="DiffusionTrainerOptions.SaveEvery"/> and
    /// <see cref="DiffusionTrainerOptions.SampleEvery"/> steps; the checkpoint callback also when the run stops, also on
    /// cancellation (before the <see cref="OperationCanceledException"/>).
    /// </param>
    /// <param name="progress">Receives a report after every step; may be null.</param>
    /// <param name="cancellationToken">Checked before every step; on cancellation the model keeps the weights of the last finished step.</param>
    /// <returns>The run's summary; with <see cref="DiffusionTrainerOptions.ResumeFrom"/>, <see cref="TrainingResult.Steps"/> counts the earlier steps too.</returns>
    /// <exception cref="ArgumentException">When the data set or encoder does not fit the model, the effective batch exceeds the data set, the resumed state does not fit this run, or bfloat16 training is asked for a model that is not float32.</exception>
    /// <exception cref="FileNotFoundException">When <see cref="DiffusionTrainerOptions.ResumeFrom"/> holds no training state.</exception>
    /// <exception cref="InvalidDataException">When the saved training state is corrupt.</exception>
    /// <exception cref="OperationCanceledException">When cancelled.</exception>
    /// <exception cref="InvalidOperationException">When the loss becomes NaN or infinite (lower the learning rate).</exception>
    public TrainingResult Train<TModel>(
        TModel model,
        INoiseScheduler scheduler,
        IImageCaptionDataset dataset,
        ITextEncoder encoder,
        TrainingCallbacks callbacks,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
        where TModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(dataset);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(callbacks);
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

        int batch = Math.Min(_options.BatchSize, dataset.Count);
        int accumulation = _options.GradientAccumulationSteps;
        long effectiveBatch = (long)batch * accumulation;
        if (effectiveBatch > dataset.Count)
        {
            throw new ArgumentException($"BatchSize × GradientAccumulationSteps = {batch} × {accumulation} = {effectiveBatch} images per optimiser step, but the data set has only {dataset.Count}; lower GradientAccumulationSteps.", nameof(dataset));
        }

        cancellationToken.ThrowIfCancellationRequested();

        // A resumed run reads its state first, so a bad folder fails before any work.
        TrainingStateInfo? resumeInfo = null;
        Dictionary<string, Tensor>? resumeTensors = null;
        if (_options.ResumeFrom is { } resumeFolder)
        {
            (resumeInfo, resumeTensors) = TrainingStateFile.Read(resumeFolder);
        }

        // bfloat16 runs of a denoiser module keep the starting weights, so a run whose bfloat16 kernels fail mid-run on
        // every route (KernelFaultException) starts over in float32 instead of ending without a model.
        var network = model as DenoiserModule;
        var start = network is not null && resumeInfo is null && _options.Precision != Precision.Float32 && network.parameters().All(p => p.dtype == ScalarType.Float32)
            ? network.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone().DetachFromDisposeScope())
            : null;
        try
        {
            try
            {
                return Run(model, scheduler, dataset, encoder, callbacks, progress, batch, resumeInfo, resumeTensors, forceFloat32: false, cancellationToken);
            }
            catch (KernelFaultException fault) when (start is not null)
            {
                (_options.OnWarning ?? (w => Trace.TraceWarning(w)))($"{fault.Message} Starting the run over in float32.");
                using (no_grad())
                {
                    foreach (var (name, tensor) in network!.state_dict())
                    {
                        tensor.copy_(start[name]);
                    }
                }

                return Run(model, scheduler, dataset, encoder, callbacks, progress, batch, resumeInfo, resumeTensors, forceFloat32: true, cancellationToken);
            }
        }
        finally
        {
            foreach (var tensor in (resumeTensors?.Values ?? Enumerable.Empty<Tensor>()).Concat(start?.Values ?? Enumerable.Empty<Tensor>()))
            {
                tensor.Dispose();
            }
        }
    }

    private TrainingResult Run<TModel>(
        TModel model,
        INoiseScheduler scheduler,
        IImageCaptionDataset dataset,
        ITextEncoder encoder,
        TrainingCallbacks callbacks,
        IProgress<TrainingProgress>? progress,
        int batch,
        TrainingStateInfo? resumeInfo,
        Dictionary<string, Tensor>? resumeTensors,
        bool forceFloat32,
        CancellationToken cancellationToken)
        where TModel : nn.Module<Tensor, Tensor, Tensor?, Tensor>, IDenoiser
    {
        int accumulation = _options.GradientAccumulationSteps;
        int effectiveBatch = batch * accumulation;

        // Prompt encoder: a trainable encoder encodes each batch inside the step, so gradients reach its weights (which
        // join the optimiser and the EMA); a frozen one is encoded once up front. Dropped contexts become the encoder's
        // unconditional context (its empty prompt), not zeros.
        var trainableEncoder = encoder as ITrainableTextEncoder;
        var encoderParameters = trainableEncoder?.TrainableParameters().ToList() ?? new List<TorchSharp.Modules.Parameter>();
        // Precision.Auto: time both precisions on this machine with this network first (weights are restored after). A
        // resumed run keeps the precision the saved run chose, so it continues bit for bit.
        PrecisionMeasurement? measurement = null;
        Precision precision;
        var network = model as DenoiserModule;
        void Warn(string? warning)
        {
            if (warning is null)
            {
                return;
            }

            if (_options.OnWarning is { } onWarning)
            {
                onWarning(warning);
            }
            else
            {
                Trace.TraceWarning(warning);
            }
        }

        // The numerics check: the network's forward and backward passes in each precision the run may use, against float64,
        // before any step (cached per process and shape). A precision whose kernels fail every route is not used.
        bool bfloat16Usable = !forceFloat32;
        if (network is not null && network.parameters().All(p => p.dtype == ScalarType.Float32))
        {
            Warn(KernelCheck.Ensure(network, ScalarType.Float32, backward: true).Warning);
            if (_options.Precision != Precision.Float32 && bfloat16Usable)
            {
                var bf16 = KernelCheck.Ensure(network, ScalarType.BFloat16, backward: true);
                Warn(bf16.Warning);
                bfloat16Usable = bf16.Passed;
            }
        }

        if (resumeInfo is not null && _options.Precision == Precision.Auto && Enum.TryParse(resumeInfo.Precision, out Precision saved) && saved != Precision.Auto)
        {
            precision = saved;
        }
        else
        {
            measurement = _options.Precision == Precision.Auto && bfloat16Usable ? PrecisionProbe.MeasureTraining(model, scheduler, batch, cancellationToken) : null;
            if (measurement is not null)
            {
                _options.OnPrecisionMeasured?.Invoke(measurement);
            }

            precision = measurement?.Chosen ?? _options.Precision;
        }

        if (precision != Precision.Float32 && !bfloat16Usable)
        {
            precision = Precision.Float32;
        }

        if (resumeInfo is not null)
        {
            TrainingStateRestore.CheckFits(resumeInfo, resumeTensors!, _options, precision, dataset.Count, batch, model, encoderParameters.Count);
            TrainingStateRestore.LoadLiveWeights(resumeTensors!, model, encoderParameters);
        }

        using var data = TrainingData.Load(dataset, encoder, encodeContexts: trainableEncoder is null);
        using var frozenUnconditional = trainableEncoder is null && _options.ContextDropout > 0 ? encoder.EncodeUnconditional() : null;

        // Mixed precision: the optimiser and the EMA work on float32 masters; the model itself is cast to bfloat16 inside
        // the try below, so the finally always casts it back.
        using var masters = precision == Precision.BFloat16 ? BFloat16MasterWeights.Create(model) : null;
        var modelParameterNames = model.named_parameters().Select(p => p.name).ToList();
        var optimized = (masters?.Masters ?? (IEnumerable<TorchSharp.Modules.Parameter>)model.parameters().ToList()).Concat(encoderParameters).ToList();
        ExponentialMovingAverage? ema = null;
        var emaNames = new List<string>();
        using var generator = new Generator((ulong)_options.Seed);
        using var optimizer = optim.Adam(optimized, lr: _options.LearningRate);
        var computeType = masters is null ? ScalarType.Float32 : ScalarType.BFloat16;

        int batchesPerEpoch = (int)(data.Count / effectiveBatch);
        int? plannedSteps = _options.Steps ?? (_options.Epochs is { } e ? e * batchesPerEpoch : null);
        var device = model.Device;
        double totalTimesteps = scheduler.TrainTimesteps;
        var encoderNames = EncoderParameterNames(encoder, encoderParameters);

        var clock = Stopwatch.StartNew();
        var earlier = TimeSpan.FromSeconds(resumeInfo?.ElapsedSeconds ?? 0);
        TimeSpan Elapsed() => earlier + clock.Elapsed;
        int startStep = resumeInfo?.Step ?? 0;
        int step = startStep;
        int lastCheckpoint = resumeInfo is null ? -1 : startStep;
        double loss = resumeInfo?.Loss ?? double.NaN;
        double average = resumeInfo?.AverageLoss ?? double.NaN;
        bool stoppedByTime = false;
        Tensor? order = null;

        // The names behind the training state's indexed tensors (adam/i, ema/i): the model's, then the encoder's "encoder/j".
        string[] AdamNames() => modelParameterNames.Concat(EncoderIndexNames()).ToArray();
        string[] EmaTensorNames() => emaNames.Concat(EncoderIndexNames()).ToArray();
        IEnumerable<string> EncoderIndexNames() => encoderParameters.Select((_, i) => "encoder/" + i.ToString(CultureInfo.InvariantCulture));

        TrainingSnapshot Snapshot(TrainingSnapshotReason reason, Dictionary<string, Tensor> modelWeights, Dictionary<string, Tensor> encoderWeights) =>
            new(reason, step, plannedSteps ?? 0, loss, average, Elapsed(), modelWeights, encoderWeights, folder =>
            {
                using var scope = NewDisposeScope();
                var tensors = new Dictionary<string, Tensor>(StringComparer.Ordinal);
                foreach (var (name, tensor) in LiveModelWeights(model, masters, modelParameterNames))
                {
                    tensors["model/" + name] = tensor;
                }

                for (int i = 0; i < encoderParameters.Count; i++)
                {
                    tensors["encoder/" + i.ToString(CultureInfo.InvariantCulture)] = encoderParameters[i];
                }

                var states = optimizer.state_dict().State.Cast<TorchSharp.Modules.Adam.State>().ToList();
                for (int i = 0; i < states.Count; i++)
                {
                    tensors[$"adam/{i.ToString(CultureInfo.InvariantCulture)}/exp_avg"] = states[i].exp_avg;
                    tensors[$"adam/{i.ToString(CultureInfo.InvariantCulture)}/exp_avg_sq"] = states[i].exp_avg_sq;
                }

                var shadows = ema?.Shadows ?? Array.Empty<Tensor>();
                for (int i = 0; i < shadows.Count; i++)
                {
                    tensors["ema/" + i.ToString(CultureInfo.InvariantCulture)] = shadows[i];
                }

                tensors["rng/generator"] = generator.get_state();
                if (order is not null)
                {
                    tensors["data/order"] = order;
                }

                var info = new TrainingStateInfo
                {
                    Step = step,
                    AdamSteps = states.Select(s => s.step).ToArray(),
                    AdamParameters = AdamNames(),
                    EmaTensors = ema is null ? null : EmaTensorNames(),
                    EmaUpdates = ema?.Updates ?? 0,
                    EmaDecay = _options.EmaDecay,
                    Loss = double.IsFinite(loss) ? loss : null,
                    AverageLoss = double.IsFinite(average) ? average : null,
                    ElapsedSeconds = Elapsed().TotalSeconds,
                    BatchSize = batch,
                    GradientAccumulationSteps = accumulation,
                    DatasetCount = dataset.Count,
                    Precision = precision.ToString(),
                };
                TrainingStateFile.Write(folder, info, tensors);
            });

        void Publish(Action<TrainingSnapshot>? callback, TrainingSnapshotReason reason)
        {
            if (callback is null)
            {
                return;
            }

            using var scope = NewDisposeScope();
            var modelWeights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            var encoderWeights = new Dictionary<string, Tensor>(StringComparer.Ordinal);
            if (ema is not null)
            {
                var shadows = ema.Shadows;
                for (int i = 0; i < emaNames.Count; i++)
                {
                    modelWeights[emaNames[i]] = shadows[i];
                }

                for (int i = 0; i < encoderNames.Count; i++)
                {
                    encoderWeights[encoderNames[i]] = shadows[emaNames.Count + i];
                }
            }
            else
            {
                foreach (var (name, tensor) in LiveModelWeights(model, masters, modelParameterNames))
                {
                    modelWeights[name] = tensor;
                }

                for (int i = 0; i < encoderNames.Count; i++)
                {
                    encoderWeights[encoderNames[i]] = encoderParameters[i];
                }
            }

            using (no_grad())
            {
                callback(Snapshot(reason, modelWeights, encoderWeights));
            }
        }

        try
        {
            masters?.CastModel();
            if (_options.EmaDecay > 0)
            {
                // Parameters come from the masters (float32); buffers (BatchNorm statistics) from the model as cast now.
                var averaged = masters is null
                    ? model.state_dict().ToList()
                    : modelParameterNames.Zip(masters.Masters, (n, m) => (n, (Tensor)m))
                        .Concat(model.named_buffers(include_nonpersistent: false).Select(b => (b.name, b.buffer)))
                        .Select(p => new KeyValuePair<string, Tensor>(p.Item1, p.Item2)).ToList();
                emaNames.AddRange(averaged.Select(p => p.Key));
                ema = new ExponentialMovingAverage(averaged.Select(p => p.Value).Concat(encoderParameters).ToList(), _options.EmaDecay);
            }

            if (resumeInfo is not null)
            {
                order = TrainingStateRestore.Restore(resumeInfo, resumeTensors!, optimizer, AdamNames(), ema, ema is null ? null : EmaTensorNames(), generator);
            }

            // Validation of the starting weights (step 0), so the held-out curve starts where training does.
            int lastValidation = resumeInfo is null ? -1 : startStep;
            if (_options.ValidateEvery is not null && resumeInfo is null)
            {
                Publish(callbacks.Validation, TrainingSnapshotReason.Validation);
                lastValidation = step;
            }

            model.train();
            while (plannedSteps is null || step < plannedSteps)
            {
                if (_options.MaxDuration is { } budget && Elapsed() >= budget)
                {
                    stoppedByTime = true;
                    break;
                }

                if (cancellationToken.IsCancellationRequested)
                {
                    if (lastCheckpoint != step)
                    {
                        Publish(callbacks.Checkpoint, TrainingSnapshotReason.Interrupted);
                    }

                    cancellationToken.ThrowIfCancellationRequested();
                }

                int inEpoch = step % batchesPerEpoch;
                if (inEpoch == 0 || order is null)
                {
                    order?.Dispose();
                    order = randperm(data.Count, generator: generator);
                }

                double lr = LearningRateAt(_options, step, plannedSteps, Elapsed());
                foreach (var group in optimizer.ParamGroups)
                {
                    group.LearningRate = lr;
                }

                using (var scope = NewDisposeScope())
                {
                    // The step's randomness is drawn for the whole effective batch at once (in the same order as without
                    // accumulation), so k micro-batches of B see exactly the images, timesteps and noise of one batch of k·B.
                    var index = order!.narrow(0, (long)inEpoch * effectiveBatch, effectiveBatch);
                    var next = inEpoch + 1 < batchesPerEpoch ? order!.narrow(0, (long)(inEpoch + 1) * effectiveBatch, effectiveBatch) : null;
                    var x0All = data.Batch(index, generator, next).to(device);
                    var t = randint(scheduler.FirstTrainTimestep, scheduler.FirstTrainTimestep + scheduler.TrainTimesteps, new long[] { effectiveBatch }, ScalarType.Int64, generator: generator);
                    var noiseAll = randn(x0All.shape, dtype: ScalarType.Float32, generator: generator).to(device);
                    var keepAll = _options.ContextDropout > 0
                        ? rand(new long[] { effectiveBatch, 1 }, generator: generator).ge(_options.ContextDropout).to(ScalarType.Float32)
                        : null;

                    optimizer.zero_grad();
                    if (masters is not null)
                    {
                        model.zero_grad();
                    }

                    Tensor? checkSample = null, checkTime = null, checkContext = null;
                    double ComputeGradients()
                    {
                    double stepLoss = 0;
                    for (int micro = 0; micro < accumulation; micro++)
                    {
                        long from = (long)micro * batch;
                        var microIndex = accumulation == 1 ? index : index.narrow(0, from, batch);
                        var x0 = accumulation == 1 ? x0All : x0All.narrow(0, from, batch);
                        var microT = accumulation == 1 ? t : t.narrow(0, from, batch);
                        var noise = accumulation == 1 ? noiseAll : noiseAll.narrow(0, from, batch);
                        var context = trainableEncoder is null
                            ? data.Contexts!.index_select(0, microIndex)
                            : trainableEncoder.EncodeForTraining(microIndex.data<long>().Select(i => data.Captions[i]).ToArray());
                        if (keepAll is not null)
                        {
                            var keep = accumulation == 1 ? keepAll : keepAll.narrow(0, from, batch);
                            var unconditional = frozenUnconditional ?? trainableEncoder!.EncodeForTraining(new[] { string.Empty });
                            context = (context * keep) + (unconditional * (1 - keep));
                        }

                        var noisy = scheduler.AddNoise(x0, noise, microT.to(device));
                        var time = (microT.to(ScalarType.Float32) / totalTimesteps).to(device);
                        if (micro == 0)
                        {
                            (checkSample, checkTime, checkContext) = (noisy, time, context);
                        }

                        var predicted = model.call(noisy.to(computeType), time.to(computeType), context.to(device).to(computeType));
                        var target = scheduler.GetTrainingTarget(x0, noise, microT.to(device));
                        var mse = _options.SnrGamma is { } gamma
                            ? (predicted.to(ScalarType.Float32) - target).square().mean(new long[] { 1, 2, 3 }).mul(scheduler.GetMinSnrLossWeights(microT, gamma).to(device)).mean()
                            : nn.functional.mse_loss(predicted.to(ScalarType.Float32), target);
                        (accumulation == 1 ? mse : mse / accumulation).backward();
                        stepLoss += mse.item<float>();
                    }

                    return stepLoss / accumulation;
                    }

                    // BatchNorm's running statistics before the step: a faulty kernel's NaN would poison them for good.
                    var buffersBefore = network?.buffers().Select(b => b.clone()).ToList();
                    loss = ComputeGradients();
                    if (!(double.IsFinite(loss) && GradientsFinite(model)) && network is not null && model.Device.type == DeviceType.CPU)
                    {
                        using (no_grad())
                        {
                            foreach (var (buffer, before) in network.buffers().Zip(buffersBefore!))
                            {
                                buffer.copy_(before);
                            }
                        }

                        // A non-finite step: recompute it in float64 (reference kernels). Finite there means the CPU's kernels
                        // failed, not the model: move to the next route that passes the check and redo the step (same batch,
                        // same noise), or stop with a message that names the fault. Non-finite there too: the model diverged.
                        var (referenceFinite, result) = KernelCheck.Diagnose(network, computeType, checkSample!, checkTime!, checkContext);
                        if (referenceFinite)
                        {
                            if (!result.Passed && computeType == ScalarType.BFloat16)
                            {
                                throw new KernelFaultException($"Step {step + 1} was non-finite in bfloat16 but finite in float64, and no kernel route runs bfloat16 right on this CPU. {result.Warning}");
                            }

                            if (!result.Passed)
                            {
                                throw new InvalidOperationException($"Training stopped at step {step + 1}: the loss or gradients are non-finite in {computeType}, while the same step in float64 is finite, so this CPU's convolution kernels are faulty (not the learning rate) and no kernel route passed the check. {result.Warning} Workarounds: --precision fp32, --threads 1, {KernelRouting.PinVariable}=reference, or ONEDNN_MAX_CPU_ISA=SSE41 (docs/training.md, \"Faulty CPU kernels\").");
                            }

                            Warn($"Step {step + 1} was non-finite in {computeType} but finite in float64: a CPU kernel fault, not divergence; redoing it on the {result.Route} kernel route. {result.Warning}");
                            optimizer.zero_grad();
                            model.zero_grad();
                            loss = ComputeGradients();
                        }
                    }

                    if (!double.IsFinite(loss))
                    {
                        throw new InvalidOperationException($"Training diverged at step {step + 1}: the loss is {loss}. Lower the learning rate (now {lr}){(_options.MaxGradNorm is null ? ", set MaxGradNorm" : string.Empty)} or check the data for NaN.");
                    }
                    masters?.CopyGradientsToMasters();
                    if (_options.MaxGradNorm is { } maxNorm)
                    {
                        nn.utils.clip_grad_norm_(optimized, maxNorm);
                    }

                    optimizer.step();
                    masters?.CopyMastersToModel();
                }

                ema?.Update();
                step++;
                average = double.IsNaN(average) ? loss : (LossSmoothing * average) + ((1 - LossSmoothing) * loss);
                double trained = (step - startStep) * (double)effectiveBatch;
                progress?.Report(new TrainingProgress(step, plannedSteps ?? 0, loss, average, lr, trained / clock.Elapsed.TotalSeconds, Elapsed()));
                bool last = plannedSteps is { } planned && step >= planned;
                if (_options.SaveEvery is { } saveEvery && step % saveEvery == 0 && !last)
                {
                    Publish(callbacks.Checkpoint, TrainingSnapshotReason.Periodic);
                    lastCheckpoint = step;
                }

                if (_options.SampleEvery is { } sampleEvery && step % sampleEvery == 0)
                {
                    Publish(callbacks.Sample, TrainingSnapshotReason.Sample);
                }

                if (_options.ValidateEvery is { } validateEvery && step % validateEvery == 0)
                {
                    Publish(callbacks.Validation, TrainingSnapshotReason.Validation);
                    lastValidation = step;
                }
            }

            if (_options.ValidateEvery is not null && lastValidation != step)
            {
                Publish(callbacks.Validation, TrainingSnapshotReason.Validation);
            }

            if (lastCheckpoint != step)
            {
                Publish(callbacks.Checkpoint, TrainingSnapshotReason.Completed);
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

        double seconds = Math.Max(clock.Elapsed.TotalSeconds, 1e-9);
        return new TrainingResult(step, loss, average, Elapsed(), (step - startStep) * (double)effectiveBatch / seconds, stoppedByTime)
        {
            Precision = precision,
            PrecisionMeasurement = measurement,
        };
    }

    /// <summary>bfloat16's kernels failed mid-run on every route: the run starts over in float32 (see <see cref="Train{TModel}(TModel, INoiseScheduler, IImageCaptionDataset, ITextEncoder, TrainingCallbacks, IProgress{TrainingProgress}?, CancellationToken)"/>).</summary>
    private sealed class KernelFaultException(string message) : InvalidOperationException(message);

    /// <summary>Whether every parameter gradient of <paramref name="model"/> is finite.</summary>
    private static bool GradientsFinite(nn.Module model)
    {
        foreach (var parameter in model.parameters())
        {
            if (parameter.grad is { } grad && !grad.isfinite().all().item<bool>())
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The weights the optimiser updates, by state_dict name, in float32: the masters' values under bfloat16 (buffers cast to float32), else the model's own tensors.</summary>
    private static IEnumerable<(string Name, Tensor Tensor)> LiveModelWeights(nn.Module model, BFloat16MasterWeights? masters, List<string> parameterNames)
    {
        if (masters is null)
        {
            foreach (var (name, tensor) in model.state_dict())
            {
                yield return (name, tensor);
            }

            yield break;
        }

        for (int i = 0; i < parameterNames.Count; i++)
        {
            yield return (parameterNames[i], masters.Masters[i]);
        }

        foreach (var (name, buffer) in model.named_buffers(include_nonpersistent: false))
        {
            yield return (name, buffer.is_floating_point() ? buffer.to(ScalarType.Float32) : buffer);
        }
    }

    /// <summary>Names of a trainable encoder's parameters: its own names when it is a module that owns them, else their positions.</summary>
    private static List<string> EncoderParameterNames(ITextEncoder encoder, List<TorchSharp.Modules.Parameter> parameters)
    {
        if (encoder is nn.Module module)
        {
            var byHandle = module.named_parameters().ToDictionary(p => p.parameter.Handle, p => p.name);
            if (parameters.All(p => byHandle.ContainsKey(p.Handle)))
            {
                return parameters.Select(p => byHandle[p.Handle]).ToList();
            }
        }

        return parameters.Select((_, i) => i.ToString(CultureInfo.InvariantCulture)).ToList();
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
