using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace DiffusionKit.Hosting;

/// <summary>
/// The readiness check that <c>AddDiffusionKit</c> registers with <c>AddHealthChecks().AddCheck</c> under
/// <see cref="Name"/> (tagged <see cref="ReadyTag"/>): Unhealthy until the pipeline has loaded its checkpoint and
/// finished its warm-up generation, Healthy afterwards, Unhealthy again once the host stops.
/// </summary>
/// <remarks>Map it in ASP.NET Core with <c>app.MapHealthChecks("/healthz")</c>. Thread-safe.</remarks>
public sealed class DiffusionKitHealthCheck : IHealthCheck
{
    /// <summary>The registration name, <c>"diffusionkit"</c>.</summary>
    public const string Name = "diffusionkit";

    /// <summary>The tag on the registration, <c>"ready"</c>, for filtering readiness probes.</summary>
    public const string ReadyTag = "ready";

    private readonly DiffusionKitReadiness _readiness;

    internal DiffusionKitHealthCheck(DiffusionKitReadiness readiness) => _readiness = readiness;

    /// <inheritdoc />
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (_readiness.IsReady)
        {
            return Task.FromResult(HealthCheckResult.Healthy($"DiffusionKit pipeline ready (warmed up in {_readiness.WarmupTime.TotalMilliseconds:F0} ms)."));
        }

        string reason = _readiness.Failure is { } failure
            ? $"DiffusionKit pipeline not ready: {failure}"
            : "DiffusionKit pipeline not ready: the checkpoint is loading and warming up.";
        return Task.FromResult(new HealthCheckResult(context?.Registration?.FailureStatus ?? HealthStatus.Unhealthy, reason));
    }
}
