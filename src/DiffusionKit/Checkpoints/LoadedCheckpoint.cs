using DiffusionKit.Models;
using DiffusionKit.Scheduling;

namespace DiffusionKit.Checkpoints;

/// <summary>What <see cref="DiffusionCheckpoint.Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/> rebuilt from a checkpoint folder. Dispose it to free the model's and the encoder's resources.</summary>
/// <param name="Config">The parsed <c>config.json</c>.</param>
/// <param name="Model">The network <c>model.type</c> names (a <see cref="ContextUnet"/> or a registered <see cref="DenoiserType"/>'s), in eval mode on the CPU.</param>
/// <param name="Schedule">The training noise schedule.</param>
/// <param name="Encoder">
/// The prompt encoder <c>text_encoder.type</c> names: a <see cref="Text.BagOfWordsEncoder"/>, a
/// <see cref="Text.LearnedTextEncoder"/> (in eval mode, on the CPU) or what the load's encoder factory created.
/// <c>Encoder.EncodeUnconditional()</c> gives the context classifier-free guidance should use.
/// </param>
public sealed record LoadedCheckpoint(CheckpointConfig Config, DenoiserModule Model, NoiseSchedule Schedule, ITextEncoder Encoder) : IDisposable
{
    /// <summary>
    /// A scheduler over the checkpoint's training schedule (prediction type, spacing, ...) for any algorithm: this is how a
    /// trained model switches sampler without retraining.
    /// </summary>
    /// <param name="algorithm">The sampler.</param>
    /// <param name="inferenceSteps">Steps; null for the sampler's default (<see cref="SchedulerOptions.DefaultInferenceSteps"/>).</param>
    /// <returns>A new scheduler.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When the steps do not fit the algorithm (e.g. 0, more than T, or DDPM with fewer than T).</exception>
    public INoiseScheduler CreateScheduler(SamplerKind algorithm, int? inferenceSteps = null)
        => SchedulerFactory.Create(Config.Scheduler.WithAlgorithm(algorithm, inferenceSteps));

    /// <summary>Disposes the model, and the encoder when it is disposable.</summary>
    public void Dispose()
    {
        Model.Dispose();
        (Encoder as IDisposable)?.Dispose();
    }
}
