using System.Diagnostics.CodeAnalysis;
using DiffusionKit;
using DiffusionKit.Extensions.AI;

namespace Microsoft.Extensions.AI;

/// <summary>Wraps a DiffusionKit pipeline as an <see cref="IImageGenerator"/> (in this namespace, like Microsoft.Extensions.AI's other providers).</summary>
[Experimental("MEAI001")]
public static class DiffusionPipelineImageGeneratorExtensions
{
    /// <summary>Wraps <paramref name="pipeline"/> as an <see cref="IImageGenerator"/>; disposing the generator leaves the pipeline alone.</summary>
    /// <param name="pipeline">The pipeline.</param>
    /// <param name="modelId">The model id to report in the metadata and accept in the options; null for none.</param>
    /// <returns>A <see cref="DiffusionPipelineImageGenerator"/>.</returns>
    public static IImageGenerator AsImageGenerator(this IDiffusionPipeline pipeline, string? modelId = null) => new DiffusionPipelineImageGenerator(pipeline, modelId);
}
