using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>
/// The library's sampling API (<see cref="ISampler"/>): draws seeded Gaussian noise and walks the scheduler's timesteps,
/// asking the denoiser for the noise at each step, with optional classifier-free guidance. It runs the same driver
/// (<see cref="SamplingEngine"/>) and the same per-image seeding as the pipeline, so image k of a call with seed s is
/// the pipeline's image k of a request with seed s (same sampler, steps and guidance), within float rounding.
/// </summary>
/// <remarks>
/// <para>Which algorithm runs (DDPM ancestral, DDIM, ...) is the scheduler's choice; this class owns only the loop.</para>
/// <para>Guidance follows the course's ancestor (TeaPearce): <c>eps = (1 + w)·eps_cond - w·eps_uncond</c>, with the
/// conditional and unconditional passes run as one batch. w = 0 runs one plain conditional pass per step and gives
/// exactly the unguided images. diffusers' <c>guidance_scale</c> s is <c>1 + w</c> (s = 1 means no guidance). With
/// <see cref="SamplingOptions.GuidanceScales"/> each image has its own w, and only images with w &gt; 0 join the
/// unconditional half of the network call.</para>
/// <para>Noise: by default image k draws from its own generator seeded <see cref="SamplingOptions.Seed"/> + k (a
/// <see cref="PerImageNoiseSource"/>), so every image is independent of its batch-mates; <see cref="SamplingOptions.ImageSeeds"/>
/// lists the seeds explicitly, and <see cref="SamplingOptions.Generator"/> draws the whole batch from one caller-owned
/// generator instead.</para>
/// <para>The loop follows the scheduler's contract: initial noise times <see cref="INoiseScheduler.InitNoiseSigma"/>, one
/// <see cref="INoiseScheduler.BeginLoop"/> per call (multistep solvers keep their history there), model input
/// <see cref="INoiseScheduler.ScaleModelInput"/> and model time <see cref="INoiseScheduler.GetModelTimestep"/> / T.</para>
/// <para>Each step runs in its own dispose scope without autograd; only the current sample survives a step, and the
/// per-step work does not grow with the step count. Holds no state: one instance may run several loops at once (from
/// several threads when the denoiser allows it); register it as a singleton in DI (<c>AddDiffusionKit</c> does).</para>
/// </remarks>
public sealed class DiffusionSampler : ISampler
{
    /// <inheritdoc />
    public Tensor Sample(
        IDenoiser denoiser,
        INoiseScheduler scheduler,
        Tensor? context,
        SamplingOptions options,
        IProgress<SamplingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(denoiser);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(options);
        GuidanceRange.ThrowIfOutOfRange(options.GuidanceScale, nameof(options), "SamplingOptions.GuidanceScale");

        long batch;
        if (context is null)
        {
            if (options.Count < 1)
            {
                throw new ArgumentOutOfRangeException(nameof(options), options.Count, "SamplingOptions.Count must be at least 1 when no context is given.");
            }

            batch = options.Count;
        }
        else
        {
            CheckContext(denoiser, context);
            batch = context.shape[0];
        }

        if (options.UnconditionalContext is { } uc
            && (uc.dim() != 2 || uc.shape[1] != denoiser.ContextSize || (uc.shape[0] != 1 && uc.shape[0] != batch)))
        {
            throw new ArgumentException($"SamplingOptions.UnconditionalContext must have shape [1, {denoiser.ContextSize}] or [{batch}, {denoiser.ContextSize}] but has [{string.Join(", ", uc.shape)}]; use encoder.EncodeUnconditional().", nameof(options));
        }

        var guidance = GuidanceOf(options, (int)batch);
        if (options.ImageSeeds is { } seeds)
        {
            if (seeds.Count != batch)
            {
                throw new ArgumentException($"SamplingOptions.ImageSeeds must hold one seed per image ({batch}) but holds {seeds.Count}.", nameof(options));
            }

            if (options.Generator is not null)
            {
                throw new ArgumentException("SamplingOptions.ImageSeeds and SamplingOptions.Generator cannot both be set: per-image seeds replace the shared generator.", nameof(options));
            }
        }

        cancellationToken.ThrowIfCancellationRequested();
        using var perImage = options.Generator is null ? new PerImageNoiseSource(options.ImageSeeds ?? ImageSeeds.Range(options.Seed, 0, (int)batch)) : null;
        INoiseSource noise = perImage ?? (INoiseSource)new GeneratorNoiseSource(options.Generator);
        var observer = progress is null ? null : new ProgressObserver(progress, options.CaptureIntermediates);
        var outcome = Run(new SamplingBatch(denoiser, scheduler, (int)batch, context, options.UnconditionalContext, guidance, noise), observer, cancellationToken);
        return outcome.Images!;
    }

