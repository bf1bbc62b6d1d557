using Microsoft.Extensions.Logging;

namespace DiffusionKit.Pipeline;

/// <summary>The pipeline's log messages (source-generated, allocation-free when disabled).</summary>
internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "DiffusionKit pipeline ready: {Features}-feature {ImageSize}x{ImageSize} U-Net on {Device}, {Sampler} sampler with {Steps} steps, guidance {Guidance}, seed {Seed}.")]
    internal static partial void Ready(ILogger logger, int features, int imageSize, string device, SamplerKind sampler, int steps, double guidance, long seed);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Generating {Images} image(s) for {Prompts} prompt(s): {Sampler}, {Steps} steps, guidance {Guidance}, seed {Seed}.")]
    internal static partial void Generating(ILogger logger, int images, int prompts, SamplerKind sampler, int steps, double guidance, long seed);

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Generated {Images} image(s) in {ElapsedMs:F0} ms.")]
    internal static partial void Generated(ILogger logger, int images, double elapsedMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Training finished: {Steps} steps, final loss {Loss:F4}, {ElapsedSeconds:F1} s.")]
    internal static partial void Trained(ILogger logger, int steps, double loss, double elapsedSeconds);
}
