using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionKit.Models;

/// <summary>The course's <c>EmbedFC</c>: a two-layer MLP (Linear → GELU → Linear) on inputs flattened to [-1, inputSize].</summary>
internal sealed class EmbedFC : nn.Module<Tensor, Tensor>
{
    private readonly Sequential model;
    private readonly long inputSize;

    /// <summary>Creates the MLP.</summary>
    public EmbedFC(long inputSize, long embeddingSize)
        : base(nameof(EmbedFC))
    {
        this.inputSize = inputSize;
        model = nn.Sequential(
            nn.Linear(inputSize, embeddingSize),
            nn.GELU(),
            nn.Linear(embeddingSize, embeddingSize));
        RegisterComponents();
    }

    /// <inheritdoc />
    public override Tensor forward(Tensor input)
    {
        using var flat = input.view(-1, inputSize);
        return model.call(flat);
    }
}
