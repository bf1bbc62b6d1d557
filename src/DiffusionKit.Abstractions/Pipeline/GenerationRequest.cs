namespace DiffusionKit;

/// <summary>What to generate: prompts, how many images each, and optional per-call overrides of the pipeline's defaults.</summary>
/// <remarks>
/// <para>
/// Seeds: the images of prompt p (0-based) come from one sampler call seeded with <c>seed + p</c>, where seed is
/// <see cref="Seed"/> or, when null, the pipeline's seed. Each <see cref="GeneratedImage.Seed"/> reports the seed of
/// its sampler call. Repeating a request (same prompts, counts, steps, guidance, sampler and seed) on the same pipeline
/// reproduces the same pixels bit for bit on the CPU.
/// </para>
/// </remarks>
public sealed class GenerationRequest
{
    /// <summary>The prompts, one sampler call each; at least one. The empty string is the unconditional prompt.</summary>
    public required IReadOnlyList<string> Prompts { get; init; }

    /// <summary>Images per prompt. Default 1. Must be at least 1.</summary>
    public int ImagesPerPrompt { get; init; } = 1;

    /// <summary>Denoising steps; null (default) uses the pipeline's. Must be at least 1; the sampler may restrict it further (DDPM takes exactly T).</summary>
    public int? Steps { get; init; }

    /// <summary>Classifier-free guidance weight; null (default) uses the pipeline's. Must be finite and at least 0 (0 turns guidance off).</summary>
    public double? GuidanceScale { get; init; }

    /// <summary>Seed of the first prompt's sampler call; null (default) uses the pipeline's seed.</summary>
    public long? Seed { get; init; }

    /// <summary>Sampling algorithm; null (default) uses the pipeline's.</summary>
    public SamplerKind? Sampler { get; init; }

    /// <summary>Checks the request on its own (a pipeline also checks it against its model and scheduler).</summary>
    /// <exception cref="ArgumentException">When a property is invalid; <see cref="ArgumentException.ParamName"/> is the property's name.</exception>
    public void Validate()
    {
        if (Prompts is null || Prompts.Count == 0)
        {
            throw new ArgumentException("Prompts must hold at least one prompt (use \"\" for an unconditional image).", nameof(Prompts));
        }

        for (int i = 0; i < Prompts.Count; i++)
        {
            if (Prompts[i] is null)
            {
                throw new ArgumentException($"Prompts[{i}] is null; use \"\" for an unconditional image.", nameof(Prompts));
            }
        }

        if (ImagesPerPrompt < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ImagesPerPrompt), ImagesPerPrompt, "ImagesPerPrompt must be at least 1.");
        }

        if (Steps is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Steps must be at least 1, or null for the pipeline's default.");
        }

        if (GuidanceScale is { } w && !(double.IsFinite(w) && w >= 0))
        {
            throw new ArgumentOutOfRangeException(nameof(GuidanceScale), w, "GuidanceScale must be a finite number >= 0 (0 turns guidance off; about 2 is typical), or null for the pipeline's default.");
        }

        if (Sampler is { } kind && !Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(Sampler), kind, $"Sampler must be one of {string.Join(", ", Enum.GetNames<SamplerKind>())}, or null for the pipeline's default.");
        }
    }
}
