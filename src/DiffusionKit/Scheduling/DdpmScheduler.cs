using static TorchSharp.torch;

namespace DiffusionKit.Scheduling;

/// <summary>
/// DDPM (Ho et al. 2020) ancestral sampling over every training timestep: posterior mean plus fresh noise, none at the
/// last step. Defaults to the course's step; with <see cref="ScheduleConvention.Diffusers"/> it follows diffusers'
/// <c>DDPMScheduler.step</c>.
/// </summary>
/// <remarks>
/// <para>Course convention: <c>mean = (x_t - eps·(1 - a_t)/sqrt(1 - ab_t)) / sqrt(a_t)</c>, where eps is the model's
/// noise (or the noise implied by its x0/v prediction after clipping). diffusers' convention: the posterior mean
/// <c>sqrt(ab_prev)·beta_t/(1 - ab_t)·x0 + sqrt(a_t)·(1 - ab_prev)/(1 - ab_t)·x_t</c> with <c>a_t = ab_t/ab_prev</c>.</para>
/// <para>Noise: <see cref="VarianceType.FixedLarge"/> adds <c>sqrt(beta_t)·z</c> (the course);
/// <see cref="VarianceType.FixedSmall"/> adds <c>sqrt((1 - ab_prev)/(1 - ab_t)·beta_t)·z</c> (diffusers' default).</para>
/// <para>DDPM walks every training timestep; for fewer steps use <see cref="DdimScheduler"/> or the other solvers.
/// Single-step: holds no loop state; thread-safe.</para>
/// </remarks>
public sealed class DdpmScheduler : INoiseScheduler
{
    private readonly int[] _timesteps;

    /// <summary>Creates a DDPM scheduler over <paramref name="schedule"/> with the course's step settings.</summary>
    public DdpmScheduler(NoiseSchedule schedule)
        : this(schedule ?? throw new ArgumentNullException(nameof(schedule)), SchedulerFactory.OptionsFor(schedule, SamplerKind.Ddpm, null))
    {
    }

    /// <summary>Creates a DDPM scheduler with the course's schedule (T 500, beta 1e-4..0.02) unless told otherwise.</summary>
    public DdpmScheduler(int trainTimesteps = 500, double betaStart = 1e-4, double betaEnd = 0.02)
        : this(new NoiseSchedule(trainTimesteps, betaStart, betaEnd))
    {
    }

    /// <summary>Creates a DDPM scheduler from <paramref name="options"/> (schedule, prediction type, clipping, variance type).</summary>
    /// <exception cref="ArgumentOutOfRangeException">When an option is invalid or <see cref="SchedulerOptions.InferenceSteps"/> is set to anything but T.</exception>
    public DdpmScheduler(SchedulerOptions options)
        : this(new NoiseSchedule(SchedulerFactory.Validated(options)), options)
    {
    }

    private DdpmScheduler(NoiseSchedule schedule, SchedulerOptions options)
    {
        Schedule = schedule;
        Options = options;
        _timesteps = Enumerable.Range(schedule.FirstTimestep, schedule.TrainTimesteps).Reverse().ToArray();
        if (options.InferenceSteps is int steps)
        {
            SetTimesteps(steps);
        }
    }

    /// <summary>The variance schedule.</summary>
    public NoiseSchedule Schedule { get; }

    /// <summary>The options this scheduler follows.</summary>
    public SchedulerOptions Options { get; }

    /// <inheritdoc />
    public int TrainTimesteps => Schedule.TrainTimesteps;

    /// <inheritdoc />
    public int FirstTrainTimestep => Schedule.FirstTimestep;

    /// <inheritdoc />
    public int InferenceSteps => _timesteps.Length;

    /// <inheritdoc />
    public IReadOnlyList<int> Timesteps => _timesteps;

    /// <inheritdoc />
    /// <remarks>DDPM only supports <c>inferenceSteps == T</c>.</remarks>
    public void SetTimesteps(int inferenceSteps)
    {
        if (inferenceSteps != TrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(inferenceSteps), inferenceSteps,
                $"DDPM walks every training timestep, so inferenceSteps must be {TrainTimesteps}; use DdimScheduler (or DPM-Solver++ / Euler ancestral) for fewer steps.");
        }
    }

    /// <inheritdoc />
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) => Schedule.AddNoise(originalSamples, noise, timesteps);

    /// <inheritdoc />
    public Tensor GetTrainingTarget(Tensor originalSamples, Tensor noise, Tensor timesteps) => Schedule.TrainingTarget(Options.PredictionType, originalSamples, noise, timesteps);

    /// <inheritdoc />
    public Tensor GetMinSnrLossWeights(Tensor timesteps, double gamma) => Schedule.MinSnrLossWeights(Options.PredictionType, timesteps, gamma);

    /// <inheritdoc />
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
        => Step(modelOutput, timestep, sample, new GeneratorNoiseSource(generator));

    /// <inheritdoc />
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise)
    {
        NoiseSchedule.ValidateStep(modelOutput, sample);
        if (timestep < Schedule.FirstTimestep || timestep > Schedule.LastTimestep)
        {
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timestep must lie in {Schedule.FirstTimestep}..{Schedule.LastTimestep}.");
        }

        bool course = Schedule.Convention == ScheduleConvention.Course;
        double ab = Schedule.AlphaBars[timestep];
        double abPrev = Schedule.AlphaBarOrFinal(timestep - 1, 1.0);

        // The course uses its own a_t and beta_t; diffusers derives them from the cumulative products.
        double a = course ? Schedule.Alphas[timestep] : ab / abPrev;
        double beta = course ? Schedule.Betas[timestep] : 1 - a;

        using var scope = NewDisposeScope();

        // 1. Predicted clean sample (and noise) from the model output, clipped if asked.
        var (predicted, eps) = NoiseSchedule.Predict(Options.PredictionType, modelOutput, sample, ab);
        var predictedOriginal = NoiseSchedule.Clip(predicted, Options.ClipSample, Options.ClipSampleRange);

        // 2. Posterior mean of x_{t-1}.
        Tensor mean;
        if (course)
        {
            if (Options.ClipSample)
            {
                eps = (sample - (Math.Sqrt(ab) * predictedOriginal)) / Math.Sqrt(1 - ab);
            }

            mean = (sample - (eps * ((1 - a) / Math.Sqrt(1 - ab)))) / Math.Sqrt(a);
        }
        else
        {
            double originalCoefficient = Math.Sqrt(abPrev) * beta / (1 - ab);
            double sampleCoefficient = Math.Sqrt(a) * (1 - abPrev) / (1 - ab);
            mean = (originalCoefficient * predictedOriginal) + (sampleCoefficient * sample);
        }

        // 3. Add fresh noise, except at the last step.
        Tensor prev = mean;
        if (timestep > Schedule.FirstTimestep)
        {
            double variance = Options.VarianceType == VarianceType.FixedLarge
                ? beta
                : Math.Max((1 - abPrev) / (1 - ab) * beta, 1e-20);
            prev = mean + (Math.Sqrt(variance) * NoiseSchedule.NoiseLike(sample, noise));
        }

        return new SchedulerStepResult(prev.MoveToOuterDisposeScope(), predictedOriginal.MoveToOuterDisposeScope());
    }
}
