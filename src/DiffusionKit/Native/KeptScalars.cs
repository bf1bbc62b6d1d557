using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Native;

/// <summary>
/// Scalar arguments that stay alive across the native call that reads them, for the network's and the sampler's hot
/// paths.
/// </summary>
/// <remarks>
/// TorchSharp 0.107 hands a <see cref="Scalar"/>'s native handle to libtorch without keeping the managed object alive
/// (no <c>GC.KeepAlive</c>). A temporary Scalar — every <c>tensor * 0.5</c>, and <c>a + b</c>, which passes alpha = 1
/// (<c>a - b</c> and <c>a * b</c> of two tensors pass none) —
/// is unreachable during the call, so a garbage collection triggered by another thread can finalize it while libtorch
/// still reads it: <c>Expected false to be true ... toFloat at c10/core/Scalar.h:140</c> or "Unknown scalar type"
/// (docs/training.md, "A libtorch crash in toFloat, explained"). Constants here live in static fields, so they are never
/// finalized; computed values are wrapped in <c>using</c> so they stay alive until the call returns. Hand-written: the
/// real fix belongs in TorchSharp.
/// </remarks>
internal static class KeptScalars
{
    /// <summary>1: the alpha of a plain tensor sum or difference.</summary>
    public static readonly Scalar One = 1.0.ToScalar();

    /// <summary>2.</summary>
    public static readonly Scalar Two = 2.0.ToScalar();

    /// <summary>0.</summary>
    public static readonly Scalar Zero = 0.0.ToScalar();

    /// <summary>The course's residual scale: a residual block returns <c>(x + h) / 1.414</c>.</summary>
    public static readonly Scalar ResidualScale = 1.414.ToScalar();

    /// <summary><paramref name="a"/> + <paramref name="b"/> (what the <c>+</c> operator computes).</summary>
    public static Tensor Add(Tensor a, Tensor b) => a.add(b, One);

    /// <summary><paramref name="a"/> · <paramref name="value"/>, the scalar kept alive across the call.</summary>
    public static Tensor Mul(Tensor a, double value)
    {
        using var scalar = value.ToScalar();
        return a.mul(scalar);
    }

    /// <summary>Maps model space [-1, 1] to [0, 1] and clips: <c>((x + 1) / 2).clamp(0, 1)</c>.</summary>
    public static Tensor ToUnitRange(Tensor sample)
    {
        using var shifted = sample.add(One);
        using var halved = shifted.div(Two);
        return halved.clamp(Zero, One);
    }
}
