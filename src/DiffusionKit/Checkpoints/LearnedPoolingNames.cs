using DiffusionKit.Text;

namespace DiffusionKit.Checkpoints;

/// <summary>The checkpoint names of <see cref="TokenPooling"/> values (<c>text_encoder.pooling</c>).</summary>
internal static class LearnedPoolingNames
{
    private const string Mean = "mean";
    private const string SumLayerNorm = "sum-layernorm";

    /// <summary>Every known name.</summary>
    public static IReadOnlyList<string> All { get; } = new[] { SumLayerNorm, Mean };

    /// <summary>The name written for <paramref name="pooling"/>.</summary>
    public static string ToName(TokenPooling pooling) => pooling switch
    {
        TokenPooling.Mean => Mean,
        TokenPooling.SumLayerNorm => SumLayerNorm,
        _ => throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling."),
    };

    /// <summary>The pooling a checkpoint names; null (the field absent) is <see cref="TokenPooling.Mean"/>; an unknown name gives null.</summary>
    public static TokenPooling? Parse(string? name) => name switch
    {
        null or Mean => TokenPooling.Mean,
        SumLayerNorm => TokenPooling.SumLayerNorm,
        _ => null,
    };
}
