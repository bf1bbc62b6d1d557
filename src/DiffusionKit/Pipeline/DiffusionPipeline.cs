using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using DiffusionKit.Imaging;
using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Scheduling;
using Microsoft.Extensions.Logging;
using static TorchSharp.torch;

namespace DiffusionKit.Pipeline;

/// <summary>
/// The TorchSharp implementation of <see cref="IDiffusionPipeline"/>: encodes prompts, runs the reverse-diffusion
/// loop with a context U-Net and returns RGB pixels and PNG bytes. Create one with <see cref="DiffusionPipelineBuilder"/>.
/// </summary>
/// <remarks>
/// <para>
/// Work runs on a thread-pool thread inside its own dispose scope, so no tensor outlives a call. Thread-safety: calls
/// may come from any thread at any time; they are serialised (one generation at a time, the rest wait their turn),
/// because the model is not safe to run concurrently.
/// </para>
/// <para>
/// For tensor-level work, <see cref="Model"/>, <see cref="Encoder"/> and <see cref="Schedule"/> expose the parts;
/// do not use them while a generation runs.
/// </para>
/// <para>Dispose waits for the running call to finish, then frees the model when the pipeline owns it; later calls throw <see cref="ObjectDisposedException"/>.</para>
/// </remarks>
public sealed class DiffusionPipeline : IDiffusionPipeline, IDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly bool _ownsModel;
    private readonly bool _ownsEncoder;
    private readonly ILogger _logger;
    private readonly SchedulerOptions _training;
    private int _disposed;

    internal DiffusionPipeline(PipelineComponents components)
    {
        Model = components.Model;
        _ownsModel = components.OwnsModel;
        _ownsEncoder = components.OwnsEncoder;
        Schedule = components.Schedule;
        _training = components.Training;
        Encoder = components.Encoder;
        Defaults = components.Defaults;
        _logger = components.LoggerFactory.CreateLogger<DiffusionPipeline>();
        PipelineLog.Ready(_logger, Model.Options.Features, Model.ImageSize, Model.Device.ToString(), Defaults.Sampler, Defaults.Steps, Defaults.GuidanceScale, Defaults.Seed);
    }

    /// <summary>The network (tensor-level escape hatch). Do not use it while a generation runs.</summary>
    public ContextUnet Model { get; }

    /// <summary>The prompt encoder.</summary>
    public ITextEncoder Encoder { get; }

    /// <summary>The training noise schedule the samplers walk.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>The settings used when a request leaves them null.</summary>
    public PipelineDefaults Defaults { get; }

    /// <inheritdoc />
    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken = default)
    {
        var plan = Plan(request);
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed != 0, this);
            return await Task.Run(() => Generate(plan, null, cancellationToken), cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <inheritdoc />
    public async IAsyncEnumerable<GenerationUpdate> GenerateStreamingAsync(GenerationRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var plan = Plan(request);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateUnbounded<GenerationUpdate>(new UnboundedChannelOptions { SingleReader = true, SingleWriter = true });
        var producer = ProduceAsync(plan, channel.Writer, stop.Token);
        try
        {
            await foreach (var update in channel.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                yield return update;
            }

            await producer.ConfigureAwait(false);
        }
        finally
        {
            if (!producer.IsCompleted)
            {
                // The consumer stopped early: cancel the generation and wait, so the model is idle when enumeration ends.
                await stop.CancelAsync().ConfigureAwait(false);
                await producer.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Waits for a running call to finish, then frees the model if this pipeline owns it, and the text encoder if it was loaded from a checkpoint. Idempotent.</summary>
    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _gate.Wait();
        try
        {
            if (_ownsModel)
            {
                Model.Dispose();
            }

            if (_ownsEncoder)
            {
                (Encoder as IDisposable)?.Dispose();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task ProduceAsync(GenerationPlan plan, ChannelWriter<GenerationUpdate> writer, CancellationToken cancellationToken)
    {
        try
        {
            await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                ObjectDisposedException.ThrowIf(_disposed != 0, this);
                await Task.Run(() => Generate(plan, update => writer.TryWrite(update), cancellationToken), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                _gate.Release();
            }
        }
        finally
        {
            writer.TryComplete();
        }
    }

    /// <summary>Validates <paramref name="request"/> against this pipeline and resolves its defaults.</summary>
    private GenerationPlan Plan(GenerationRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(_disposed != 0, this);
        request.Validate();
        var sampler = request.Sampler ?? Defaults.Sampler;
        int steps = request.Steps ?? (sampler == Defaults.Sampler ? Defaults.Steps : SchedulerSelection.DefaultSteps(sampler, Schedule));
        SchedulerSelection.Validate(sampler, steps, Schedule.TrainTimesteps, nameof(GenerationRequest.Steps));
        return new GenerationPlan(request.Prompts.ToArray(), request.ImagesPerPrompt, sampler, steps, request.GuidanceScale ?? Defaults.GuidanceScale, request.Seed ?? Defaults.Seed);
    }

    /// <summary>Runs a whole request on the calling thread: one sampler call per prompt, seeded with seed + prompt index.</summary>
    private GenerationResult Generate(GenerationPlan plan, Action<GenerationUpdate>? onUpdate, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        int promptCount = plan.Prompts.Count;
        PipelineLog.Generating(_logger, promptCount * plan.ImagesPerPrompt, promptCount, plan.Sampler, plan.Steps, plan.GuidanceScale, plan.Seed);
        using var scope = NewDisposeScope();

        // 1. Encode every prompt up front, so a bad prompt fails before any sampling.
        Tensor contexts;
        try
        {
            contexts = Encoder.Encode(plan.Prompts);
        }
        catch (ArgumentException ex)
        {
            throw new ArgumentException($"A prompt cannot be encoded: {ex.Message}", nameof(GenerationRequest.Prompts), ex);
        }

        var images = new List<GeneratedImage>(promptCount * plan.ImagesPerPrompt);
        for (int p = 0; p < promptCount; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            using var promptScope = NewDisposeScope();
            int promptIndex = p;
            long seed = unchecked(plan.Seed + p);

            // 2. One sampler call per prompt: its context repeated ImagesPerPrompt times, a fresh scheduler, a seeded generator.
            var context = contexts.narrow(0, p, 1).expand(plan.ImagesPerPrompt, -1).contiguous();
            var scheduler = SchedulerSelection.Create(plan.Sampler, plan.Steps, _training);
            var progress = onUpdate is null
                ? null
                : new ActionProgress<SamplingProgress>(s =>
                {
                    // The last step is reported below, together with the images.
                    if (s.Step < s.TotalSteps)
                    {
                        onUpdate(new GenerationUpdate(new GenerationProgress(promptIndex, promptCount, s.Step, s.TotalSteps), Array.Empty<GeneratedImage>()));
                    }
                });
            var batch = DiffusionSampler.Instance.Sample(
                Model,
                scheduler,
                context,
                new SamplingOptions { GuidanceScale = plan.GuidanceScale, Seed = seed, UnconditionalContext = Encoder.EncodeUnconditional() },
                progress,
                cancellationToken);

            // 3. Tensors to pixels and PNG bytes.
            var promptImages = ToImages(batch, plan.Prompts[p], p, seed);
            images.AddRange(promptImages);
            int total = scheduler.Timesteps.Count;
            onUpdate?.Invoke(new GenerationUpdate(new GenerationProgress(p, promptCount, total, total), promptImages));
        }

        PipelineLog.Generated(_logger, images.Count, clock.Elapsed.TotalMilliseconds);
        return new GenerationResult(images, clock.Elapsed);
    }

    private static List<GeneratedImage> ToImages(Tensor batch, string prompt, int promptIndex, long seed)
        => ImageTensors.ToRgbImages(batch)
            .Select((image, i) => new GeneratedImage(prompt, promptIndex, i, seed, image.Width, image.Height, image.Pixels, PngEncoder.Encode(image)))
            .ToList();

    /// <summary>A validated request with every default resolved.</summary>
    private sealed record GenerationPlan(IReadOnlyList<string> Prompts, int ImagesPerPrompt, SamplerKind Sampler, int Steps, double GuidanceScale, long Seed);
}
