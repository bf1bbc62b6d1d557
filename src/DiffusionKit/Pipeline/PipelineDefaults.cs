namespace DiffusionKit.Pipeline;

/// <summary>The generation settings a pipeline uses when a request leaves them null.</summary>
/// <param name="Sampler">The sampling algorithm.</param>
/// <param name="Steps">Denoising steps (already validated against the sampler and schedule).</param>
/// <param name="GuidanceScale">Classifier-free guidance weight, finite and at least 0.</param>
/// <param name="Seed">Seed of the first prompt's sampler call.</param>
public sealed record PipelineDefaults(SamplerKind Sampler, int Steps, double GuidanceScale, long Seed);