    /// <summary>
    /// Runs one batched loop. The observer may drop rows between steps (cancelled images): they leave the network
    /// calls, the scheduler loop's state and the noise source (when those support it). Returns when every row is
    /// dropped, with no images.
    /// </summary>
    internal static SamplingOutcome Run(SamplingBatch batch, ISamplingObserver? observer, CancellationToken cancellationToken)
    {
        using var outer = NewDisposeScope();
        using var noGrad = no_grad();
        using var cohort = new SamplingCohort(batch, observer);
        var running = new List<SamplingCohort> { cohort };
        while (!cohort.IsFinished)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (SamplingEngine.DropEnded(running, c => c).Count > 0)
            {
                return new SamplingOutcome(null, []);
            }

            SamplingEngine.Step(running, c => c);
        }

        // Map [-1, 1] to [0, 1] on the CPU.
        var outcome = cohort.Outcome();
        outcome.Images!.MoveToOuterDisposeScope();
        return outcome;
    }

    /// <summary>Maps model space [-1, 1] to image space [0, 1] (values outside are clipped, as every image writer must).</summary>
    internal static Tensor ToUnitRange(Tensor sample) => Native.KeptScalars.ToUnitRange(sample);

    private static void CheckContext(IDenoiser denoiser, Tensor context)
    {
        if (context.dim() != 2 || context.shape[1] != denoiser.ContextSize || context.shape[0] < 1)
        {
            throw new ArgumentException($"context must have shape [B, {denoiser.ContextSize}] with B >= 1 but has [{string.Join(", ", context.shape)}]; encode prompts with a text encoder whose ContextSize matches the model.", nameof(context));
        }

        if (context.isnan().any().item<bool>() || context.isinf().any().item<bool>())
        {
            throw new ArgumentException("context contains NaN or infinite values; check the text encoder's output or the weights of a custom mix.", nameof(context));
        }
    }

    private static double[] GuidanceOf(SamplingOptions options, int batch)
    {
        if (options.GuidanceScales is not { } scales)
        {
            return Enumerable.Repeat(options.GuidanceScale, batch).ToArray();
        }

        if (options.GuidanceScale != 0)
        {
            throw new ArgumentException("SamplingOptions.GuidanceScales and a non-zero SamplingOptions.GuidanceScale cannot both be set; put every image's weight in GuidanceScales.", nameof(options));
        }

        if (scales.Count != batch)
        {
            throw new ArgumentException($"SamplingOptions.GuidanceScales must hold one weight per image ({batch}) but holds {scales.Count}.", nameof(options));
        }

        for (int i = 0; i < scales.Count; i++)
        {
            GuidanceRange.ThrowIfOutOfRange(scales[i], nameof(options), $"SamplingOptions.GuidanceScales[{i}]");
        }

        return scales.ToArray();
    }

    /// <summary>Adapts the public <see cref="IProgress{T}"/> to the loop's observer.</summary>
    private sealed class ProgressObserver(IProgress<SamplingProgress> progress, bool capture) : ISamplingObserver
    {
        public IReadOnlyList<int>? Keep(IReadOnlyList<int> active) => null;

        public void StepFinished(int step, int totalSteps, int timestep, IReadOnlyList<int> active, Tensor sample)
        {
            Tensor? intermediate = null;
            if (capture)
            {
                using var scope = NewDisposeScope();
                intermediate = ToUnitRange(sample).cpu().DetachFromDisposeScope();
            }

            progress.Report(new SamplingProgress(step, totalSteps, timestep, intermediate));
        }
    }
}
