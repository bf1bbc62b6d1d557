namespace DiffusionKit;

/// <summary>One item of <see cref="IDiffusionPipeline.GenerateStreamingAsync"/>: a finished denoising step of one prompt and, on its last step, its images.</summary>
/// <param name="Progress">The step just finished; every step of every prompt is reported (see <see cref="GenerationProgress"/> for the order).</param>
/// <param name="Images">The prompt's images finished with this update (when <see cref="GenerationProgress.Step"/> equals <see cref="GenerationProgress.TotalSteps"/>); empty otherwise.</param>
public sealed record GenerationUpdate(GenerationProgress Progress, IReadOnlyList<GeneratedImage> Images)
{
    /// <summary>
    /// With <see cref="GenerationRequest.CaptureFrames"/>: the prompt's first image as it stands after this step (x_t
    /// mapped to pixels), for animations; null otherwise.
    /// </summary>
    public GeneratedImage? Frame { get; init; }
}
