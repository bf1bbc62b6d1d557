using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>What the batched engine watches in a sampling loop: which images to drop before a step, and each step's result.</summary>
internal interface ISamplingObserver
{
    /// <summary>Called before every step: which of the active images (original batch rows) to keep.</summary>
    /// <param name="active">The original rows still being sampled, ascending.</param>
    /// <returns>Null to keep them all; otherwise the positions in <paramref name="active"/> to keep, ascending (empty stops the loop).</returns>
    IReadOnlyList<int>? Keep(IReadOnlyList<int> active);

    /// <summary>Called after every step with the new sample in model space ([-1, 1]); the tensor is the loop's and must not be kept or disposed.</summary>
    /// <param name="step">1-based index of the finished step.</param>
    /// <param name="totalSteps">Steps in the loop.</param>
    /// <param name="timestep">The timestep just denoised.</param>
    /// <param name="active">The original rows of <paramref name="sample"/>.</param>
    /// <param name="sample">x_{t_prev}, [active.Count, C, H, W] on the model's device.</param>
    void StepFinished(int step, int totalSteps, int timestep, IReadOnlyList<int> active, Tensor sample);
}
