using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// One level of <see cref="AttentionUnet"/> (diffusers' down/mid/up block names): residual blocks (<c>resnets</c>), each
/// followed by the attention stage of the same index when the level has one (<c>attentions</c>), then an optional
/// resolution change (<c>downsamplers</c> or <c>upsamplers</c>), run by the network.
/// </summary>
internal sealed class UnetStage : nn.Module
{
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly TorchSharp.Modules.ModuleList<UnetResnetBlock> resnets;
    private readonly TorchSharp.Modules.ModuleList<UnetSpatialTransformer>? attentions;
    private readonly TorchSharp.Modules.ModuleList<UnetResample>? downsamplers;
    private readonly TorchSharp.Modules.ModuleList<UnetResample>? upsamplers;
#pragma warning restore IDE1006

    /// <summary>Creates the level.</summary>
    /// <param name="resnets">The residual blocks, in order.</param>
    /// <param name="attentions">The attention stages (one after each of the first residual blocks), or none.</param>
    /// <param name="downsample">A halving convolution, or null.</param>
    /// <param name="upsample">A doubling convolution, or null.</param>
    public UnetStage(UnetResnetBlock[] resnets, UnetSpatialTransformer[] attentions, UnetResample? downsample = null, UnetResample? upsample = null)
        : base(nameof(UnetStage))
    {
        this.resnets = nn.ModuleList(resnets);
        this.attentions = attentions.Length > 0 ? nn.ModuleList(attentions) : null;
        downsamplers = downsample is null ? null : nn.ModuleList(downsample);
        upsamplers = upsample is null ? null : nn.ModuleList(upsample);
        RegisterComponents();
    }

    /// <summary>The residual blocks and attention stages, without the resolution change.</summary>
    /// <param name="input">[B, C, H, W].</param>
    /// <param name="embedding">The activated time-and-caption embedding, [B, E].</param>
    /// <param name="context">The caption tokens, [B, M, D].</param>
    public Tensor Forward(Tensor input, Tensor embedding, Tensor context)
    {
        using var scope = torch.NewDisposeScope();
        var h = input;
        for (int i = 0; i < resnets.Count; i++)
        {
            h = resnets[i].call(h, embedding);
            if (attentions is not null && i < attentions.Count)
            {
                h = attentions[i].call(h, context);
            }
        }

        return h.MoveToOuterDisposeScope();
    }

    /// <summary>The level's resolution change applied to <paramref name="input"/>, or <paramref name="input"/> itself when it has none.</summary>
    public Tensor Resample(Tensor input)
        => downsamplers is not null ? downsamplers[0].call(input)
            : upsamplers is not null ? upsamplers[0].call(input)
            : input;
}
