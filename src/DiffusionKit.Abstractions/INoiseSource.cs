using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>
/// Where a sampling loop's randomness comes from: the initial noise and the fresh noise every stochastic step adds
/// (DDPM, Euler ancestral, SDE-DPM-Solver++, DDIM with eta &gt; 0). Schedulers call it instead of holding a generator.
/// </summary>
/// <remarks>
/// <para>Two sources ship with DiffusionKit: <see cref="GeneratorNoiseSource"/> draws the whole batch from one
/// <see cref="Generator"/> (the classic single-seed behaviour), and <c>DiffusionKit.Sampling.PerImageNoiseSource</c>
/// draws row i of the batch from image i's own generator, so an image's pixels do not depend on its batch-mates.</para>
/// <para>Noise is drawn on the CPU in float32 so that a seed gives the same noise on every device; callers move it.
/// Thread-safety: a source advances its generators and is not thread-safe; use one per sampling loop.</para>
/// </remarks>
public interface INoiseSource
{
    /// <summary>Draws standard-normal noise.</summary>
    /// <param name="shape">The shape; the first dimension is the batch (one row per image).</param>
    /// <returns>A new float32 CPU tensor owned by the caller.</returns>
    /// <exception cref="ArgumentException">When the source cannot produce that shape (for example a per-image source asked for another batch size).</exception>
    Tensor StandardNormal(long[] shape);
}
