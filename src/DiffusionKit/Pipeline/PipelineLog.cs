using Microsoft.Extensions.Logging;

namespace DiffusionKit.Pipeline;

/// <summary>The pipeline's log messages (source-generated, allocation-free when disabled).</summary>
internal static partial class PipelineLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "DiffusionKit pipeline ready: {Model} ({ImageSize}x{ImageSize}) on {Device}, {Sampler} sampler with {Steps} steps, guidance {Guidance}, seed {Seed}.")]
    internal static partial void Ready(ILogger logger, string model, int imageSize, string device, string sampler, int steps, double guidance, long seed);

    [LoggerMessage(EventId = 2, Level = LogLevel.Debug, Message = "Queued {Images} image(s) for {Prompts} prompt(s) (first: \"{Prompt}\"): {Sampler}, {Steps} steps, guidance {Guidance}, seed {Seed}.")]
    internal static partial void Generating(ILogger logger, int images, int prompts, string prompt, string sampler, int steps, double guidance, long seed);

    [LoggerMessage(EventId = 5, Level = LogLevel.Error, Message = "A sampling batch of {Images} image(s) failed; its requests fail with the same exception.")]
    internal static partial void BatchFailed(ILogger logger, Exception exception, int images);

    [LoggerMessage(EventId = 6, Level = LogLevel.Information, Message = "Rejected a request ({Reason}): {Message}")]
    internal static partial void Rejected(ILogger logger, string reason, string message);

    [LoggerMessage(EventId = 7, Level = LogLevel.Information, Message = "Sampling {Measurement}.")]
    internal static partial void PrecisionChosen(ILogger logger, string measurement);

    [LoggerMessage(EventId = 10, Level = LogLevel.Warning, Message = "{Warning}")]
    internal static partial void KernelWarning(ILogger logger, string warning);

    /// <summary>A prompt shortened for logs and traces (prompts are user data and may be long).</summary>
    internal static string Truncate(string prompt, int max = 64) => prompt.Length <= max ? prompt : string.Concat(prompt.AsSpan(0, max), "…");

    [LoggerMessage(EventId = 3, Level = LogLevel.Debug, Message = "Generated {Images} image(s) in {ElapsedMs:F0} ms.")]
    internal static partial void Generated(ILogger logger, int images, double elapsedMs);

    [LoggerMessage(EventId = 4, Level = LogLevel.Information, Message = "Training finished: {Steps} steps, final loss {Loss:F4}, {ElapsedSeconds:F1} s.")]
    internal static partial void Trained(ILogger logger, int steps, double loss, double elapsedSeconds);
}
