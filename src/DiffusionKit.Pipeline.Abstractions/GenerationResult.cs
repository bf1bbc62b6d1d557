namespace DiffusionKit;

/// <summary>The outcome of <see cref="IDiffusionPipeline.GenerateAsync"/>.</summary>
/// <param name="Images">All images, grouped by prompt in request order, then by image index.</param>
/// <param name="Elapsed">Wall time from the start of the request's first batch to its last image (excluding time queued).</param>
public sealed record GenerationResult(IReadOnlyList<GeneratedImage> Images, TimeSpan Elapsed)
{
    /// <summary>Time the request waited in the queue before its first batch started. Zero when not measured.</summary>
    public TimeSpan QueueWait { get; init; }
}
