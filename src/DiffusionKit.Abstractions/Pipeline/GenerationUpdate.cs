namespace DiffusionKit;

/// <summary>One item of <see cref="IDiffusionPipeline.GenerateStreamingAsync"/>: a finished denoising step and, on a prompt's last step, its images.</summary>
/// <param name="Progress">The step just finished; every step of every prompt is reported exactly once, in order.</param>
/// <param name="Images">The prompt's images when <see cref="GenerationProgress.Step"/> equals <see cref="GenerationProgress.TotalSteps"/>; empty otherwise.</param>
public sealed record GenerationUpdate(GenerationProgress Progress, IReadOnlyList<GeneratedImage> Images);
