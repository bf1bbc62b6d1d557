using DiffusionKit.Checkpoints;

namespace DiffusionKit.Hosting;

/// <summary>
/// A DI-registered factory that the pipeline built by <c>AddDiffusionKit</c> passes to
/// <see cref="Pipeline.DiffusionPipelineBuilder.UseCheckpointTextEncoderFactory"/>, so a checkpoint whose text encoder
/// lives in an optional package (such as MiniLM, registered by <c>AddDiffusionKitMiniLm()</c>) can be loaded.
/// </summary>
/// <param name="EncoderType">The checkpoint <c>text_encoder.type</c> it creates (for example <c>minilm</c>); one registration per type.</param>
/// <param name="Create">Returns an encoder for a checkpoint's <c>text_encoder</c> section, or null for types it does not know.</param>
public sealed record CheckpointTextEncoderFactory(string EncoderType, Func<CheckpointConfig.TextEncoderConfig, ITextEncoder?> Create);
