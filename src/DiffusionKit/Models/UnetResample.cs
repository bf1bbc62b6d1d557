using DiffusionKit.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// The resolution change between <see cref="AttentionUnet"/> levels, one registered <c>conv</c>: a 3×3 stride-2
/// convolution halves the size (down path), a 2×2 stride-2 transposed convolution doubles it (up path; cheaper at the
/// higher resolution than nearest up-sampling followed by a 3×3 convolution).
/// </summary>
internal sealed class UnetResample : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly nn.Module<Tensor, Tensor> conv;
#pragma warning restore IDE1006

    private UnetResample(nn.Module<Tensor, Tensor> convolution)
        : base(nameof(UnetResample))
    {
        conv = convolution;
        RegisterComponents();
    }

    /// <summary>A 3×3 stride-2 convolution: [B, C, H, W] to [B, C, H/2, W/2].</summary>
    public static UnetResample Down(long channels) => new(nn.Conv2d(channels, channels, kernel_size: 3, stride: 2, padding: 1));

    /// <summary>A 2×2 stride-2 transposed convolution: [B, C, H, W] to [B, C, 2H, 2W].</summary>
    public static UnetResample Up(long channels) => new(nn.ConvTranspose2d(channels, channels, kernel_size: 2, stride: 2));

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => KernelRouting.Call(conv, input);
}
