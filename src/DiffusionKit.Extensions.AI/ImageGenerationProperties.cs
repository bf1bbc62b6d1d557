using System.Diagnostics.CodeAnalysis;

namespace DiffusionKit.Extensions.AI;

/// <summary>
/// The <see cref="Microsoft.Extensions.AI.ImageGenerationOptions.AdditionalProperties"/> keys that
/// <see cref="DiffusionPipelineImageGenerator"/> reads (ImageGenerationOptions has no field for them), and the ones it
/// writes on each returned image's <see cref="Microsoft.Extensions.AI.AIContent.AdditionalProperties"/>.
/// </summary>
/// <remarks>Other keys are left alone, so one options object can carry settings for several providers.</remarks>
[Experimental("MEAI001")]
public static class ImageGenerationProperties
{
    /// <summary>
    /// <c>"seed"</c>: the seed of the first image (an integer; image i of the request uses seed + i's pipeline seed rule).
    /// Absent: the pipeline's default seed. Each returned image carries the seed that reproduces it under this key.
    /// </summary>
    public const string Seed = "seed";

    /// <summary><c>"steps"</c>: denoising steps (an integer of at least 1). Absent: the sampler's default.</summary>
    public const string Steps = "steps";

    /// <summary>
    /// <c>"guidance_scale"</c>: classifier-free guidance as diffusers means the name, s of <c>uncond + s·(cond − uncond)</c>
    /// (a finite number within 0..101; s ≤ 1 turns guidance off, as in diffusers). DiffusionKit's own weight w
    /// (<c>GenerationRequest.GuidanceScale</c>) is s − 1 (<see cref="GuidanceRange.FromDiffusersScale"/>). Absent: the
    /// pipeline's default.
    /// </summary>
    public const string GuidanceScale = "guidance_scale";

    /// <summary><c>"sampler"</c>: the sampler, a name <c>SchedulerNames.ParseSampler</c> accepts (<c>"ddim"</c>, <c>"dpm-solver-sde"</c>, ...). Absent: the pipeline's default.</summary>
    public const string Sampler = "sampler";
}
