namespace DiffusionKit.Training;

/// <summary>Settings of a <see cref="DiffusionTrainer"/> run. Defaults are the course's.</summary>
public sealed class DiffusionTrainerOptions
{
    /// <summary>Images per optimiser step. Default 100.</summary>
    public int BatchSize { get; init; } = 100;

    /// <summary>Initial Adam learning rate. Default 1e-3.</summary>
    public double LearningRate { get; init; } = 1e-3;

    /// <summary>Learning-rate schedule. Default <see cref="LearningRateSchedule.Linear"/> (to 0 at the end of the run).</summary>
    public LearningRateSchedule LearningRateSchedule { get; init; } = LearningRateSchedule.Linear;

    /// <summary>
    /// Steps of linear learning-rate warm-up: step k (0-based) of the first <see cref="WarmupSteps"/> uses
    /// <c>(k + 1)/WarmupSteps</c> of the scheduled rate. Default 0 (none). Warm-up lets Adam's moment estimates settle
    /// before the full rate is applied; short runs with a high rate need it (see docs/benchmarks.md).
    /// </summary>
    public int WarmupSteps { get; init; }

    /// <summary>
    /// Min-SNR-γ loss weighting (Hang et al. 2023, "Efficient Diffusion Training via Min-SNR Weighting Strategy"):
    /// each sample's MSE is weighted so that the effective weight on the x0 error is <c>min(SNR(t), γ)</c>, which stops
    /// the many low-noise timesteps from dominating training. Null (default) is the plain MSE; 5 is the paper's value.
    /// The weight depends on the scheduler's prediction type (see <see cref="INoiseScheduler.GetMinSnrLossWeights"/>).
    /// </summary>
    public double? SnrGamma { get; init; }

    /// <summary>Optimiser steps to take. Set exactly one of <see cref="Steps"/> and <see cref="Epochs"/>, optionally with <see cref="MaxDuration"/>.</summary>
    public int? Steps { get; init; }

    /// <summary>Passes over the data set (each drops the last partial batch).</summary>
    public int? Epochs { get; init; }

    /// <summary>Wall-time budget: training stops at the first step that ends past it. With no step or epoch count, the
    /// linear learning-rate decay follows the elapsed fraction of this budget.</summary>
    public TimeSpan? MaxDuration { get; init; }

    /// <summary>Probability of replacing a sample's context by the encoder's unconditional context (its encoding of the
    /// empty prompt: zeros for bag-of-words, the learned null embedding for the learned encoder), so the model also
    /// learns the unconditional case needed by classifier-free guidance. Default 0.1 (the course's); 0 turns it off.</summary>
    public double ContextDropout { get; init; } = 0.1;

    /// <summary>Seed for batch order, timesteps, noise and context dropout. Default 0.</summary>
    public long Seed { get; init; }

    /// <summary>Decay of the exponential moving average of the weights, in [0, 1); 0 (default) turns EMA off. When on,
    /// the EMA weights are copied into the model at the end of training.</summary>
    public double EmaDecay { get; init; }

    /// <summary>
    /// Arithmetic of the forward and backward passes. Default <see cref="Training.Precision.Float32"/>;
    /// <see cref="Training.Precision.BFloat16"/> trains in mixed precision (bfloat16 compute, float32 master weights,
    /// optimiser and EMA) and returns the model in float32; <see cref="Training.Precision.Auto"/> times both on this
    /// machine first and trains in the faster (the CLI's and the builder's default). A trainable text encoder stays in
    /// float32 either way.
    /// </summary>
    public Precision Precision { get; init; } = Precision.Float32;

    /// <summary>
    /// Gradient clipping: before each optimiser step the gradients of all trained parameters are scaled so that their
    /// total L2 norm (as if concatenated into one vector, like <c>torch.nn.utils.clip_grad_norm_</c>) is at most this.
    /// Null (default): no clipping. 1.0 is diffusers' <c>--max_grad_norm</c> default.
    /// </summary>
    public double? MaxGradNorm { get; init; }

