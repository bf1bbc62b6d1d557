using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace DiffusionKit.Pipeline;

/// <summary>
/// The TorchSharp implementation of <see cref="IDiffusionPipeline"/> and DiffusionKit's one generation engine: encodes
/// prompts, queues requests, merges concurrent ones into batched sampling loops with its denoiser (the context U-Net or
/// any <see cref="DenoiserModule"/>) and returns RGB
/// pixels and PNG bytes. Create one with <see cref="DiffusionPipelineBuilder"/>.
/// </summary>
/// <remarks>
/// <para>
/// Batching: every image of every queued request with the same sampler and step count can share one sampling loop
/// (up to <see cref="PipelineLimits.MaxBatchImages"/> images, conditional and unconditional halves in one network call);
/// each image's noise comes from its own seed (see <see cref="GenerationRequest"/>), so its pixels do not depend on its
/// batch-mates. Limits (<see cref="Limits"/>) are checked at once: <see cref="GenerationLimitExceededException"/> for a
/// request over a limit, <see cref="PipelineBusyException"/> when the queue is full.
/// </para>
/// <para>
/// Thread-safety: calls may come from any thread at any time. One engine thread runs the network; prompts are encoded on
/// the caller's thread (one at a time), so a bad prompt fails before it is queued. Telemetry: a meter and an activity
/// source named <c>"DiffusionKit"</c> (see docs/hosting.md).
/// </para>
/// <para>
/// For tensor-level work, <see cref="Model"/>, <see cref="Encoder"/> and <see cref="Schedule"/> expose the parts;
/// do not use them while a generation runs.
/// </para>
/// <para>Dispose stops the engine (queued requests fail with <see cref="ObjectDisposedException"/>, a running batch stops
/// at its next step), then frees the model when the pipeline owns it; later calls throw <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
public sealed class DiffusionPipeline : IDiffusionPipeline, IDisposable
{
    private readonly object _encoderLock = new();
    private readonly bool _ownsModel;
    private readonly bool _ownsEncoder;
    private readonly ILogger _logger;
    private readonly IDisposable? _ownedDenoiser;
    private readonly Tensor _unconditional;
    private readonly PipelineMetrics _metrics;
    private readonly GenerationBatcher _batcher;
    private int _disposed;

    internal DiffusionPipeline(PipelineComponents components)
    {
        Model = components.Model;
        _ownsModel = components.OwnsModel;
        _ownsEncoder = components.OwnsEncoder;
        Schedule = components.Schedule;
        Encoder = components.Encoder;
        Defaults = components.Defaults;
        Limits = components.Limits.Clone();
        _logger = components.LoggerFactory.CreateLogger<DiffusionPipeline>();
        (Denoiser, Precision, PrecisionMeasurement, _ownedDenoiser) = InferencePrecision.Create(Model, components.Precision, Math.Min(2 * Limits.MaxBatchImages, 128), warning => PipelineLog.KernelWarning(_logger, warning));
        if (PrecisionMeasurement is { } measurement)
        {
            PipelineLog.PrecisionChosen(_logger, measurement.ToString());
        }

        using (var scope = NewDisposeScope())
        {
            _unconditional = Encoder.EncodeUnconditional().to(ScalarType.Float32, CPU).DetachFromDisposeScope();
        }

        _metrics = new PipelineMetrics(() => _batcher?.QueuedImages ?? 0);
        _batcher = new GenerationBatcher(Denoiser, components.Training, Defaults.Scheduler, _unconditional, Limits, _metrics, _logger);
        PipelineLog.Ready(_logger, Model.DenoiserType.Name, Model.ImageSize, Model.Device.ToString(), Defaults.Scheduler?.GetType().Name ?? Defaults.Sampler.ToString(), Defaults.Steps, Defaults.GuidanceScale, Defaults.Seed);
    }

    /// <summary>The network (tensor-level escape hatch): a <see cref="ContextUnet"/> or another registered <see cref="DenoiserModule"/>. Do not use it while a generation runs.</summary>
    public DenoiserModule Model { get; }

    /// <summary>What the sampling loop calls: <see cref="Model"/> in float32, or its bfloat16 copy.</summary>
    public IDenoiser Denoiser { get; }

    /// <summary>The prompt encoder.</summary>
    public ITextEncoder Encoder { get; }

    /// <summary>The training noise schedule the samplers walk.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>The settings used when a request leaves them null.</summary>
    public PipelineDefaults Defaults { get; }

