using DiffusionKit.Models;
using DiffusionKit.Training;

namespace DiffusionKit.Pipeline;

/// <summary>The one place where a pipeline turns a <see cref="Precision"/> into the denoiser it samples with.</summary>
internal static class InferencePrecision
{
    /// <summary>The denoiser for <paramref name="precision"/>: the model itself (float32) or a bfloat16 copy, which the caller must dispose.</summary>
    /// <param name="model">The float32 network, in eval mode.</param>
    /// <param name="precision">The arithmetic to sample in.</param>
    /// <returns>The denoiser, and the object to dispose with the pipeline (null for the model itself).</returns>
    /// <exception cref="ArgumentOutOfRangeException">When the precision is not a defined value.</exception>
    public static (IDenoiser Denoiser, IDisposable? Owned) Create(ContextUnet model, Precision precision)
    {
        switch (precision)
        {
            case Precision.Float32:
                return (model, null);
            case Precision.BFloat16:
                var bf16 = new BFloat16Denoiser(model);
                return (bf16, bf16);
            default:
                throw new ArgumentOutOfRangeException(nameof(precision), precision, $"precision must be one of {string.Join(", ", Enum.GetNames<Precision>())}.");
        }
    }
}
