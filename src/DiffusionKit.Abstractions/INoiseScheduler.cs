using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>
/// A noise schedule plus the update rule that walks a noisy sample one step back towards the data.
/// </summary>
/// <remarks>
/// <para>
/// Timesteps follow the course's convention: training timesteps are the integers <c>1..TrainTimesteps</c>
/// (T), and <c>ab_0 = 1</c> is the clean image. <see cref="Timesteps"/> lists, in descending order, the timesteps an
/// inference loop visits; each is passed to <see cref="Step"/> in turn.
/// </para>
/// <para>
/// Thread-safety: <see cref="AddNoise"/> and <see cref="Step"/> are pure functions of their arguments and the
/// schedule and may be called concurrently. <see cref="SetTimesteps"/> mutates the inference plan and must not run
/// concurrently with a sampling loop that reads <see cref="Timesteps"/>.
/// </para>
/// <para>
/// Ownership: every tensor returned by a member is new and owned by the caller (it joins the caller's current
/// <see cref="torch.NewDisposeScope"/>, if any). Inputs are never disposed or modified in place.
/// </para>
/// </remarks>
public interface INoiseScheduler
{
    /// <summary>Number of training timesteps T (the course uses 500).</summary>
    int TrainTimesteps { get; }

    /// <summary>Number of steps the inference loop takes, as last set by <see cref="SetTimesteps"/>; T by default.</summary>
    int InferenceSteps { get; }

    /// <summary>The timesteps an inference loop visits, in descending order, each in <c>1..T</c>.</summary>
    IReadOnlyList<int> Timesteps { get; }

    /// <summary>Chooses how many denoising steps an inference loop takes.</summary>
    /// <param name="inferenceSteps">Between 1 and <see cref="TrainTimesteps"/>.</param>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="inferenceSteps"/> is outside 1..T, or the scheduler only supports T steps.</exception>
    void SetTimesteps(int inferenceSteps);

    /// <summary>
    /// Forward (noising) process for training: <c>x_t = sqrt(ab_t)·x0 + sqrt(1 - ab_t)·noise</c>.
    /// </summary>
    /// <param name="originalSamples">Clean images x0, shape [B, C, H, W], float, usually in [-1, 1].</param>
    /// <param name="noise">Gaussian noise with the same shape as <paramref name="originalSamples"/>.</param>
    /// <param name="timesteps">Int64 tensor of shape [B] with values in <c>1..T</c>.</param>
    /// <returns>The noisy samples x_t, same shape and dtype as <paramref name="originalSamples"/>.</returns>
    Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps);

    /// <summary>
    /// One reverse step: from x_t and the model's noise prediction to x_{t_prev}.
    /// </summary>
    /// <param name="modelOutput">Predicted noise eps, same shape as <paramref name="sample"/>.</param>
    /// <param name="timestep">The current timestep, one of <see cref="Timesteps"/>.</param>
    /// <param name="sample">The current noisy sample x_t, shape [B, C, H, W].</param>
    /// <param name="generator">Source of the fresh noise a stochastic step adds; null uses the global generator (not reproducible).</param>
    /// <returns>The previous sample and the model's estimate of the clean sample; both owned by the caller.</returns>
    SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null);
}
