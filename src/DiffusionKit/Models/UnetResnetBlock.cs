using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// The residual block of <see cref="AttentionUnet"/> (diffusers' <c>ResnetBlock2D</c> shape): GroupNorm → SiLU → Conv 3×3,
/// the projected time-and-caption embedding added per channel, GroupNorm → SiLU → Conv 3×3, plus the input (through a
/// registered 1×1 <c>conv_shortcut</c> when the channel counts differ).
/// </summary>
internal sealed class UnetResnetBlock : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly GroupNorm norm1;
    private readonly Conv2d conv1;
    private readonly Linear time_emb_proj;
    private readonly GroupNorm norm2;
    private readonly Conv2d conv2;
    private readonly Conv2d? conv_shortcut;
#pragma warning restore IDE1006

    /// <summary>Creates the block.</summary>
    /// <param name="inChannels">Input channels (a multiple of 8).</param>
    /// <param name="outChannels">Output channels (a multiple of 8).</param>
    /// <param name="embeddingSize">Length of the embedding vector added after the first convolution.</param>
    public UnetResnetBlock(long inChannels, long outChannels, long embeddingSize)
        : base(nameof(UnetResnetBlock))
    {
        norm1 = nn.GroupNorm(AttentionUnetOptions.NormGroups, inChannels);
        conv1 = nn.Conv2d(inChannels, outChannels, kernel_size: 3, stride: 1, padding: 1);
        time_emb_proj = nn.Linear(embeddingSize, outChannels);
        norm2 = nn.GroupNorm(AttentionUnetOptions.NormGroups, outChannels);
        conv2 = nn.Conv2d(outChannels, outChannels, kernel_size: 3, stride: 1, padding: 1);
        if (inChannels != outChannels)
        {
            conv_shortcut = nn.Conv2d(inChannels, outChannels, kernel_size: 1, stride: 1, padding: 0L);
        }

        RegisterComponents();
    }

    /// <summary>Runs the block.</summary>
    /// <param name="input">[B, in, H, W].</param>
    /// <param name="embedding">The activated embedding, [B, embeddingSize].</param>
    /// <returns>[B, out, H, W].</returns>
    public override Tensor forward(Tensor input, Tensor embedding)
    {
        using var scope = torch.NewDisposeScope();
        var h = KernelRouting.Call(conv1, nn.functional.silu(Float32Statistics.GroupNorm(norm1, input)));
        var e = time_emb_proj.call(embedding);
        h = KeptScalars.Add(h, e.view(e.shape[0], e.shape[1], 1, 1));
        h = KernelRouting.Call(conv2, nn.functional.silu(Float32Statistics.GroupNorm(norm2, h)));
        var residual = conv_shortcut is null ? input : KernelRouting.Call(conv_shortcut, input);
        return KeptScalars.Add(residual, h).MoveToOuterDisposeScope();
    }
}