    /// <summary>
    /// Batches of <see cref="BatchSize"/> whose gradients are summed (each loss divided by this) before one optimiser
    /// step, so the effective batch is <c>BatchSize × GradientAccumulationSteps</c> at the memory of one batch. Default 1.
    /// Step counts (<see cref="Steps"/>, <see cref="SaveEvery"/>, warm-up) count optimiser steps; an epoch is
    /// <c>Count / (BatchSize × GradientAccumulationSteps)</c> steps. With 1 the run is exactly as before.
    /// BatchNorm layers (the context U-Net's) see each micro-batch's statistics, so with them the result is close to,
    /// not equal to, one step on the whole effective batch.
    /// </summary>
    public int GradientAccumulationSteps { get; init; } = 1;

    /// <summary>
    /// Steps between periodic checkpoints (calls of <see cref="TrainingCallbacks.Checkpoint"/>). Null (default): only
    /// when the run stops. The CLI's <c>--save-every</c>.
    /// </summary>
    public int? SaveEvery { get; init; }

    /// <summary>How many checkpoints a <see cref="TrainingCheckpointWriter"/> keeps (the newest). Default 3. The CLI's <c>--keep</c>.</summary>
    public int KeepCheckpoints { get; init; } = 3;

    /// <summary>Steps between training samples (calls of <see cref="TrainingCallbacks.Sample"/>). Null (default): none. The CLI's <c>--sample-every</c>.</summary>
    public int? SampleEvery { get; init; }

    /// <summary>
    /// Steps between validation snapshots (calls of <see cref="TrainingCallbacks.Validation"/>, for example a
    /// <see cref="TrainingValidator"/> measuring the loss on held-out images). A fresh run also calls it once before the
    /// first step (step 0, the starting weights), and every run once more when it stops at its budget, unless the last
    /// step was just validated. Null (default): no validation snapshots. The CLI's <c>--validate-every</c>.
    /// </summary>
    public int? ValidateEvery { get; init; }

    /// <summary>Prompts a <see cref="TrainingSampleWriter"/> draws every <see cref="SampleEvery"/> steps; required with <see cref="SampleEvery"/>. The CLI's <c>--sample-prompts</c>.</summary>
    public IReadOnlyList<string> SamplePrompts { get; init; } = Array.Empty<string>();

    /// <summary>
    /// A checkpoint written during training (or a training output folder, whose current checkpoint is taken) to continue
    /// from: the live weights, Adam's moments and step counts, the step (so the learning-rate schedule continues), the EMA
    /// shadows, the random generator and the data order are restored, and training runs on to <see cref="Steps"/> (a total,
    /// counting the steps already taken). N steps, then a resumed run, give the same weights bit for bit on the CPU as one
    /// uninterrupted run with the same options. The data set, <see cref="BatchSize"/>,
    /// <see cref="GradientAccumulationSteps"/>, <see cref="Precision"/> and the model must match the saved run.
    /// Null (default): start from the model's current weights.
    /// </summary>
    public string? ResumeFrom { get; init; }

    /// <summary>
    /// Called once, before the first step, with the measurement when <see cref="Precision"/> is
    /// <see cref="Training.Precision.Auto"/> (to log the choice and both figures). Default null. The same measurement is
    /// in <see cref="TrainingResult.PrecisionMeasurement"/>.
    /// </summary>
    public Action<PrecisionMeasurement>? OnPrecisionMeasured { get; init; }

    /// <summary>
    /// Called with each warning the run has for its user, one line each: today the kernel check's (this CPU's convolution
    /// kernels disagreed with the float64 reference and another route or precision was chosen; docs/training.md, "Faulty
    /// CPU kernels"). Default null: the warning goes to <see cref="System.Diagnostics.Trace"/>.
    /// </summary>
    public Action<string>? OnWarning { get; init; }

    /// <summary>Checks every setting and throws naming the first bad one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When a value is outside its range.</exception>
    /// <exception cref="ArgumentException">When the budget is missing or ambiguous.</exception>
    public void Validate()
    {
        if (BatchSize < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "BatchSize must be at least 1 (the course uses 100).");
        }

