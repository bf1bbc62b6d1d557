namespace DiffusionKit.Checkpoints;

/// <summary>
/// A prompt encoder from outside the core library (for example the pretrained MiniLM encoder) that can describe itself
/// in a checkpoint's <c>text_encoder</c> section, so <see cref="DiffusionCheckpoint.Describe(DiffusionKit.Models.DenoiserModule, DiffusionKit.Scheduling.SchedulerOptions, ITextEncoder, IReadOnlyDictionary{string, string})"/> accepts it.
/// </summary>
/// <remarks>
/// Loading such a checkpoint needs the matching factory passed to <see cref="DiffusionCheckpoint.Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/>. Encoders
/// implementing this interface keep no trainable weights: only the config is saved.
/// </remarks>
public interface ICheckpointTextEncoder : ITextEncoder
{
    /// <summary>Describes this encoder and its settings.</summary>
    /// <returns>A new config whose <see cref="CheckpointConfig.TextEncoderConfig.Type"/> the matching factory recognises.</returns>
    CheckpointConfig.TextEncoderConfig DescribeForCheckpoint();
}
