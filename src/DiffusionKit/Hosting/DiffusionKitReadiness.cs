namespace DiffusionKit.Hosting;

/// <summary>
/// Whether the pipeline registered by <c>AddDiffusionKit</c> has loaded its checkpoint and finished a warm-up
/// generation. Written by <see cref="DiffusionKitWarmupService"/>, read by <see cref="DiffusionKitHealthCheck"/>.
/// Thread-safe.
/// </summary>
internal sealed class DiffusionKitReadiness
{
    private volatile State _state = new(false, null, TimeSpan.Zero);

    /// <summary>True once the warm-up generation succeeded.</summary>
    internal bool IsReady => _state.Ready;

    /// <summary>Why the warm-up failed, or null.</summary>
    internal string? Failure => _state.Failure;

    /// <summary>How long loading and the warm-up generation took (zero until ready).</summary>
    internal TimeSpan WarmupTime => _state.WarmupTime;

    /// <summary>Marks the pipeline ready.</summary>
    internal void MarkReady(TimeSpan warmupTime) => _state = new State(true, null, warmupTime);

    /// <summary>Marks the warm-up as failed with <paramref name="reason"/>.</summary>
    internal void MarkFailed(string reason) => _state = new State(false, reason, TimeSpan.Zero);

    /// <summary>Marks the pipeline not ready (the host is stopping).</summary>
    internal void MarkStopped() => _state = new State(false, "the host is stopping", TimeSpan.Zero);

    private sealed record State(bool Ready, string? Failure, TimeSpan WarmupTime);
}
