using DiffusionKit.Checkpoints;
using DiffusionKit.Hosting;
using DiffusionKit.Pipeline;
using Microsoft.Extensions.DependencyInjection;

namespace DiffusionKit.TextEncoders.MiniLM;

/// <summary>
/// Plugs the MiniLM encoder into the builder and into DI, so checkpoints trained with it (<c>text_encoder.type</c>
/// <c>minilm</c>) load with <see cref="DiffusionPipelineBuilder.FromCheckpoint"/> and <c>AddDiffusionKit</c>.
/// For a new model, pass <c>new MiniLmTextEncoder()</c> to <see cref="DiffusionPipelineBuilder.UseTextEncoder"/>.
/// </summary>
public static class MiniLmRegistration
{
    /// <summary>Lets <see cref="DiffusionPipelineBuilder.FromCheckpoint"/> restore MiniLM checkpoints. Idempotent.</summary>
    /// <param name="builder">The builder.</param>
    /// <returns>The builder.</returns>
    public static DiffusionPipelineBuilder AddMiniLmTextEncoder(this DiffusionPipelineBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.UseCheckpointTextEncoderFactory(MiniLmTextEncoder.FromCheckpointConfig);
    }

    /// <summary>
    /// Registers the MiniLM encoder factory for the pipeline <c>AddDiffusionKit</c> builds, so a
    /// <c>DiffusionKit:CheckpointPath</c> trained with MiniLM loads. Idempotent; call it with or without
    /// <c>AddDiffusionKit</c>, in any order.
    /// </summary>
    /// <param name="services">The service collection.</param>
    /// <returns>The service collection.</returns>
    public static IServiceCollection AddDiffusionKitMiniLm(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        if (!services.Any(d => d.ImplementationInstance is CheckpointTextEncoderFactory { EncoderType: CheckpointConfig.TextEncoderConfig.MiniLmType }))
        {
            services.AddSingleton(new CheckpointTextEncoderFactory(CheckpointConfig.TextEncoderConfig.MiniLmType, MiniLmTextEncoder.FromCheckpointConfig));
        }

        return services;
    }
}
