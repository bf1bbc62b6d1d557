using System.Diagnostics.CodeAnalysis;
using DiffusionKit;
using Microsoft.Extensions.AI;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers DiffusionKit's <see cref="IImageGenerator"/>.</summary>
[Experimental("MEAI001")]
public static class DiffusionKitImageGeneratorServiceCollectionExtensions
{
    /// <summary>
    /// Registers an <see cref="IImageGenerator"/> (singleton, <c>TryAdd</c>: an earlier registration wins) over the
    /// registered <see cref="IDiffusionPipeline"/>; register the pipeline with <c>AddDiffusionKit(...)</c>.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <param name="modelId">The model id to report and accept; null for none.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDiffusionKitImageGenerator(this IServiceCollection services, string? modelId = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<IImageGenerator>(sp => sp.GetRequiredService<IDiffusionPipeline>().AsImageGenerator(modelId));
        return services;
    }
}
