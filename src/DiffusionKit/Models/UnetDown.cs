using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>The course's <c>UnetDown</c>: two <see cref="ResidualConvBlock"/>s then a 2×2 max-pool (halves the size).</summary>
internal sealed class UnetDown : nn.Module<Tensor, Tensor>
{
    private readonly Sequential model;

    /// <summary>Creates the block.</summary>
    public UnetDown(long inChannels, long outChannels)
        : base(nameof(UnetDown))
    {
        model = nn.Sequential(
            new ResidualConvBlock(inChannels, outChannels),
            new ResidualConvBlock(outChannels, outChannels),
            nn.MaxPool2d(kernel_size: 2));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input) => KernelRouting.Call(model, input);
}