    /// <summary>Batching and request limits (a copy; changing it has no effect).</summary>
    public PipelineLimits Limits { get; }

    /// <summary>The arithmetic the pipeline samples in (<see cref="Precision.Auto"/> resolved to the one measured faster).</summary>
    public Precision Precision { get; }

    /// <summary>With <see cref="Precision.Auto"/>, the measurement that chose <see cref="Precision"/>; otherwise null.</summary>
    public PrecisionMeasurement? PrecisionMeasurement { get; }

    /// <summary>Images waiting for a batch now.</summary>
    public int QueuedImages => _batcher.QueuedImages;

    /// <summary>This pipeline's meter (named <c>"DiffusionKit"</c>).</summary>
    internal Meter Meter => _metrics.Meter;

    /// <summary>Sampling loops run so far.</summary>
    internal int BatchesRun => _batcher.BatchesRun;

    /// <summary>Loop steps (network calls) run so far.</summary>
    internal long StepsRun => _batcher.StepsRun;

    /// <inheritdoc />
    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        using var activity = StartActivity(request);
        using var job = Submit(request, null, cancellationToken);
        try
        {
            var result = await job.Completion.Task.ConfigureAwait(false);
            activity?.SetTag("diffusionkit.queue_wait_ms", result.QueueWait.TotalMilliseconds);
            return result;
        }
        catch (Exception ex)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.GetType().Name);
            throw;
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using var activity = StartActivity(request);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true });
        using var job = Submit(request, channel.Writer, stop.Token);
        try
        {
            await foreach (var update in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                // A caller that cancelled gets OperationCanceledException at its next MoveNextAsync, also when the
                // request raced to its end and the rest of its updates are already buffered.
                cancellationToken.ThrowIfCancellationRequested();
                yield return update;
            }

            cancellationToken.ThrowIfCancellationRequested();
            await job.Completion.Task.ConfigureAwait(false);
        }
        finally
        {
            if (!job.Completion.Task.IsCompleted)
            {
                // The consumer stopped early: cancel, which takes the request out of the queue or its batch.
                await stop.CancelAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>Stops the engine (queued requests fail), then frees the model if this pipeline owns it, and the text encoder if it was loaded from a checkpoint. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _batcher.Dispose();
        _metrics.Dispose();
        _unconditional.Dispose();
        _ownedDenoiser?.Dispose();
        if (_ownsModel)
        {
            Model.Dispose();
        }

        if (_ownsEncoder)
        {
            (Encoder as IDisposable)?.Dispose();
        }
    }

    private static Activity? StartActivity(GenerationRequest request)
    {
        var activity = PipelineMetrics.ActivitySource.StartActivity("diffusionkit.generate");
        if (activity is not null && request?.Prompts is { Count: > 0 } prompts)
        {
            activity.SetTag("diffusionkit.prompt", PipelineLog.Truncate(prompts[0] ?? string.Empty));
            activity.SetTag("diffusionkit.prompts", prompts.Count);
            activity.SetTag("diffusionkit.images", (long)prompts.Count * request.ImagesPerPrompt);
        }

        return activity;
    }

    /// <summary>Validates, checks the limits, encodes the prompts and queues the request; every rejection is immediate.</summary>
    private GenerationJob Submit(GenerationRequest request, ChannelWriter<GenerationUpdate>? updates, CancellationToken cancellationToken)
    {
        GenerationPlan plan;
        float[] contexts;
        try
        {
            ArgumentNullException.ThrowIfNull(request);
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            plan = Plan(request);
            contexts = Encode(plan.Prompts);
        }
        catch (GenerationLimitExceededException ex)
        {
            Reject(ex.LimitName, ex);
            throw;
        }
        catch (ArgumentException ex)
        {
            Reject("invalid", ex);
            throw;
        }

        var job = new GenerationJob(plan, contexts, Model.ContextSize, updates, cancellationToken);
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            _batcher.Enqueue(job);
        }
        catch (PipelineBusyException ex)
        {
            job.Dispose();
            Reject("busy", ex);
            throw;
        }
        catch
        {
            job.Dispose();
            throw;
        }

        Activity.Current?.SetTag("diffusionkit.seed", plan.Seed);
        PipelineLog.Generating(_logger, plan.ImageCount, plan.Prompts.Count, PipelineLog.Truncate(plan.Prompts[0]), plan.SamplerName(Defaults.Scheduler), plan.Steps, plan.GuidanceScale, plan.Seed);
        return job;
    }

    private void Reject(string reason, Exception ex)
    {
        _metrics.Rejected(reason);
        PipelineLog.Rejected(_logger, reason, ex.Message);
    }

    /// <summary>Validates <paramref name="request"/> against this pipeline and its limits, and resolves its defaults.</summary>
    private GenerationPlan Plan(GenerationRequest request)
    {
        request.Validate();
        long images = (long)request.Prompts.Count * request.ImagesPerPrompt;
        if (images > Limits.MaxImagesPerRequest)
        {
            throw new GenerationLimitExceededException(nameof(PipelineLimits.MaxImagesPerRequest), images, Limits.MaxImagesPerRequest, request.ImagesPerPrompt > 1 ? nameof(GenerationRequest.ImagesPerPrompt) : nameof(GenerationRequest.Prompts));
        }

        int longest = request.Prompts.Max(p => p.Length);
        if (longest > Limits.MaxPromptLength)
        {
            throw new GenerationLimitExceededException(nameof(PipelineLimits.MaxPromptLength), longest, Limits.MaxPromptLength, nameof(GenerationRequest.Prompts));
        }

        if (request.Steps is { } asked && asked > Limits.MaxSteps)
        {
            throw new GenerationLimitExceededException(nameof(PipelineLimits.MaxSteps), asked, Limits.MaxSteps, nameof(GenerationRequest.Steps));
        }

        if (request.Sampler is null && Defaults.Scheduler is { } custom)
        {
            // The caller's own scheduler walks its own timesteps: the pipeline never re-plans it (other loops share it).
            if (request.Steps is { } customSteps && customSteps != custom.InferenceSteps)
            {
                throw new ArgumentOutOfRangeException(nameof(GenerationRequest.Steps), customSteps, $"Steps must be {custom.InferenceSteps} (or null): requests without a Sampler use the pipeline's own {custom.GetType().Name}, which is set to {custom.InferenceSteps} steps; set Sampler to use a built-in sampler with other step counts.");
            }

            return new GenerationPlan(request.Prompts.ToArray(), request.ImagesPerPrompt, null, custom.InferenceSteps, request.GuidanceScale ?? Defaults.GuidanceScale, request.Seed ?? Defaults.Seed, request.CaptureFrames);
        }

        var sampler = request.Sampler ?? Defaults.Sampler;
        int steps = request.Steps ?? (sampler == Defaults.Sampler && Defaults.Scheduler is null ? Defaults.Steps : SchedulerSelection.DefaultSteps(sampler, Schedule));
        SchedulerSelection.Validate(sampler, steps, Schedule.TrainTimesteps, nameof(GenerationRequest.Steps));
        if (steps > Limits.MaxSteps)
        {
            throw new GenerationLimitExceededException(nameof(PipelineLimits.MaxSteps), steps, Limits.MaxSteps, nameof(GenerationRequest.Steps));
        }

        return new GenerationPlan(request.Prompts.ToArray(), request.ImagesPerPrompt, sampler, steps, request.GuidanceScale ?? Defaults.GuidanceScale, request.Seed ?? Defaults.Seed, request.CaptureFrames);
    }

    /// <summary>Encodes the prompts on the caller's thread (one caller at a time) into row-major [prompts, ContextSize] floats.</summary>
    private float[] Encode(IReadOnlyList<string> prompts)
    {
        lock (_encoderLock)
        {
            using var scope = NewDisposeScope();
            Tensor encoded;
            try
            {
                encoded = Encoder.Encode(prompts);
            }
            catch (ArgumentException ex)
            {
                throw new ArgumentException($"A prompt cannot be encoded: {ex.Message}", nameof(GenerationRequest.Prompts), ex);
            }

            if (encoded.dim() != 2 || encoded.shape[0] != prompts.Count || encoded.shape[1] != Model.ContextSize)
            {
                throw new InvalidOperationException($"The text encoder returned [{string.Join(", ", encoded.shape)}] for {prompts.Count} prompt(s); the model needs [{prompts.Count}, {Model.ContextSize}].");
            }

            var contexts = encoded.to(ScalarType.Float32, CPU).contiguous();
            if (!contexts.isfinite().all().item<bool>())
            {
                throw new ArgumentException("A prompt encodes to NaN or infinite values; check the text encoder.", nameof(GenerationRequest.Prompts));
            }

            return contexts.data<float>().ToArray();
        }
    }
}
