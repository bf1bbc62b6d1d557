using static TorchSharp.torch;

namespace DiffusionKit.Tests.Models;

/// <summary>Exact tensor comparisons for assertions.</summary>
internal static class TensorComparison
{
    /// <summary>True when both tensors have the same shape, dtype and bit-identical values.</summary>
    public static bool Identical(Tensor a, Tensor b)
    {
        if (a.dtype != b.dtype || !a.shape.SequenceEqual(b.shape))
        {
            return false;
        }

        using var eq = a.eq(b);
        using var all = eq.all();
        return all.item<bool>();
    }
}
