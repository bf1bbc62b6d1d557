using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>
/// The reverse-diffusion loop: draws seeded Gaussian noise and walks the scheduler's timesteps, asking the denoiser
/// for the noise at each step, with optional classifier-free guidance.
/// </summary>
/// <remarks>
/// <para>Which algorithm runs (DDPM ancestral, DDIM, ...) is the scheduler's choice; this class owns only the loop.</para>
/// <para>Guidance follows the course's ancestor (TeaPearce): <c>eps = (1 + w)·eps_cond - w·eps_uncond</c>, with the
/// conditional and unconditional passes run as one batch. w = 0 runs one plain conditional pass per step and gives
/// exactly the unguided images. diffusers' <c>guidance_scale</c> s is <c>1 + w</c> (s = 1 means no guidance).</para>
/// <para>The loop follows the scheduler's contract: initial noise times <see cref="INoiseScheduler.InitNoiseSigma"/>, one
/// <see cref="INoiseScheduler.BeginLoop"/> per call (multistep solvers keep their history there), model input
/// <see cref="INoiseScheduler.ScaleModelInput"/> and model time <see cref="INoiseScheduler.GetModelTimestep"/> / T.</para>
/// <para>Each step runs in its own dispose scope; only the current sample survives a step. Stateless and thread-safe.</para>
/// </remarks>
public sealed class DiffusionSampler : ISampler
{
    /// <summary>A shared instance; the sampler holds no state.</summary>
    public static DiffusionSampler Instance { get; } = new();

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
        if (!double.IsFinite(options.GuidanceScale) || options.GuidanceScale < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.GuidanceScale, "SamplingOptions.GuidanceScale must be a finite number >= 0 (0 turns guidance off; the course's guided runs use about 2).");
        }

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
            if (context.dim() != 2 || context.shape[1] != denoiser.ContextSize || context.shape[0] < 1)
            {
                throw new ArgumentException($"context must have shape [B, {denoiser.ContextSize}] with B >= 1 but has [{string.Join(", ", context.shape)}]; encode prompts with a text encoder whose ContextSize matches the model.", nameof(context));
            }

            if (context.isnan().any().item<bool>() || context.isinf().any().item<bool>())
            {
                throw new ArgumentException("context contains NaN or infinite values; check the text encoder's output or the weights of a custom mix.", nameof(context));
            }

            batch = context.shape[0];
        }

        if (options.UnconditionalContext is { } uc
            && (uc.dim() != 2 || uc.shape[1] != denoiser.ContextSize || (uc.shape[0] != 1 && uc.shape[0] != batch)))
        {
            throw new ArgumentException($"SamplingOptions.UnconditionalContext must have shape [1, {denoiser.ContextSize}] or [{batch}, {denoiser.ContextSize}] but has [{string.Join(", ", uc.shape)}]; use encoder.EncodeUnconditional().", nameof(options));
        }

        cancellationToken.ThrowIfCancellationRequested();
        var ownGenerator = options.Generator is null ? new Generator((ulong)options.Seed) : null;
        var generator = options.Generator ?? ownGenerator!;
        try
        {
            return Run(denoiser, scheduler, context, batch, options, generator, progress, cancellationToken);
        }
        finally
        {
            ownGenerator?.Dispose();
        }
    }

    private static Tensor Run(
        IDenoiser denoiser,
        INoiseScheduler scheduler,
        Tensor? context,
        long batch,
        SamplingOptions options,
        Generator generator,
        IProgress<SamplingProgress>? progress,
        CancellationToken cancellationToken)
    {
        using var outer = NewDisposeScope();
        using var noGrad = no_grad();
        var device = denoiser.Device;
        bool guided = options.GuidanceScale > 0 && context is not null;
        double w = options.GuidanceScale;
        double totalTimesteps = scheduler.TrainTimesteps;

        // 1. Conditioning: [cond; uncond] stacked into one batch when guided.
        Tensor? modelContext = context?.to(ScalarType.Float32, device);
        if (guided)
        {
            // The unconditional half is the encoder's empty-prompt context (zeros unless the encoder learned one).
            var unconditional = options.UnconditionalContext is { } u
                ? u.to(ScalarType.Float32, device).expand(modelContext!.shape)
                : zeros_like(modelContext!);
            modelContext = cat(new[] { modelContext!, unconditional }, 0);
        }

        // 2. Initial noise, drawn on the CPU so the same seed gives the same images on every device.
        var sample = randn(new[] { batch, denoiser.Channels, denoiser.ImageSize, denoiser.ImageSize }, dtype: ScalarType.Float32, device: CPU, generator: generator).to(device);
        double initNoiseSigma = scheduler.InitNoiseSigma;
        if (initNoiseSigma != 1.0)
        {
            sample = sample * initNoiseSigma;
        }

        // 3. The loop: one dispose scope per step; only the new sample leaves it.
        var timesteps = scheduler.Timesteps;
        using var loop = scheduler.BeginLoop();
        for (int i = 0; i < timesteps.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int t = timesteps[i];
            Tensor next;
            Tensor? intermediate = null;
            using (var stepScope = NewDisposeScope())
            {
                var scaled = scheduler.ScaleModelInput(sample, t);
                var modelInput = guided ? cat(new[] { scaled, scaled }, 0) : scaled;
                var time = full(new[] { modelInput.shape[0] }, scheduler.GetModelTimestep(t) / totalTimesteps, dtype: ScalarType.Float32, device: device);
                var eps = denoiser.PredictNoise(modelInput, time, modelContext);
                if (guided)
                {
                    var halves = eps.chunk(2, 0);
                    eps = ((1 + w) * halves[0]) - (w * halves[1]);
                }

                var result = loop.Step(eps, t, sample, generator);
                next = result.PrevSample.MoveToOuterDisposeScope();
                if (options.CaptureIntermediates && progress is not null)
                {
                    intermediate = ToUnitRange(next).cpu().DetachFromDisposeScope();
                }
            }

            sample.Dispose();
            sample = next;
            progress?.Report(new SamplingProgress(i + 1, timesteps.Count, t, intermediate));
        }

        // 4. Map [-1, 1] to [0, 1] on the CPU.
        return ToUnitRange(sample).cpu().MoveToOuterDisposeScope();
    }

    /// <summary>Maps model space [-1, 1] to image space [0, 1] (values outside are clipped, as every image writer must).</summary>
    private static Tensor ToUnitRange(Tensor sample) => ((sample + 1) / 2).clamp(0, 1);
}
