using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// The course's <c>UnetUp</c>: concatenates the input with the skip connection along channels, then
/// ConvTranspose 2×2 stride 2 (doubles the size) and two <see cref="ResidualConvBlock"/>s.
/// </summary>
internal sealed class UnetUp : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly Sequential model;

    /// <summary>Creates the block; <paramref name="inChannels"/> counts the input and skip channels together.</summary>
    public UnetUp(long inChannels, long outChannels)
        : base(nameof(UnetUp))
    {
        model = nn.Sequential(
            nn.ConvTranspose2d(inChannels, outChannels, kernel_size: 2, stride: 2),
            new ResidualConvBlock(outChannels, outChannels),
            new ResidualConvBlock(outChannels, outChannels));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input, Tensor skip)
    {
        using var joined = torch.cat(new[] { input, skip }, 1);
        return KernelRouting.Call(model, joined);
    }
}
