using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// One transformer block of <see cref="AttentionUnet"/> (diffusers' <c>BasicTransformerBlock</c> shape, pre-norm):
/// self-attention over the image tokens, cross-attention to the caption tokens, then a GELU feed-forward of width
/// 4 × dimension, each added to its input.
/// </summary>
internal sealed class UnetTransformerBlock : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly LayerNorm norm1;
    private readonly UnetAttention attn1;
    private readonly LayerNorm norm2;
    private readonly UnetAttention attn2;
    private readonly LayerNorm norm3;
    private readonly Sequential ff;
#pragma warning restore IDE1006

    /// <summary>Creates the block.</summary>
    public UnetTransformerBlock(long dimension, long contextDimension, long heads)
        : base(nameof(UnetTransformerBlock))
    {
        norm1 = nn.LayerNorm(dimension);
        attn1 = new UnetAttention(dimension, dimension, heads);
        norm2 = nn.LayerNorm(dimension);
        attn2 = new UnetAttention(dimension, contextDimension, heads);
        norm3 = nn.LayerNorm(dimension);
        ff = nn.Sequential(nn.Linear(dimension, 4 * dimension), nn.GELU(), nn.Linear(4 * dimension, dimension));
        RegisterComponents();
    }

    /// <summary>Runs the block.</summary>
    /// <param name="tokens">Image tokens, [B, N, dimension].</param>
    /// <param name="context">Caption tokens, [B, M, contextDimension].</param>
    /// <returns>[B, N, dimension].</returns>
    public override Tensor forward(Tensor tokens, Tensor context)
    {
        using var scope = torch.NewDisposeScope();
        var n1 = Float32Statistics.LayerNorm(norm1, tokens);
        var h = KeptScalars.Add(tokens, attn1.call(n1, n1));
        h = KeptScalars.Add(h, attn2.call(Float32Statistics.LayerNorm(norm2, h), context));
        h = KeptScalars.Add(h, ff.call(Float32Statistics.LayerNorm(norm3, h)));
        return h.MoveToOuterDisposeScope();
    }
}
