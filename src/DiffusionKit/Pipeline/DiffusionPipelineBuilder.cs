using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Pipeline;

/// <summary>
/// Configures and builds a <see cref="DiffusionPipeline"/> (or a <see cref="PipelineTrainer"/>): the denoiser (the
/// context U-Net or any <see cref="DenoiserModule"/>), the noise schedule, the sampler (a built-in one or the caller's own
/// <see cref="INoiseScheduler"/>), the prompt encoder, the device, the seed and the thread count, or all of the model
/// parts from a checkpoint folder (whose <c>model.type</c> is the built-in <c>ContextUnet</c> or a type registered with
/// <see cref="UseDenoiserType"/>).
/// </summary>
/// <remarks>
/// <para>
/// The <c>Use*</c> methods only record settings (the last call wins); <see cref="Build"/> validates them all, throwing
/// an exception that names the bad option and its allowed values, and then locks the builder: any later call throws
/// <see cref="InvalidOperationException"/>. A builder builds once. Not thread-safe.
/// </para>
/// <para>
/// Defaults (shared with the DI options and the CLI, see <see cref="PipelineDefaults"/>): DDIM with 25 steps (at most T),
/// guidance 3, seed 0, the CPU, TorchSharp's default thread count, the course's scheduler settings
/// (<see cref="SchedulerOptions"/>' defaults: T 500, beta 1e-4..0.02, epsilon prediction), and a U-Net with <see cref="ContextUnetOptions"/>' defaults except
/// that its ContextSize follows the encoder. A text encoder (or a checkpoint) is required.
/// </para>
/// </remarks>
public sealed class DiffusionPipelineBuilder
{
    private ContextUnetOptions? _modelOptions;
    private DenoiserModule? _modelInstance;
    private string? _checkpointFolder;
    private SchedulerOptions? _scheduler;
    private INoiseScheduler? _customScheduler;
    private SamplerKind _sampler = PipelineDefaults.DefaultSampler;
    private int? _steps;
    private string _stepsParameter = "steps";
    private readonly List<DenoiserType> _denoiserTypes = new();
    private double? _guidance;
    private ITextEncoder? _encoder;
    private Device? _device;
    private long _seed = PipelineDefaults.DefaultSeed;
    private int? _threads;
    private ILoggerFactory _loggerFactory = NullLoggerFactory.Instance;
    private PipelineLimits _limits = new();
    private Precision _precision = Precision.Auto;
    private readonly List<Func<CheckpointConfig.TextEncoderConfig, ITextEncoder?>> _encoderFactories = new();
    private bool _built;

    /// <summary>The device the pipeline will run on (the CPU unless <see cref="UseDevice(Device)"/> said otherwise).</summary>
    internal Device Device => _device ?? CPU;

    /// <summary>
    /// Where the builder and what it builds log: the factory given to <see cref="UseLoggerFactory"/>, or
    /// <see cref="NullLoggerFactory.Instance"/>. Extension methods that configure the builder (such as <c>UseCuda</c>)
    /// create their loggers from it; it is readable after <see cref="Build"/> too.
    /// </summary>
    public ILoggerFactory LoggerFactory => _loggerFactory;

