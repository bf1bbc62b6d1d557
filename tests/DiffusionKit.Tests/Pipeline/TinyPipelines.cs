using DiffusionKit.Models;
using DiffusionKit.Pipeline;

namespace DiffusionKit.Tests.Pipeline;

/// <summary>Small, fast pipeline configurations for tests.</summary>
internal static class TinyPipelines
{
    public static readonly string[] Vocabulary = ["red", "blue", "circle", "square"];

    public static ContextUnetOptions ModelOptions => new() { Features = 8, ImageSize = 16, ContextSize = Vocabulary.Length };

    public static DiffusionPipelineBuilder Builder(long seed = 7) => new DiffusionPipelineBuilder()
        .UseVocabulary(Vocabulary)
        .UseModel(ModelOptions)
        .UseSampler(SamplerKind.Ddim, 3)
        .UseSeed(seed);
}
