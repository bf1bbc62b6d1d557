using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// Normalisation and softmax of <see cref="AttentionUnet"/> computed in float32 when the network runs in bfloat16 (the
/// other layers stay in bfloat16), as mixed-precision training does: means, variances and softmax sums over many
/// values lose too much in bfloat16's 8-bit mantissa. In float32 the layers run as they are.
/// </summary>
internal static class Float32Statistics
{
    /// <summary><paramref name="norm"/> (8 groups, <paramref name="eps"/>) applied to <paramref name="input"/>.</summary>
    public static Tensor GroupNorm(GroupNorm norm, Tensor input, double eps = 1e-5)
    {
        if (input.dtype != ScalarType.BFloat16)
        {
            return norm.call(input);
        }

        using var wide = input.to_type(ScalarType.Float32);
        using var weight = norm.weight!.to_type(ScalarType.Float32);
        using var bias = norm.bias!.to_type(ScalarType.Float32);
        using var normalised = nn.functional.group_norm(wide, AttentionUnetOptions.NormGroups, weight, bias, eps);
        return normalised.to_type(ScalarType.BFloat16);
    }

    /// <summary><paramref name="norm"/> (over the last dimension, eps 1e-5) applied to <paramref name="input"/>.</summary>
    public static Tensor LayerNorm(LayerNorm norm, Tensor input)
    {
        if (input.dtype != ScalarType.BFloat16)
        {
            return norm.call(input);
        }

        using var wide = input.to_type(ScalarType.Float32);
        using var weight = norm.weight!.to_type(ScalarType.Float32);
        using var bias = norm.bias!.to_type(ScalarType.Float32);
        using var normalised = nn.functional.layer_norm(wide, new[] { input.shape[^1] }, weight, bias, 1e-5);
        return normalised.to_type(ScalarType.BFloat16);
    }

    /// <summary>The softmax over the last dimension, summed in float32 for bfloat16 input.</summary>
    public static Tensor Softmax(Tensor input)
    {
        if (input.dtype != ScalarType.BFloat16)
        {
            return input.softmax(-1);
        }

        using var wide = input.softmax(-1, ScalarType.Float32);
        return wide.to_type(ScalarType.BFloat16);
    }
}
