using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// Re-initialises a module's layers like PyTorch's defaults, drawing every random number from one generator so a
/// seed reproduces the weights exactly.
/// </summary>
/// <remarks>
/// Convolutions, transposed convolutions and linear layers get weight and bias uniform in ±1/√fan_in (what
/// PyTorch's <c>kaiming_uniform_(a = √5)</c> plus its bias rule amount to); BatchNorm and GroupNorm get weight 1 and
/// bias 0 (TorchSharp 0.107 leaves GroupNorm's uninitialised), LayerNorm too. Layers are visited in registration order.
/// </remarks>
internal static class WeightInitializer
{
    /// <summary>Initialises every supported layer of <paramref name="module"/> in place.</summary>
    public static void Initialize(nn.Module module, Generator? generator)
    {
        using var noGrad = torch.no_grad();
        foreach (var (_, child) in module.named_modules())
        {
            switch (child)
            {
                case Conv2d conv:
                    InitUniform(conv.weight!, conv.bias, FanIn(conv.weight!), generator);
                    break;
                case ConvTranspose2d convT:
                    InitUniform(convT.weight!, convT.bias, FanIn(convT.weight!), generator);
                    break;
                case Linear linear:
                    InitUniform(linear.weight!, linear.bias, FanIn(linear.weight!), generator);
                    break;
                case GroupNorm groupNorm:
                    groupNorm.weight?.fill_(1.0);
                    groupNorm.bias?.fill_(0.0);
                    break;
                case LayerNorm layerNorm:
                    layerNorm.weight?.fill_(1.0);
                    layerNorm.bias?.fill_(0.0);
                    break;
                case BatchNorm2d batchNorm:
                    batchNorm.weight?.fill_(1.0);
                    batchNorm.bias?.fill_(0.0);
                    break;
            }
        }
    }

    // PyTorch's _calculate_fan_in_and_fan_out: size(1) times the receptive field (for ConvTranspose, size(1) is out/groups).
    private static long FanIn(Tensor weight)
    {
        long fanIn = weight.shape[1];
        for (var i = 2; i < weight.shape.Length; i++)
        {
            fanIn *= weight.shape[i];
        }

        return fanIn;
    }

    private static void InitUniform(Tensor weight, Tensor? bias, long fanIn, Generator? generator)
    {
        var bound = 1.0 / Math.Sqrt(fanIn);
        FillUniform(weight, bound, generator);
        if (bias is not null)
        {
            FillUniform(bias, bound, generator);
        }
    }

    private static void FillUniform(Tensor target, double bound, Generator? generator)
    {
        // Explicit Scalars kept alive across the calls: a temporary one can be finalized while libtorch reads it
        // (docs/training.md, "A libtorch crash in toFloat"; seen here as "Unknown scalar type" in sub_).
        using var width = (2.0 * bound).ToScalar();
        using var offset = bound.ToScalar();
        using var random = torch.rand(target.shape, dtype: target.dtype, generator: generator);
        using var scaled = random.mul(width).sub_(offset);
        target.copy_(scaled);
    }
}
