using DiffusionKit.Text;
using static TorchSharp.torch;

namespace DiffusionKit.Pipeline;

/// <summary>Conveniences over <see cref="DiffusionPipelineBuilder"/>'s primitives.</summary>
public static class DiffusionPipelineBuilderExtensions
{
    /// <summary>Uses a <see cref="BagOfWordsEncoder"/> over <paramref name="vocabulary"/> (with its default stop words).</summary>
    /// <param name="builder">The builder.</param>
    /// <param name="vocabulary">Lowercase single-token words, in context-vector order.</param>
    /// <returns>The builder.</returns>
    /// <exception cref="ArgumentException">When a word is not a valid vocabulary entry.</exception>
    public static DiffusionPipelineBuilder UseVocabulary(this DiffusionPipelineBuilder builder, params string[] vocabulary)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseTextEncoder(new BagOfWordsEncoder(vocabulary));
    }

    /// <summary>Uses the CPU (the default).</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static DiffusionPipelineBuilder UseCpu(this DiffusionPipelineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseDevice(CPU);
    }
}
