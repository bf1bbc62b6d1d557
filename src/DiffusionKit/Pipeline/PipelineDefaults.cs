using DiffusionKit.Scheduling;

namespace DiffusionKit.Pipeline;

/// <summary>
/// The generation settings a pipeline uses when a request leaves them null. The static members are the one home of the
/// defaults that <see cref="DiffusionPipelineBuilder"/>, the DI options (<c>DiffusionKitOptions</c>) and the CLI share,
/// so the same checkpoint gives the same images through each of them.
/// </summary>
/// <param name="Sampler">The sampling algorithm (when <see cref="Scheduler"/> is set, the one a request that names no sampler does not use; see there).</param>
/// <param name="Steps">Denoising steps (already validated against the sampler and schedule; with <see cref="Scheduler"/>, its <see cref="INoiseScheduler.InferenceSteps"/>).</param>
/// <param name="GuidanceScale">Classifier-free guidance weight, finite and at least 0.</param>
/// <param name="Seed">Seed of the first prompt's sampler call.</param>
public sealed record PipelineDefaults(SamplerKind Sampler, int Steps, double GuidanceScale, long Seed)
{
    /// <summary>
    /// The default sampler of every checkpoint, the demo's included: <see cref="SamplerKind.DpmSolverMultistepSde"/>
    /// (SDE-DPM-Solver++ 2M), 20 steps (<see cref="SchedulerOptions.DefaultInferenceSteps"/>). Measured against DDPM with all
    /// its steps on real images as well as on the shapes (docs/training.md, "Choosing the sampler"): the deterministic
    /// samplers (DDIM, DPM-Solver++) lost 0.10–0.12 of prompted-class accuracy on real photos, while SDE-DPM-Solver++ 20
    /// matched or beat DDPM-500 at 1/25 of its network calls.
    /// </summary>
    public const SamplerKind DefaultSampler = SamplerKind.DpmSolverMultistepSde;

    /// <summary>
    /// The default classifier-free guidance weight w when neither the caller nor the checkpoint (<c>config.json</c>
    /// <c>sampling.guidance_scale</c>) sets one: 3, the demo's measured setting (docs/benchmarks.md). 0 turns guidance off.
    /// </summary>
    public const double DefaultGuidanceScale = 3;

    /// <summary>The default seed: 0.</summary>
    public const long DefaultSeed = 0;

    /// <summary>
    /// The caller's own scheduler (<see cref="DiffusionPipelineBuilder.UseScheduler(INoiseScheduler)"/>), which samples every
    /// request that names no <see cref="GenerationRequest.Sampler"/>, at its own <see cref="INoiseScheduler.Timesteps"/>;
    /// null when requests without a sampler use <see cref="Sampler"/>.
    /// </summary>
    public INoiseScheduler? Scheduler { get; init; }
}