    /// <summary>Builds a new randomly initialised U-Net (seeded with <see cref="UseSeed"/>'s seed) with these options; replaces any earlier model choice.</summary>
    /// <param name="options">The architecture; validated by <see cref="Build"/>. Its ContextSize must match the encoder's.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseModel(ContextUnetOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfBuilt(nameof(UseModel));
        (_modelOptions, _modelInstance, _checkpointFolder) = (options, null, null);
        return this;
    }

    /// <summary>
    /// Uses an existing (for example trained) network: a <see cref="ContextUnet"/> or any other <see cref="DenoiserModule"/>;
    /// replaces any earlier model choice. The caller keeps ownership: the pipeline never disposes it, but moves it to the
    /// device and puts it in eval mode. Its checkpoints name its <see cref="DenoiserModule.DenoiserType"/>; register that
    /// type (<see cref="UseDenoiserType"/>) wherever they are loaded.
    /// </summary>
    /// <param name="model">The network.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseModel(DenoiserModule model)
    {
        ArgumentNullException.ThrowIfNull(model);
        ThrowIfBuilt(nameof(UseModel));
        (_modelOptions, _modelInstance, _checkpointFolder) = (null, model, null);
        return this;
    }

    /// <summary>
    /// Loads the model, schedule and text encoder from a checkpoint folder (<c>config.json</c> + <c>model.safetensors</c>);
    /// replaces any earlier model choice. The checkpoint's <c>model.type</c> must be <c>ContextUnet</c> or a type given to
    /// <see cref="UseDenoiserType"/>. Do not combine with <see cref="UseScheduler(SchedulerOptions)"/> (the checkpoint
    /// holds the training schedule) or <see cref="UseTextEncoder"/>; <see cref="UseScheduler(INoiseScheduler)"/> and
    /// <see cref="UseSampler"/> choose how it samples.
    /// </summary>
    /// <param name="folder">A folder written by <see cref="DiffusionCheckpoint.Save"/> or <see cref="PipelineTrainer.SaveCheckpoint"/>.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder FromCheckpoint(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ThrowIfBuilt(nameof(FromCheckpoint));
        (_modelOptions, _modelInstance, _checkpointFolder) = (null, null, folder);
        return this;
    }

    /// <summary>
    /// Adds a factory that <see cref="FromCheckpoint"/> asks for text encoders of types the core does not create itself
    /// (the core restores <c>bag_of_words</c> and <c>learned</c>). The MiniLM package adds its own with
    /// <c>AddMiniLmTextEncoder()</c>. Factories are asked in the order added; the first that returns an encoder wins.
    /// </summary>
    /// <param name="factory">Returns an encoder for a checkpoint's <c>text_encoder</c> section, or null for types it does not know.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseCheckpointTextEncoderFactory(Func<CheckpointConfig.TextEncoderConfig, ITextEncoder?> factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        ThrowIfBuilt(nameof(UseCheckpointTextEncoderFactory));
        if (!_encoderFactories.Contains(factory))
        {
            _encoderFactories.Add(factory);
        }

        return this;
    }

    /// <summary>
    /// Sets the scheduler of a new model, every field of it: the training settings — the noise schedule (T, betas, beta
    /// schedule, convention), the prediction type (epsilon, v_prediction or sample) and the timestep spacing — and the
    /// default sampler, <see cref="SchedulerOptions.Algorithm"/> with <see cref="SchedulerOptions.InferenceSteps"/> steps
    /// (null: the algorithm's default), as <see cref="UseSampler"/> would set them. Trainers from <see cref="BuildTrainer"/>
    /// train on this prediction type, checkpoints record the training settings, and every sampler of the pipeline follows
    /// them. Default <c>new SchedulerOptions()</c> (the course's schedule: T 500, linear betas 1e-4..0.02, epsilon
    /// prediction; DDIM with 25 steps). Between this, <see cref="UseSampler"/> and <see cref="UseScheduler(INoiseScheduler)"/>
    /// the last call chooses the default sampler. Validated by <see cref="Build"/>.
    /// </summary>
    /// <param name="options">The settings; none is ignored.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseScheduler(SchedulerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfBuilt(nameof(UseScheduler));
        (_scheduler, _sampler, _steps, _customScheduler, _stepsParameter) = (options, options.Algorithm, options.InferenceSteps, null, nameof(SchedulerOptions.InferenceSteps));
        return this;
    }

    /// <summary>
    /// Samples with the caller's own scheduler: every request that names no <see cref="GenerationRequest.Sampler"/> runs
    /// its loop on <paramref name="scheduler"/> at its current <see cref="INoiseScheduler.Timesteps"/> (set them with
    /// <see cref="INoiseScheduler.SetTimesteps"/> first; the pipeline never calls it, so concurrent loops share the
    /// scheduler, each with its own <see cref="INoiseScheduler.BeginLoop"/> state). Requests that name a sampler use the
    /// built-in one over the training settings. Works with <see cref="FromCheckpoint"/> and with a new model; training
    /// (<see cref="BuildTrainer"/>) and checkpoints use the training settings (<see cref="UseScheduler(SchedulerOptions)"/>
    /// or the checkpoint's), not this scheduler. Replaces the default sampler of an earlier <see cref="UseSampler"/>.
    /// </summary>
    /// <param name="scheduler">The scheduler; its <see cref="INoiseScheduler.TrainTimesteps"/> must equal the model's T, its step count at most <see cref="PipelineLimits.MaxSteps"/> (checked by <see cref="Build"/>). The caller keeps it; it must not be changed while the pipeline lives.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseScheduler(INoiseScheduler scheduler)
    {
        ArgumentNullException.ThrowIfNull(scheduler);
        ThrowIfBuilt(nameof(UseScheduler));
        _customScheduler = scheduler;
        return this;
    }

    /// <summary>
    /// Registers a denoiser type, so <see cref="FromCheckpoint"/> loads checkpoints whose <c>model.type</c> is its
    /// <see cref="DenoiserType.Name"/> (the built-in <see cref="ContextUnetType"/> needs no registration). Registering the
    /// same instance twice is one registration; two different types with one name fail at <see cref="Build"/>.
    /// </summary>
    /// <param name="type">The type.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseDenoiserType(DenoiserType type)
    {
        ArgumentNullException.ThrowIfNull(type);
        ThrowIfBuilt(nameof(UseDenoiserType));
        if (!_denoiserTypes.Contains(type))
        {
            _denoiserTypes.Add(type);
        }

        return this;
    }

    /// <summary>Sets the default sampler and its step count, replacing an earlier <see cref="UseScheduler(INoiseScheduler)"/>. Default <see cref="PipelineDefaults.DefaultSampler"/>.</summary>
    /// <param name="kind">The algorithm.</param>
    /// <param name="steps">Denoising steps; null for the sampler's default (<see cref="SchedulerOptions.DefaultInferenceSteps"/>: T for DDPM, which allows only T; 25 for DDIM; 20 for the others).</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseSampler(SamplerKind kind, int? steps = null)
    {
        ThrowIfBuilt(nameof(UseSampler));
        (_sampler, _steps, _customScheduler, _stepsParameter) = (kind, steps, null, "steps");
        return this;
    }

    /// <summary>
    /// Sets the default classifier-free guidance weight. Default: the checkpoint's recommendation (<c>config.json</c>
    /// <c>sampling.guidance_scale</c>, which <c>train --data</c> sets to 1) with <see cref="FromCheckpoint"/>, else
    /// <see cref="PipelineDefaults.DefaultGuidanceScale"/> (3); 0 turns it off. Must be finite and at least 0.
    /// </summary>
    /// <param name="guidanceScale">w in <c>eps = (1 + w)·eps_cond - w·eps_uncond</c>.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseGuidance(double guidanceScale)
    {
        ThrowIfBuilt(nameof(UseGuidance));
        _guidance = guidanceScale;
        return this;
    }

    /// <summary>Sets the prompt encoder (required unless the model comes from a checkpoint).</summary>
    /// <param name="encoder">The encoder; its ContextSize must match the model's.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseTextEncoder(ITextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(encoder);
        ThrowIfBuilt(nameof(UseTextEncoder));
        _encoder = encoder;
        return this;
    }

    /// <summary>Sets the device the model runs on. Default the CPU. For a GPU prefer <c>UseCuda()</c> from DiffusionKit.Cuda, which checks for a CUDA backend.</summary>
    /// <param name="device">A CPU or CUDA device.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseDevice(Device device)
    {
        ArgumentNullException.ThrowIfNull(device);
        ThrowIfBuilt(nameof(UseDevice));
        _device = device;
        return this;
    }

    /// <summary>Sets the device from its name: <c>"cpu"</c>, <c>"cuda"</c> or <c>"cuda:N"</c>.</summary>
    /// <param name="device">The device name.</param>
    /// <returns>This builder.</returns>
    /// <exception cref="ArgumentException">When the name is not a device TorchSharp knows.</exception>
    public DiffusionPipelineBuilder UseDevice(string device)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(device);
        ThrowIfBuilt(nameof(UseDevice));
        try
        {
            _device = new Device(device);
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException)
        {
            throw new ArgumentException($"UseDevice: '{device}' is not a device; use \"cpu\", \"cuda\" or \"cuda:N\".", nameof(device), ex);
        }

        return this;
    }

    /// <summary>Sets the default generation seed (prompt p of a request uses seed + p) and the seed of a new model's random weights. Default 0.</summary>
    /// <param name="seed">Any value.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseSeed(long seed)
    {
        ThrowIfBuilt(nameof(UseSeed));
        _seed = seed;
        return this;
    }

    /// <summary>
    /// Sets the number of CPU threads TorchSharp uses. This is process-wide (<c>torch.set_num_threads</c>): it is
    /// applied by <see cref="Build"/> and affects every TorchSharp user in the process. Default: leave it unchanged.
    /// </summary>
    /// <param name="threads">At least 1.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseThreads(int threads)
    {
        ThrowIfBuilt(nameof(UseThreads));
        _threads = threads;
        return this;
    }

    /// <summary>Sets how the pipeline batches concurrent requests and what it accepts (batch size, queue delay, request and queue limits). Default <c>new PipelineLimits()</c>; see its properties for each default. Validated by <see cref="Build"/>.</summary>
    /// <param name="limits">The settings; copied by <see cref="Build"/>.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseLimits(PipelineLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        ThrowIfBuilt(nameof(UseLimits));
        _limits = limits;
        return this;
    }

    /// <summary>
    /// Sets the arithmetic the pipeline samples in. Default <see cref="Precision.Auto"/>: when the pipeline is built, times
    /// float32 and bfloat16 forward passes of this network on this machine (well under a second for the demo's network;
    /// once per network shape per process) and uses bfloat16 only when it is more than 5% faster, logging both figures
    /// (<see cref="DiffusionPipeline.PrecisionMeasurement"/>). <see cref="Precision.Float32"/> forces the reference
    /// arithmetic (pixels identical on every run; use it in tests that compare images with fixed references);
    /// <see cref="Precision.BFloat16"/> samples with a bfloat16 copy of the network (see <see cref="BFloat16Denoiser"/>).
    /// </summary>
    /// <param name="precision">The precision.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UsePrecision(Precision precision)
    {
        ThrowIfBuilt(nameof(UsePrecision));
        _precision = precision;
        return this;
    }

    /// <summary>Sets where the pipeline logs. Default <see cref="NullLoggerFactory.Instance"/>. Call it before extensions that log while configuring (such as <c>UseCuda</c>).</summary>
    /// <param name="loggerFactory">The factory.</param>
    /// <returns>This builder.</returns>
    public DiffusionPipelineBuilder UseLoggerFactory(ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(loggerFactory);
        ThrowIfBuilt(nameof(UseLoggerFactory));
        _loggerFactory = loggerFactory;
        return this;
    }

    /// <summary>Validates every setting, locks the builder and builds the pipeline (loading or creating the model).</summary>
    /// <returns>A pipeline that owns its model unless it came from <see cref="UseModel(DenoiserModule)"/>.</returns>
    /// <exception cref="ArgumentException">When a setting is invalid; the message names it and its allowed values.</exception>
    /// <exception cref="InvalidOperationException">When the builder was already built, settings conflict, or a required one is missing.</exception>
    /// <exception cref="Native.TorchSharpNativeLoadException">When the app has no TorchSharp backend: the message names the packages to add (TorchSharp-cpu, or DiffusionKit.Cuda with a CUDA bundle).</exception>
    /// <exception cref="FileNotFoundException">When the checkpoint folder lacks a file.</exception>
    /// <exception cref="InvalidDataException">When the checkpoint is corrupt, or its <c>model.type</c> is not registered (<see cref="UseDenoiserType"/>).</exception>
    /// <remarks>
    /// The model is built (and, with <see cref="Precision.Auto"/>, timed) on a thread that ends with <c>Build</c>, so the
    /// pipeline's engine thread is the only thread holding an OpenMP pool for it (see docs/benchmarks.md, "One OpenMP
    /// pool"); tensors made here are not added to the caller's dispose scope.
    /// </remarks>
    public DiffusionPipeline Build() => Native.OpenMpThreads.RunOnTransientThread(() => new DiffusionPipeline(Assemble(nameof(Build))));

    /// <summary>Validates and locks like <see cref="Build"/>, but returns a trainer for the configured model instead.</summary>
    /// <param name="options">Training settings; validated now.</param>
    /// <returns>A trainer that owns its model unless it came from <see cref="UseModel(DenoiserModule)"/>.</returns>
    /// <exception cref="ArgumentException">When a setting or training option is invalid.</exception>
    /// <exception cref="InvalidOperationException">As for <see cref="Build"/>.</exception>
    public PipelineTrainer BuildTrainer(DiffusionTrainerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        ThrowIfBuilt(nameof(BuildTrainer));
        options.Validate();
        return Native.OpenMpThreads.RunOnTransientThread(() => new PipelineTrainer(Assemble(nameof(BuildTrainer)), options));
    }

    private PipelineComponents Assemble(string method)
    {
        ThrowIfBuilt(method);

        // 0. A TorchSharp backend is present (else DiffusionKit's message naming the packages, not TorchSharp's load error).
        Native.TorchSharpNativeCompatibility.EnsureLoadable();

        // 1. Settings that need nothing else.
        if (_threads is < 1)
        {
            throw new ArgumentOutOfRangeException("threads", _threads, "UseThreads: threads must be at least 1 (for example Environment.ProcessorCount).");
        }

        if (_guidance is { } guidanceScale)
        {
            GuidanceRange.ThrowIfOutOfRange(guidanceScale, "guidanceScale", "UseGuidance: guidanceScale");
        }

        if (!Enum.IsDefined(_sampler))
        {
            throw new ArgumentOutOfRangeException("kind", _sampler, $"UseSampler: kind must be one of {string.Join(", ", Enum.GetNames<SamplerKind>())}.");
        }

        if (!Enum.IsDefined(_precision))
        {
            throw new ArgumentOutOfRangeException("precision", _precision, $"UsePrecision: precision must be one of {string.Join(", ", Enum.GetNames<Precision>())}.");
        }

        var limits = _limits.Clone();
        limits.Validate();

        var device = Device;
        if (device.type is not (DeviceType.CPU or DeviceType.CUDA))
        {
            throw new ArgumentOutOfRangeException("device", device.ToString(), "UseDevice: device must be the CPU or a CUDA device (\"cpu\", \"cuda\", \"cuda:N\").");
        }

        if (device.type == DeviceType.CUDA && !cuda.is_available())
        {
            throw new InvalidOperationException($"UseDevice: device '{device}' needs a TorchSharp CUDA backend, but none is loaded. Call UseCuda() from the DiffusionKit.Cuda package, which says which package to add, or use the CPU.");
        }

        // 2. Model, schedule and encoder settings, checked before anything is loaded.
        NoiseSchedule schedule;
        SchedulerOptions training;
        ContextUnetOptions? modelOptions = null;
        double? recommendedGuidance = null;
        var denoiserTypes = new DenoiserTypeRegistry(_denoiserTypes);
        string modelType;
        if (_checkpointFolder is not null)
        {
            if (_scheduler is not null || _encoder is not null)
            {
                string call = _scheduler is not null ? "UseScheduler(SchedulerOptions)" : nameof(UseTextEncoder);
                throw new InvalidOperationException($"FromCheckpoint supplies the schedule and the text encoder; remove the {call} call.");
            }

            var config = DiffusionCheckpoint.ReadConfig(_checkpointFolder, denoiserTypes).Config;
            modelType = config.Model.Type;
            training = config.Scheduler;
            recommendedGuidance = config.Sampling?.GuidanceWeight;
            schedule = new NoiseSchedule(training);
        }
        else
        {
            var encoder = _encoder ?? throw new InvalidOperationException($"No text encoder: call {nameof(UseTextEncoder)} (or UseVocabulary), or load everything with {nameof(FromCheckpoint)}.");
            training = SchedulerFactory.Validated(_scheduler ?? new SchedulerOptions());
            schedule = new NoiseSchedule(training);
            if (_modelInstance is { } instance)
            {
                modelType = instance.DenoiserType.Name;
                if (instance.Channels is not (1 or 3))
                {
                    throw new ArgumentOutOfRangeException(nameof(IDenoiser.Channels), instance.Channels, "UseModel: the model's Channels must be 1 (grey) or 3 (RGB) for a pipeline that returns RGB images.");
                }

                if (instance.ContextSize != encoder.ContextSize)
                {
                    throw new ArgumentException($"UseModel: the model's ContextSize is {instance.ContextSize} but the text encoder produces {encoder.ContextSize}-dimensional contexts; build the model for {encoder.ContextSize}-dimensional contexts.", nameof(IDenoiser.ContextSize));
                }
            }
            else
            {
                modelType = ContextUnetType.TypeName;
                var options = _modelOptions ?? new ContextUnetOptions { ContextSize = encoder.ContextSize };
                options.Validate();
                if (options.InChannels is not (1 or 3))
                {
                    throw new ArgumentOutOfRangeException(nameof(ContextUnetOptions.InChannels), options.InChannels, "UseModel: InChannels must be 1 (grey) or 3 (RGB) for a pipeline that returns RGB images.");
                }

                if (options.ContextSize != encoder.ContextSize)
                {
                    throw new ArgumentException($"UseModel: ContextSize is {options.ContextSize} but the text encoder produces {encoder.ContextSize}-dimensional contexts; set ContextUnetOptions.ContextSize = {encoder.ContextSize}.", nameof(ContextUnetOptions.ContextSize));
                }

                modelOptions = options;
            }
        }

        if (_precision == Precision.BFloat16 && modelType != ContextUnetType.TypeName)
        {
            throw new ArgumentOutOfRangeException("precision", _precision, $"UsePrecision: bfloat16 sampling is available for the ContextUnet only, but the model is a {modelType}; use Precision.Float32 or Precision.Auto (which samples other networks in float32).");
        }

        int steps;
        if (_customScheduler is { } custom)
        {
            if (custom.TrainTimesteps != schedule.TrainTimesteps)
            {
                throw new ArgumentException($"UseScheduler: the scheduler has {custom.TrainTimesteps} training timesteps but the model was trained with T = {schedule.TrainTimesteps}; build it over the same schedule.", "scheduler");
            }

            steps = custom.InferenceSteps;
            if (steps < 1 || steps > limits.MaxSteps || custom.Timesteps.Count != steps)
            {
                throw new ArgumentOutOfRangeException("scheduler", steps, $"UseScheduler: the scheduler is set to {steps} steps ({custom.Timesteps.Count} timesteps); call its SetTimesteps with 1..{Math.Min(limits.MaxSteps, schedule.TrainTimesteps)} steps (PipelineLimits.MaxSteps) first.");
            }
        }
        else
        {
            steps = _steps ?? SchedulerSelection.DefaultSteps(_sampler, schedule);
            SchedulerSelection.Validate(_sampler, steps, schedule.TrainTimesteps, _stepsParameter);
        }

        // 3. Everything is valid: lock, then create or load the model.
        _built = true;
        if (_threads is { } threads)
        {
            set_num_threads(threads);
        }

        DenoiserModule model;
        ITextEncoder textEncoder;
        bool owns = _modelInstance is null;
        if (_checkpointFolder is not null)
        {
            var factories = _encoderFactories.ToArray();
            var loaded = DiffusionCheckpoint.Load(
                _checkpointFolder,
                factories.Length == 0 ? null : config => factories.Select(f => f(config)).FirstOrDefault(e => e is not null),
                _denoiserTypes);
            (model, schedule, textEncoder) = (loaded.Model, loaded.Schedule, loaded.Encoder);
        }
        else
        {
            model = _modelInstance ?? new ContextUnet(modelOptions, _seed);
            textEncoder = _encoder!;
        }

        try
        {
            model.to(device);
            model.eval();
        }
        catch
        {
            if (owns)
            {
                model.Dispose();
            }

            throw;
        }

        return new PipelineComponents(model, owns, schedule, training, textEncoder, _checkpointFolder is not null, new PipelineDefaults(_sampler, steps, _guidance ?? recommendedGuidance ?? PipelineDefaults.DefaultGuidanceScale, _seed) { Scheduler = _customScheduler }, _loggerFactory, limits, _precision);
    }

    private void ThrowIfBuilt(string method)
    {
        if (_built)
        {
            throw new InvalidOperationException($"DiffusionPipelineBuilder.{method} cannot be called after Build() or BuildTrainer(): a builder is locked once it has built. Create a new DiffusionPipelineBuilder.");
        }
    }
}
