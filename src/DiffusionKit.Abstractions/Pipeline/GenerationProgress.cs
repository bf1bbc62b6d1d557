namespace DiffusionKit;

/// <summary>Where a generation stands.</summary>
/// <param name="PromptIndex">Index of the prompt being sampled, 0-based.</param>
/// <param name="PromptCount">Number of prompts in the request.</param>
/// <param name="Step">Denoising steps finished for this prompt, 1..<paramref name="TotalSteps"/>.</param>
/// <param name="TotalSteps">Denoising steps per prompt.</param>
public sealed record GenerationProgress(int PromptIndex, int PromptCount, int Step, int TotalSteps);