        if (!double.IsFinite(LearningRate) || LearningRate <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "LearningRate must be a finite number > 0 (the course uses 1e-3).");
        }

        if (!Enum.IsDefined(LearningRateSchedule))
        {
            throw new ArgumentOutOfRangeException(nameof(LearningRateSchedule), LearningRateSchedule, $"LearningRateSchedule must be one of {string.Join(", ", Enum.GetNames<LearningRateSchedule>())}.");
        }

        if (WarmupSteps < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(WarmupSteps), WarmupSteps, "WarmupSteps must be 0 (no warm-up) or more.");
        }

        if (SnrGamma is { } gamma && !(double.IsFinite(gamma) && gamma > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(SnrGamma), SnrGamma, "SnrGamma must be a finite number > 0 (5 is the Min-SNR paper's value), or null to turn the weighting off.");
        }

        if (Steps is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Steps), Steps, "Steps must be at least 1.");
        }

        if (Epochs is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "Epochs must be at least 1.");
        }

        if (MaxDuration is { } d && d <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxDuration), MaxDuration, "MaxDuration must be positive.");
        }

        if (Steps is not null && Epochs is not null)
        {
            throw new ArgumentException("Set either Steps or Epochs, not both.", nameof(Epochs));
        }

        if (Steps is null && Epochs is null && MaxDuration is null)
        {
            throw new ArgumentException("Set a training budget: Steps, Epochs or MaxDuration.", nameof(Steps));
        }

        if (!(ContextDropout >= 0 && ContextDropout <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(ContextDropout), ContextDropout, "ContextDropout must lie in [0, 1] (the course uses 0.1).");
        }

        if (!(EmaDecay >= 0 && EmaDecay < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(EmaDecay), EmaDecay, "EmaDecay must lie in [0, 1); 0 turns EMA off, 0.999 is typical.");
        }

        if (MaxGradNorm is { } maxNorm && !(double.IsFinite(maxNorm) && maxNorm > 0))
        {
            throw new ArgumentOutOfRangeException(nameof(MaxGradNorm), MaxGradNorm, "MaxGradNorm must be a finite number > 0 (1.0 is typical), or null to turn clipping off.");
        }

        if (GradientAccumulationSteps < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(GradientAccumulationSteps), GradientAccumulationSteps, "GradientAccumulationSteps must be at least 1 (1: no accumulation).");
        }

        if (SaveEvery is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SaveEvery), SaveEvery, "SaveEvery must be at least 1 step, or null for a checkpoint only at the end.");
        }

        if (KeepCheckpoints < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(KeepCheckpoints), KeepCheckpoints, "KeepCheckpoints must be at least 1 (the newest checkpoint).");
        }

        if (SampleEvery is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(SampleEvery), SampleEvery, "SampleEvery must be at least 1 step, or null for no training samples.");
        }

        if (ValidateEvery is < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(ValidateEvery), ValidateEvery, "ValidateEvery must be at least 1 step, or null for no validation.");
        }

        if (SamplePrompts is null || SamplePrompts.Any(p => p is null))
        {
            throw new ArgumentException("SamplePrompts must be a list of prompts (empty for none), without null entries.", nameof(SamplePrompts));
        }

        if (SampleEvery is not null && SamplePrompts.Count == 0)
        {
            throw new ArgumentException("SampleEvery needs SamplePrompts: the prompts to draw every SampleEvery steps.", nameof(SamplePrompts));
        }

        if (ResumeFrom is { } resume && string.IsNullOrWhiteSpace(resume))
        {
            throw new ArgumentException("ResumeFrom must be a checkpoint folder, or null to start fresh.", nameof(ResumeFrom));
        }

        if (!Enum.IsDefined(Precision))
        {
            throw new ArgumentOutOfRangeException(nameof(Precision), Precision, $"Precision must be one of {string.Join(", ", Enum.GetNames<Precision>())}.");
        }
    }
}
