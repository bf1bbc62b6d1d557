using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>The embedding MLP of <see cref="AttentionUnet"/> (diffusers' <c>TimestepEmbedding</c> names): <c>linear_1</c> → SiLU → <c>linear_2</c>.</summary>
internal sealed class UnetEmbedding : nn.Module<Tensor, Tensor>
{
#pragma warning disable IDE1006 // Naming: these names are checkpoint keys shared with PyTorch.
    private readonly Linear linear_1;
    private readonly Linear linear_2;
#pragma warning restore IDE1006

    /// <summary>Creates the MLP.</summary>
    public UnetEmbedding(long inputSize, long embeddingSize)
        : base(nameof(UnetEmbedding))
    {
        linear_1 = nn.Linear(inputSize, embeddingSize);
        linear_2 = nn.Linear(embeddingSize, embeddingSize);
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var hidden = linear_1.call(input);
        using var activated = nn.functional.silu(hidden);
        return linear_2.call(activated);
    }
}
