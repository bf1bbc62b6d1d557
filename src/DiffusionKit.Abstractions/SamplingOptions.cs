using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>Per-call settings of <see cref="ISampler.Sample"/>.</summary>
public sealed class SamplingOptions
{
    /// <summary>Number of images when no context is given. Default 1. Ignored when a context is given (its batch size wins).</summary>
    public int Count { get; init; } = 1;

    /// <summary>
    /// Classifier-free guidance weight w in <c>eps = (1 + w)·eps_cond - w·eps_uncond</c>. Default 0 (plain conditional
    /// sampling, one network pass per step, exactly the unguided result). Must be finite and at least 0.
    /// diffusers' <c>guidance_scale</c> s is <c>1 + w</c>: s = 1 (no guidance) is w = 0, s = 7.5 is w = 6.5.
    /// </summary>
    public double GuidanceScale { get; init; }

    /// <summary>
    /// The seed of the call's first image, used when <see cref="Generator"/> and <see cref="ImageSeeds"/> are null.
    /// Image k's initial noise and every fresh noise a stochastic step adds to it come from its own generator seeded
    /// <c>Seed + k</c>, the numbering the pipeline uses for a request's images (k = prompt index · images per prompt +
    /// image index), so image k equals the pipeline's image k for the same seed, sampler, steps and guidance, and does
    /// not depend on its batch-mates. Default 0.
    /// </summary>
    public long Seed { get; init; }

    /// <summary>
    /// An explicit random source shared by the whole batch; when set it is used instead of <see cref="Seed"/> and
    /// advanced by the loop (images then depend on their position in the batch). Do not combine with <see cref="ImageSeeds"/>.
    /// </summary>
    public Generator? Generator { get; init; }

    /// <summary>
    /// The unconditional context for the guided half of classifier-free guidance, [1, ContextSize] (broadcast over the
    /// batch) or [batch, ContextSize]. Default null: the sampler uses zeros, which is the bag-of-words encoder's
    /// unconditional context. Pass <see cref="TextEncoderExtensions.EncodeUnconditional"/> of the checkpoint's encoder
    /// so guidance uses what that encoder was trained with (for example the learned encoder's null embedding).
    /// Not disposed by the sampler.
    /// </summary>
    public Tensor? UnconditionalContext { get; init; }

    /// <summary>When true, <see cref="SamplingProgress.Intermediate"/> carries x_t after each step (for animations). Default false.</summary>
    public bool CaptureIntermediates { get; init; }

    /// <summary>
    /// One seed per image (one per context row), or null (default: <c>Seed + i</c>). When set, image i's initial noise and
    /// every fresh noise a stochastic step adds come from its own generator seeded <c>ImageSeeds[i]</c>: image i equals
    /// (within floating-point differences of the batched convolutions) the single image sampled with
    /// <see cref="Seed"/> = <c>ImageSeeds[i]</c>. Replaces <see cref="Seed"/>; do not combine with <see cref="Generator"/>.
    /// </summary>
    public IReadOnlyList<long>? ImageSeeds { get; init; }

    /// <summary>
    /// One guidance weight per image (finite, at least 0), or null (default) for <see cref="GuidanceScale"/> on every image.
    /// Lets images with different guidance share one batch; only images with a weight above 0 get the unconditional pass.
    /// Leave <see cref="GuidanceScale"/> at 0 when setting it.
    /// </summary>
    public IReadOnlyList<double>? GuidanceScales { get; init; }
}
