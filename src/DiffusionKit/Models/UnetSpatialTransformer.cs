using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// The attention stage of <see cref="AttentionUnet"/> (diffusers' <c>Transformer2DModel</c> shape): GroupNorm, the
/// feature map flattened to H × W tokens, a linear <c>proj_in</c>, one <see cref="UnetTransformerBlock"/>, a linear
/// <c>proj_out</c>, reshaped back and added to the input.
/// </summary>
internal sealed class UnetSpatialTransformer : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly GroupNorm norm;
    private readonly Linear proj_in;
    private readonly ModuleList<UnetTransformerBlock> transformer_blocks;
    private readonly Linear proj_out;
#pragma warning restore IDE1006

    /// <summary>Creates the stage.</summary>
    public UnetSpatialTransformer(long channels, long contextDimension, long heads)
        : base(nameof(UnetSpatialTransformer))
    {
        norm = nn.GroupNorm(AttentionUnetOptions.NormGroups, channels, eps: 1e-6);
        proj_in = nn.Linear(channels, channels);
        transformer_blocks = nn.ModuleList(new UnetTransformerBlock(channels, contextDimension, heads));
        proj_out = nn.Linear(channels, channels);
        RegisterComponents();
    }

    /// <summary>Runs the stage.</summary>
    /// <param name="input">[B, C, H, W].</param>
    /// <param name="context">Caption tokens, [B, M, contextDimension].</param>
    /// <returns>[B, C, H, W].</returns>
    public override Tensor forward(Tensor input, Tensor context)
    {
        using var scope = torch.NewDisposeScope();
        long batch = input.shape[0], channels = input.shape[1], height = input.shape[2], width = input.shape[3];
        var tokens = Float32Statistics.GroupNorm(norm, input, 1e-6).permute(0, 2, 3, 1).reshape(batch, height * width, channels);
        var h = proj_out.call(transformer_blocks[0].call(proj_in.call(tokens), context));
        var map = h.reshape(batch, height, width, channels).permute(0, 3, 1, 2);
        return KeptScalars.Add(input, map).contiguous().MoveToOuterDisposeScope();
    }
}
