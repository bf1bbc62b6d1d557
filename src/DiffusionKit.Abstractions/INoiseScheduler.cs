using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>
/// A noise schedule plus the update rule that walks a noisy sample one step back towards the data.
/// </summary>
/// <remarks>
/// <para>
/// By default timesteps follow the course's convention: training timesteps are the integers <c>1..TrainTimesteps</c>
/// (T), and <c>ab_0 = 1</c> is the clean image. A scheduler built with diffusers' convention uses <c>0..T-1</c> instead.
/// <see cref="Timesteps"/> lists, in descending order, the timesteps an inference loop visits; each is passed to
/// <see cref="Step(Tensor, int, Tensor, INoiseSource)"/> (or to the <see cref="ISchedulerLoop.Step(Tensor, int, Tensor, INoiseSource)"/> of a loop from <see cref="BeginLoop"/>) in turn.
/// </para>
/// <para>
/// A sampling loop should: scale the initial Gaussian noise by <see cref="InitNoiseSigma"/>; call <see cref="BeginLoop"/>
/// once; at each timestep t feed the denoiser <see cref="ScaleModelInput"/>(x, t) with time
/// <see cref="GetModelTimestep"/>(t) / T, and step the loop with the model output. The defaults of these members are the
/// identity, so single-step schedulers (DDPM, DDIM) need not implement them.
/// </para>
/// <para>
/// Thread-safety: <see cref="AddNoise"/> and <see cref="Step(Tensor, int, Tensor, INoiseSource)"/> are pure functions of their arguments and the
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

    /// <summary>The timesteps an inference loop visits, in descending order (each in <c>1..T</c> in the course's convention, <c>0..T-1</c> in diffusers').</summary>
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
    /// <param name="timesteps">Int64 tensor of shape [B] with values in the scheduler's training range (<c>1..T</c> by default).</param>
    /// <returns>The noisy samples x_t, same shape and dtype as <paramref name="originalSamples"/>.</returns>
    Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps);

    /// <summary>
    /// One reverse step: from x_t and the model's noise prediction to x_{t_prev}.
    /// </summary>
    /// <param name="modelOutput">The model's prediction (noise eps by default; x0 or v for schedulers configured so), same shape as <paramref name="sample"/>.</param>
    /// <param name="timestep">The current timestep, one of <see cref="Timesteps"/>.</param>
    /// <param name="sample">The current noisy sample x_t, shape [B, C, H, W].</param>
    /// <param name="generator">Source of the fresh noise a stochastic step adds; null uses the global generator (not reproducible).</param>
    /// <returns>The previous sample and the model's estimate of the clean sample; both owned by the caller.</returns>
    /// <exception cref="NotSupportedException">From multistep schedulers (DPM-Solver++), which need the history a loop from <see cref="BeginLoop"/> keeps.</exception>
    SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
        => Step(modelOutput, timestep, sample, new GeneratorNoiseSource(generator));

    /// <summary>
    /// One reverse step, as <see cref="Step(Tensor, int, Tensor, Generator?)"/>, drawing the fresh noise of a stochastic
    /// step from <paramref name="noise"/> (for example one generator per image, so batch-mates do not share randomness).
    /// Implement this overload; the <c>Generator</c> overload forwards to it.
    /// </summary>
    /// <param name="modelOutput">The model's prediction, same shape as <paramref name="sample"/>.</param>
    /// <param name="timestep">The current timestep, one of <see cref="Timesteps"/>.</param>
    /// <param name="sample">The current noisy sample x_t, shape [B, C, H, W].</param>
    /// <param name="noise">Source of the fresh noise; asked for shape [B, C, H, W] at most once per step.</param>
    /// <returns>The previous sample and the model's estimate of the clean sample; both owned by the caller.</returns>
    /// <exception cref="NotSupportedException">From multistep schedulers (DPM-Solver++), which need the history a loop from <see cref="BeginLoop"/> keeps.</exception>
    SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise);

    /// <summary>
    /// The smallest training timestep: 1 in the course's convention (the default), 0 in diffusers'. Training draws t
    /// uniformly from <c>FirstTrainTimestep .. FirstTrainTimestep + T - 1</c>.
    /// </summary>
    int FirstTrainTimestep => 1;

    /// <summary>
    /// The standard deviation of the initial noise an inference loop starts from: 1 for DDPM, DDIM and DPM-Solver,
    /// the largest sigma for Euler-type schedulers that work in sigma space. Default 1.
    /// </summary>
    double InitNoiseSigma => 1.0;

    /// <summary>
    /// Scales the current sample before it is passed to the denoiser (Euler-type schedulers divide by
    /// <c>sqrt(sigma^2 + 1)</c>). The default returns an alias of <paramref name="sample"/>.
    /// </summary>
    /// <param name="sample">The current sample x_t; not modified or disposed.</param>
    /// <param name="timestep">The current timestep, one of <see cref="Timesteps"/>.</param>
    /// <returns>A new tensor (or alias) owned by the caller.</returns>
    Tensor ScaleModelInput(Tensor sample, int timestep) => sample.alias();

    /// <summary>
    /// The time, in training-timestep units, the denoiser is conditioned on at scheduled timestep
    /// <paramref name="timestep"/>: the timestep itself by default, fractional where a scheduler interpolates between
    /// training timesteps (Euler ancestral with linspace spacing). Samplers pass <c>GetModelTimestep(t) / T</c>.
    /// </summary>
    /// <param name="timestep">One of <see cref="Timesteps"/>.</param>
    /// <returns>The model time in training-timestep units.</returns>
    double GetModelTimestep(int timestep) => timestep;

    /// <summary>
    /// The regression target for training at <paramref name="timesteps"/>, according to the scheduler's prediction type:
    /// the noise (epsilon, the default), the clean sample (sample) or <c>v = sqrt(ab_t)·noise - sqrt(1 - ab_t)·x0</c>
    /// (v_prediction).
    /// </summary>
    /// <param name="originalSamples">Clean images x0, shape [B, C, H, W].</param>
    /// <param name="noise">The noise passed to <see cref="AddNoise"/>, same shape.</param>
    /// <param name="timesteps">Int64 tensor of shape [B], as for <see cref="AddNoise"/>.</param>
    /// <returns>A new tensor owned by the caller, same shape as <paramref name="noise"/>.</returns>
    Tensor GetTrainingTarget(Tensor originalSamples, Tensor noise, Tensor timesteps) => noise.alias();

    /// <summary>
    /// Per-sample weights of the Min-SNR-γ loss (Hang et al. 2023) for the scheduler's prediction type, so that the
    /// weight on each sample's x0 error is <c>min(SNR(t), γ)</c> with <c>SNR(t) = ab_t/(1 - ab_t)</c>. Used by trainers
    /// when Min-SNR weighting is on. The default throws: a scheduler must know its noise schedule to implement it.
    /// </summary>
    /// <param name="timesteps">Int64 tensor of shape [B], as for <see cref="AddNoise"/>.</param>
    /// <param name="gamma">The SNR cap γ, finite and &gt; 0 (5 in the paper).</param>
    /// <returns>A float32 tensor of shape [B] owned by the caller.</returns>
    /// <exception cref="NotSupportedException">When the scheduler does not implement Min-SNR weighting.</exception>
    Tensor GetMinSnrLossWeights(Tensor timesteps, double gamma) =>
        throw new NotSupportedException($"{GetType().Name} does not implement Min-SNR loss weighting; train without SnrGamma or implement GetMinSnrLossWeights.");

    /// <summary>
    /// Starts one inference loop over <see cref="Timesteps"/>. The loop carries what a multistep solver remembers between
    /// steps (DPM-Solver++ keeps the previous model output), so the scheduler itself stays free of loop state and one
    /// scheduler can serve several loops, one loop per thread. Dispose the loop when done. The default loop forwards
    /// each step to <see cref="Step(Tensor, int, Tensor, INoiseSource)"/>.
    /// </summary>
    /// <returns>A new loop owned by the caller.</returns>
    ISchedulerLoop BeginLoop() => new StatelessSchedulerLoop(this);
}
