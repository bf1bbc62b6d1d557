using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>
/// An <see cref="INoiseSource"/> that draws every tensor, the whole batch at once, from one <see cref="Generator"/>:
/// the behaviour of the <c>Generator</c> overloads of <see cref="INoiseScheduler.Step(Tensor, int, Tensor, Generator?)"/>.
/// </summary>
/// <remarks>Does not own the generator. With a null generator it uses TorchSharp's global generator (not reproducible across threads).</remarks>
public sealed class GeneratorNoiseSource : INoiseSource
{
    /// <summary>Wraps <paramref name="generator"/>.</summary>
    /// <param name="generator">The random source; null uses the global generator.</param>
    public GeneratorNoiseSource(Generator? generator) => Generator = generator;

    /// <summary>The wrapped generator, or null for the global one.</summary>
    public Generator? Generator { get; }

    /// <inheritdoc />
    public Tensor StandardNormal(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return randn(shape, dtype: ScalarType.Float32, device: CPU, generator: Generator);
    }
}
