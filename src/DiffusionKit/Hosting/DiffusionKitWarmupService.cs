using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace DiffusionKit.Hosting;

/// <summary>
/// Makes the pipeline ready before the host takes traffic: at host start it resolves <see cref="IDiffusionPipeline"/>
/// (which loads and validates the checkpoint) and runs one tiny generation (one unconditional image, one DDIM step).
/// A failure (a corrupt checkpoint, a missing file, a model that cannot run) propagates out of
/// <see cref="StartAsync"/>, so the host refuses to start with the loader's message; success flips
/// <see cref="DiffusionKitReadiness"/>, which the <see cref="DiffusionKitHealthCheck"/> reports.
/// </summary>
/// <remarks>
/// ASP.NET Core starts hosted services before its server listens, so no request reaches a pipeline that is not warm.
/// </remarks>
internal sealed partial class DiffusionKitWarmupService(IServiceProvider services, DiffusionKitReadiness readiness) : IHostedService
{
    // Logging is optional: a bare service collection (no AddLogging) still validates and runs.
    private readonly ILogger logger = (services.GetService<ILoggerFactory>() ?? NullLoggerFactory.Instance).CreateLogger<DiffusionKitWarmupService>();

    /// <summary>The warm-up request: the unconditional prompt, one image, one DDIM step (valid for every schedule).</summary>
    internal static GenerationRequest WarmupRequest { get; } = new() { Prompts = [string.Empty], ImagesPerPrompt = 1, Steps = 1, Sampler = SamplerKind.Ddim, Seed = 0 };

    /// <inheritdoc />
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        try
        {
            // Resolving builds the pipeline: the checkpoint is read and every weight checked here, not on the first request.
            var pipeline = services.GetRequiredService<IDiffusionPipeline>();
            await pipeline.GenerateAsync(WarmupRequest, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            readiness.MarkFailed(ex.Message);
            WarmupFailed(logger, ex.Message, ex);
            throw;
        }

        readiness.MarkReady(clock.Elapsed);
        WarmedUp(logger, clock.Elapsed.TotalMilliseconds);
    }

    /// <inheritdoc />
    public Task StopAsync(CancellationToken cancellationToken)
    {
        readiness.MarkStopped();
        return Task.CompletedTask;
    }

    [LoggerMessage(EventId = 20, Level = LogLevel.Information, Message = "DiffusionKit pipeline warmed up in {ElapsedMs:F0} ms; ready for traffic.")]
    private static partial void WarmedUp(ILogger logger, double elapsedMs);

    [LoggerMessage(EventId = 21, Level = LogLevel.Critical, Message = "DiffusionKit pipeline failed to start: {Reason}")]
    private static partial void WarmupFailed(ILogger logger, string reason, Exception exception);
}
