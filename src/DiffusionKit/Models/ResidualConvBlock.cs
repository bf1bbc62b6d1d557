using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// The course's <c>ResidualConvBlock</c>: two (Conv 3×3 → BatchNorm → GELU); with <c>isResidual</c> the input is
/// added (through a registered 1×1 <c>shortcut</c> conv when the channel counts differ) and the sum divided by 1.414.
/// </summary>
/// <remarks>
/// The course built the 1×1 shortcut inside <c>forward</c>, so it was re-created with fresh random weights on every
/// call and never trained; here it is a registered submodule named <c>shortcut</c>.
/// </remarks>
internal sealed class ResidualConvBlock : nn.Module<Tensor, Tensor>
{
    private readonly Sequential conv1;
    private readonly Sequential conv2;
    private readonly Conv2d? shortcut;
    private readonly bool isResidual;

    /// <summary>Creates the block.</summary>
    public ResidualConvBlock(long inChannels, long outChannels, bool isResidual = false)
        : base(nameof(ResidualConvBlock))
    {
        this.isResidual = isResidual;
        conv1 = nn.Sequential(
            nn.Conv2d(inChannels, outChannels, kernel_size: 3, stride: 1, padding: 1),
            nn.BatchNorm2d(outChannels),
            nn.GELU());
        conv2 = nn.Sequential(
            nn.Conv2d(outChannels, outChannels, kernel_size: 3, stride: 1, padding: 1),
            nn.BatchNorm2d(outChannels),
            nn.GELU());
        if (isResidual && inChannels != outChannels)
        {
            shortcut = nn.Conv2d(inChannels, outChannels, kernel_size: 1, stride: 1, padding: 0L);
        }

        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var scope = torch.NewDisposeScope();
        var x2 = KernelRouting.Call(conv2, KernelRouting.Call(conv1, input));
        if (!isResidual)
        {
            return x2.MoveToOuterDisposeScope();
        }

        var residual = shortcut is null ? input : KernelRouting.Call(shortcut, input);
        return KeptScalars.Add(residual, x2).div(KeptScalars.ResidualScale).MoveToOuterDisposeScope();
    }
}
