namespace DiffusionKit;

/// <summary>What to generate: prompts, how many images each, and optional per-call overrides of the pipeline's defaults.</summary>
/// <remarks>
/// <para>
/// Seeds: every image has its own seed. Image i (0-based) of prompt p gets seed <c>seed + p·ImagesPerPrompt + i</c>
/// (the images are numbered in request order), where seed is <see cref="Seed"/> or, when null, the pipeline's seed;
/// <see cref="GeneratedImage.Seed"/> reports it. An image's initial noise and every step's fresh noise come from its own
/// seed only, so its pixels do not depend on the other images it is batched with (within 2/255 per pixel of floating-point
/// differences), and a request for that prompt alone with <c>ImagesPerPrompt = 1</c> and <c>Seed = image.Seed</c>
/// reproduces it. Repeating a request on the same pipeline gives the same pixels.
/// </para>
/// </remarks>
public sealed class GenerationRequest
{
    /// <summary>The prompts; at least one. The empty string is the unconditional prompt.</summary>
    public required IReadOnlyList<string> Prompts { get; init; }

    /// <summary>Images per prompt. Default 1. Must be at least 1.</summary>
    public int ImagesPerPrompt { get; init; } = 1;

    /// <summary>Denoising steps; null (default) uses the pipeline's. Must be at least 1; the sampler may restrict it further (DDPM takes exactly T).</summary>
    public int? Steps { get; init; }

    /// <summary>Classifier-free guidance weight; null (default) uses the pipeline's. Must be within <see cref="GuidanceRange"/> (0..100; 0 turns guidance off).</summary>
    public double? GuidanceScale { get; init; }

    /// <summary>Seed of the request's first image (image k of the request uses Seed + k); null (default) uses the pipeline's seed.</summary>
    public long? Seed { get; init; }

    /// <summary>Sampling algorithm; null (default) uses the pipeline's.</summary>
    public SamplerKind? Sampler { get; init; }

    /// <summary>
    /// When true, progress updates carry <see cref="GenerationUpdate.Frame"/>: the current (partly denoised) picture of
    /// each prompt's first image after every step, for animations. Default false.
    /// </summary>
    public bool CaptureFrames { get; init; }

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

        if (GuidanceScale is { } w)
        {
            GuidanceRange.ThrowIfOutOfRange(w, nameof(GuidanceScale));
        }

        if (Sampler is { } kind && !Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(Sampler), kind, $"Sampler must be one of {string.Join(", ", Enum.GetNames<SamplerKind>())}, or null for the pipeline's default.");
        }
    }
}
