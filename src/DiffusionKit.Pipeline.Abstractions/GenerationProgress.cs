namespace DiffusionKit;

/// <summary>Where a generation stands.</summary>
/// <param name="PromptIndex">Index of the prompt this report is about, 0-based.</param>
/// <param name="PromptCount">Number of prompts in the request.</param>
/// <param name="Step">Denoising steps this prompt's images have finished, 1..<paramref name="TotalSteps"/>.</param>
/// <param name="TotalSteps">Denoising steps per image.</param>
/// <remarks>
/// The pipeline samples all prompts of a request together (batched), so reports of different prompts interleave:
/// after each step, one report per prompt in the batch. A prompt whose images are split over several batches (more
/// images than the pipeline's batch size) reports its steps once per batch.
/// </remarks>
public sealed record GenerationProgress(int PromptIndex, int PromptCount, int Step, int TotalSteps)
{
    /// <summary>
    /// The fraction of the whole request done, in [0, 1]: finished image-steps over all image-steps. Defaults (when
    /// constructed without it) to the prompt-by-prompt estimate <c>(PromptIndex + Step/TotalSteps)/PromptCount</c>.
    /// </summary>
    public double Fraction { get; init; } = PromptCount > 0 && TotalSteps > 0 ? (PromptIndex + ((double)Step / TotalSteps)) / PromptCount : 0;
}
