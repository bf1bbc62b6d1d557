using static TorchSharp.torch;

namespace DiffusionKit.Scheduling;

/// <summary>
/// Deterministic DDIM (Song et al. 2021, eta = 0) over evenly spaced timesteps: the course's fast sampler.
/// </summary>
/// <remarks>
/// <para>With n inference steps the loop visits <c>t_i = T - floor(i·T/n)</c> for i = 0..n-1 (for T = 500, n = 25:
/// 500, 480, ..., 20) and the step from t goes to the next visited timestep, or to 0 (ab_0 = 1) after the last.</para>
/// <para>Step: <c>x0 = (x_t - sqrt(1 - ab_t)·eps)/sqrt(ab_t)</c>; <c>x_prev = sqrt(ab_prev)·x0 + sqrt(1 - ab_prev)·eps</c>,
/// which is the course's <c>sqrt(ab_prev)/sqrt(ab_t)·(x_t - sqrt(1 - ab_t)·eps) + sqrt(1 - ab_prev)·eps</c>.</para>
/// </remarks>
public sealed class DdimScheduler : INoiseScheduler
{
    private int[] _timesteps = [];
    private Dictionary<int, int> _previous = new();

    /// <summary>Creates a DDIM scheduler over <paramref name="schedule"/> taking <paramref name="inferenceSteps"/> steps.</summary>
    /// <param name="schedule">The training schedule.</param>
    /// <param name="inferenceSteps">1..T; default 25 (the course).</param>
    public DdimScheduler(NoiseSchedule schedule, int inferenceSteps = 25)
    {
        Schedule = schedule ?? throw new ArgumentNullException(nameof(schedule));
        SetTimesteps(inferenceSteps);
    }

    /// <summary>Creates a DDIM scheduler with the course's schedule (T 500, beta 1e-4..0.02) unless told otherwise.</summary>
    public DdimScheduler(int inferenceSteps = 25, int trainTimesteps = 500, double betaStart = 1e-4, double betaEnd = 0.02)
        : this(new NoiseSchedule(trainTimesteps, betaStart, betaEnd), inferenceSteps)
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
    public void SetTimesteps(int inferenceSteps)
    {
        if (inferenceSteps < 1 || inferenceSteps > TrainTimesteps)
        {
            throw new ArgumentOutOfRangeException(nameof(inferenceSteps), inferenceSteps,
                $"inferenceSteps must lie in 1..{TrainTimesteps} (the number of training timesteps).");
        }

        int total = TrainTimesteps;
        var timesteps = Enumerable.Range(0, inferenceSteps).Select(i => total - (int)((long)i * total / inferenceSteps)).ToArray();
        var previous = new Dictionary<int, int>(inferenceSteps);
        for (int i = 0; i < timesteps.Length; i++)
        {
            previous[timesteps[i]] = i + 1 < timesteps.Length ? timesteps[i + 1] : 0;
        }

        _timesteps = timesteps;
        _previous = previous;
    }

    /// <summary>The timestep the step from <paramref name="timestep"/> lands on (0 after the last step).</summary>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="timestep"/> is not one of <see cref="Timesteps"/>.</exception>
    public int PreviousTimestep(int timestep) => _previous.TryGetValue(timestep, out int prev)
        ? prev
        : throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timestep must be one of the {InferenceSteps} scheduled timesteps ({_timesteps[0]}, {(_timesteps.Length > 1 ? _timesteps[1].ToString(System.Globalization.CultureInfo.InvariantCulture) + ", " : string.Empty)}...); call SetTimesteps to change them.");

    /// <inheritdoc />
    public Tensor AddNoise(Tensor originalSamples, Tensor noise, Tensor timesteps) => Schedule.AddNoise(originalSamples, noise, timesteps);

    /// <inheritdoc />
    /// <remarks>Deterministic: <paramref name="generator"/> is not used.</remarks>
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
    {
        NoiseSchedule.ValidateStep(modelOutput, sample);
        int prevTimestep = PreviousTimestep(timestep);
        double ab = Schedule.AlphaBars[timestep];
        double abPrev = Schedule.AlphaBars[prevTimestep];

        using var scope = NewDisposeScope();

        // 1. Predicted clean sample x0 = (x_t - sqrt(1 - ab_t)·eps) / sqrt(ab_t).
        var predictedOriginal = (sample - (Math.Sqrt(1 - ab) * modelOutput)) / Math.Sqrt(ab);

        // 2. Point back along the predicted noise: x_prev = sqrt(ab_prev)·x0 + sqrt(1 - ab_prev)·eps (eta = 0).
        var prev = (Math.Sqrt(abPrev) * predictedOriginal) + (Math.Sqrt(1 - abPrev) * modelOutput);
        return new SchedulerStepResult(prev.MoveToOuterDisposeScope(), predictedOriginal.MoveToOuterDisposeScope());
    }
}
