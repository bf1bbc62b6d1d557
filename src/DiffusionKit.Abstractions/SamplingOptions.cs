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

    /// <summary>Seed for the initial noise and every step's fresh noise, used when <see cref="Generator"/> is null. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>An explicit random source; when set it is used instead of <see cref="Seed"/> and advanced by the loop.</summary>
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
    /// One seed per image (one per context row), or null (default). When set, image i's initial noise and every fresh
    /// noise a stochastic step adds come from its own generator seeded <c>ImageSeeds[i]</c>, so its pixels do not depend on
    /// the other images of the batch: image i equals (within floating-point differences of the batched convolutions) the
    /// single image sampled with <see cref="Seed"/> = <c>ImageSeeds[i]</c>. Replaces <see cref="Seed"/>; do not combine with
    /// <see cref="Generator"/>. Without it the whole batch draws from one generator and images depend on their position.
    /// </summary>
    public IReadOnlyList<long>? ImageSeeds { get; init; }

    /// <summary>
    /// One guidance weight per image (finite, at least 0), or null (default) for <see cref="GuidanceScale"/> on every image.
    /// Lets images with different guidance share one batch; only images with a weight above 0 get the unconditional pass.
    /// Leave <see cref="GuidanceScale"/> at 0 when setting it.
    /// </summary>
    public IReadOnlyList<double>? GuidanceScales { get; init; }
}
