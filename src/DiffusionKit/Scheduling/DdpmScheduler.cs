using static TorchSharp.torch;

namespace DiffusionKit.Scheduling;

/// <summary>
/// DDPM (Ho et al. 2020) ancestral sampling as taught in the course: every training timestep T..1, posterior mean
/// plus fresh noise with variance beta_t (none at the last step).
/// </summary>
/// <remarks>
/// <para>Step at t: <c>mean = (x_t - eps·(1 - a_t)/sqrt(1 - ab_t)) / sqrt(a_t)</c>; <c>x_{t-1} = mean + sqrt(beta_t)·z</c>,
/// z ~ N(0, I), z = 0 when t = 1. The predicted clean sample is <c>(x_t - sqrt(1 - ab_t)·eps) / sqrt(ab_t)</c>.</para>
/// <para>DDPM walks every training timestep; for fewer steps use <see cref="DdimScheduler"/>.</para>
/// </remarks>
public sealed class DdpmScheduler : INoiseScheduler
{
    private readonly int[] _timesteps;

    /// <summary>Creates a DDPM scheduler over <paramref name="schedule"/>.</summary>
    public DdpmScheduler(NoiseSchedule schedule)
    {
        Schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        _timesteps = Enumerable.Range(1, schedule.TrainTimesteps).Reverse().ToArray();
    }

    /// <summary>Creates a DDPM scheduler with the course's schedule (T 500, beta 1e-4..0.02) unless told otherwise.</summary>
    public DdpmScheduler(int trainTimesteps = 500, double betaStart = 1e-4, double betaEnd = 0.02)
        : this(new NoiseSchedule(trainTimesteps, betaStart, betaEnd))
    {
    }

    /// <summary>The variance schedule.</summary>
    public NoiseSchedule Schedule { get; }

    /// <inheritdoc />
    public int TrainTimesteps => Schedule.TrainTimesteps;

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
                $"DDPM walks every training timestep, so inferenceSteps must be {TrainTimesteps}; use DdimScheduler for fewer steps.");
        }
    }

    /// <inheritdoc />
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) => Schedule.AddNoise(originalSamples, noise, timesteps);

    /// <inheritdoc />
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
    {
        NoiseSchedule.ValidateStep(modelOutput, sample);
        if (timestep < 1 || timestep > TrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timestep must lie in 1..{TrainTimesteps}.");
        }

        double a = Schedule.Alphas[timestep];
        double ab = Schedule.AlphaBars[timestep];
        double beta = Schedule.Betas[timestep];

        using var scope = NewDisposeScope();

        // 1. Predicted clean sample x0 = (x_t - sqrt(1 - ab_t)·eps) / sqrt(ab_t).
        var predictedOriginal = (sample - (Math.Sqrt(1 - ab) * modelOutput)) / Math.Sqrt(ab);

        // 2. Posterior mean (course's denoise_add_noise): (x_t - eps·(1 - a_t)/sqrt(1 - ab_t)) / sqrt(a_t).
        var mean = (sample - (modelOutput * ((1 - a) / Math.Sqrt(1 - ab)))) / Math.Sqrt(a);

        // 3. Add fresh noise sqrt(beta_t)·z, except at the last step.
        var prev = timestep > 1 ? mean + (Math.Sqrt(beta) * NoiseSchedule.NoiseLike(sample, generator)) : mean;
        return new SchedulerStepResult(prev.MoveToOuterDisposeScope(), predictedOriginal.MoveToOuterDisposeScope());
    }
}
