using DiffusionKit.Native;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>
/// Multi-head scaled dot-product attention of <see cref="AttentionUnet"/> (diffusers' <c>Attention</c> names): queries
/// from the image tokens, keys and values from the same tokens (self-attention) or from the caption tokens
/// (cross-attention), projections <c>to_q</c>, <c>to_k</c>, <c>to_v</c> without bias and <c>to_out.0</c> with bias.
/// </summary>
internal sealed class UnetAttention : nn.Module<Tensor, Tensor, Tensor>
{
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly Linear to_q;
    private readonly Linear to_k;
    private readonly Linear to_v;
    private readonly ModuleList<Linear> to_out;
#pragma warning restore IDE1006

    private readonly long _heads;
    private readonly double _scale;

    /// <summary>Creates the attention.</summary>
    /// <param name="dimension">Token width of the queries and of the output (a multiple of <paramref name="heads"/>).</param>
    /// <param name="keyDimension">Token width of the keys and values' source.</param>
    /// <param name="heads">Number of heads.</param>
    public UnetAttention(long dimension, long keyDimension, long heads)
        : base(nameof(UnetAttention))
    {
        _heads = heads;
        _scale = 1.0 / Math.Sqrt(dimension / heads);
        to_q = nn.Linear(dimension, dimension, hasBias: false);
        to_k = nn.Linear(keyDimension, dimension, hasBias: false);
        to_v = nn.Linear(keyDimension, dimension, hasBias: false);
        to_out = nn.ModuleList(nn.Linear(dimension, dimension));
        RegisterComponents();
    }

    /// <summary>Attends from <paramref name="tokens"/> to <paramref name="keys"/>.</summary>
    /// <param name="tokens">[B, N, dimension].</param>
    /// <param name="keys">[B, M, keyDimension] (the tokens themselves for self-attention).</param>
    /// <returns>[B, N, dimension].</returns>
    public override Tensor forward(Tensor tokens, Tensor keys)
    {
        using var scope = torch.NewDisposeScope();
        long batch = tokens.shape[0], n = tokens.shape[1], width = tokens.shape[2], headWidth = width / _heads;
        Tensor Heads(Tensor x) => x.view(batch, -1, _heads, headWidth).transpose(1, 2);
        var q = Heads(to_q.call(tokens));
        var k = Heads(to_k.call(keys));
        var v = Heads(to_v.call(keys));
        var weights = Float32Statistics.Softmax(KeptScalars.Mul(torch.matmul(q, k.transpose(-1, -2)), _scale));
        var mixed = torch.matmul(weights, v).transpose(1, 2).reshape(batch, n, width);
        return to_out[0].call(mixed).MoveToOuterDisposeScope();
    }
}
