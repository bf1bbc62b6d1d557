namespace DiffusionKit;

/// <summary>The outcome of <see cref="IDiffusionPipeline.GenerateAsync"/>.</summary>
/// <param name="Images">All images, grouped by prompt in request order, then by image index.</param>
/// <param name="Elapsed">Wall time spent generating (excluding time queued behind other calls).</param>
public sealed record GenerationResult(IReadOnlyList<GeneratedImage> Images, TimeSpan Elapsed);
