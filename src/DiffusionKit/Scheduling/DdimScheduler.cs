using System.Globalization;
using static TorchSharp.torch;

namespace DiffusionKit.Scheduling;

/// <summary>
/// DDIM (Song et al. 2021) with eta: the course's fast sampler (eta = 0) and diffusers' <c>DDIMScheduler.step</c>.
/// </summary>
/// <remarks>
/// <para>Timesteps follow <see cref="SchedulerOptions.TimestepSpacing"/>; the default (course, trailing) visits
/// <c>t_i = T - floor(i·T/n)</c> for i = 0..n-1 (for T = 500, n = 25: 500, 480, ..., 20). In the course's convention the
/// step from t goes to the next visited timestep, or to 0 (ab_0 = 1) after the last; in diffusers' it goes to
/// <c>t - T // n</c>, and past timestep 0 to ab = 1 (<see cref="SchedulerOptions.SetAlphaToOne"/>) or alphas_cumprod[0].</para>
/// <para>Step (formula 12 of the paper): x0 and eps from the model output (x0 clipped if asked);
/// <c>sigma = eta·sqrt((1 - ab_prev)/(1 - ab_t))·sqrt(1 - ab_t/ab_prev)</c>;
/// <c>x_prev = sqrt(ab_prev)·x0 + sqrt(1 - ab_prev - sigma^2)·eps + sigma·z</c>. With eta = 0 this is the course's
/// <c>sqrt(ab_prev)/sqrt(ab_t)·(x_t - sqrt(1 - ab_t)·eps) + sqrt(1 - ab_prev)·eps</c>.</para>
/// <para>Single-step: holds no loop state. <see cref="SetTimesteps"/> mutates the plan; do not call it during a loop.</para>
/// </remarks>
public sealed class DdimScheduler : INoiseScheduler
{
    private int[] _timesteps = [];
    private Dictionary<int, int> _previous = new();

    /// <summary>Creates a DDIM scheduler over <paramref name="schedule"/> taking <paramref name="inferenceSteps"/> steps.</summary>
    /// <param name="schedule">The training schedule.</param>
    /// <param name="inferenceSteps">1..T; default 25 (the course).</param>
    public DdimScheduler(NoiseSchedule schedule, int inferenceSteps = 25)
        : this(schedule ?? throw new ArgumentNullException(nameof(schedule)), SchedulerFactory.OptionsFor(schedule, SamplerKind.Ddim, inferenceSteps), inferenceSteps)
    {
    }

    /// <summary>Creates a DDIM scheduler with the course's schedule (T 500, beta 1e-4..0.02) unless told otherwise.</summary>
    public DdimScheduler(int inferenceSteps = 25, int trainTimesteps = 500, double betaStart = 1e-4, double betaEnd = 0.02)
        : this(new NoiseSchedule(trainTimesteps, betaStart, betaEnd), inferenceSteps)
    {
    }

    /// <summary>Creates a DDIM scheduler from <paramref name="options"/> with <see cref="SchedulerOptions.ResolvedInferenceSteps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When an option is invalid, naming it.</exception>
    public DdimScheduler(SchedulerOptions options)
        : this(new NoiseSchedule(SchedulerFactory.Validated(options)), options, options.InferenceSteps ?? SchedulerOptions.DefaultInferenceSteps(SamplerKind.Ddim, options.TrainTimesteps))
    {
    }

    private DdimScheduler(NoiseSchedule schedule, SchedulerOptions options, int inferenceSteps)
    {
        Schedule = schedule;
        Options = options;
        SetTimesteps(inferenceSteps);
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
    public void SetTimesteps(int inferenceSteps)
    {
        var timesteps = TimestepPlans.Plan(Schedule, Options, inferenceSteps, TimestepPlans.Family.Ddim);
        var previous = new Dictionary<int, int>(inferenceSteps);
        int ratio = TrainTimesteps / inferenceSteps;
        for (int i = 0; i < timesteps.Length; i++)
        {
            previous[timesteps[i]] = Schedule.Convention == ScheduleConvention.Course
                ? (i + 1 < timesteps.Length ? timesteps[i + 1] : 0)
                : timesteps[i] - ratio;
        }

        _timesteps = timesteps;
        _previous = previous;
    }

    /// <summary>The timestep the step from <paramref name="timestep"/> lands on: 0 after the last step in the course's
    /// convention; <c>t - T // n</c> in diffusers' (negative past timestep 0).</summary>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="timestep"/> is not one of <see cref="Timesteps"/>.</exception>
    public int PreviousTimestep(int timestep) => _previous.TryGetValue(timestep, out int prev)
        ? prev
        : throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timestep must be one of the {InferenceSteps} scheduled timesteps ({_timesteps[0]}, {(_timesteps.Length > 1 ? _timesteps[1].ToString(CultureInfo.InvariantCulture) + ", " : string.Empty)}...); call SetTimesteps to change them.");

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
    /// <remarks>Deterministic when <see cref="SchedulerOptions.Eta"/> is 0 (<paramref name="noise"/> is then not used).</remarks>
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise)
    {
        NoiseSchedule.ValidateStep(modelOutput, sample);
        int prevTimestep = PreviousTimestep(timestep);
        double ab = Schedule.AlphaBars[timestep];
        double abPrev = Schedule.AlphaBarOrFinal(prevTimestep, Options.SetAlphaToOne ? 1.0 : Schedule.AlphaBars[0]);

        using var scope = NewDisposeScope();

        // 1. Predicted clean sample x0 and noise eps from the model output (x0 = (x_t - sqrt(1 - ab_t)·eps)/sqrt(ab_t) for eps).
        var (predicted, eps) = NoiseSchedule.Predict(Options.PredictionType, modelOutput, sample, ab);
        var predictedOriginal = NoiseSchedule.Clip(predicted, Options.ClipSample, Options.ClipSampleRange);

        // 2. sigma_t = eta·sqrt((1 - ab_prev)/(1 - ab_t)·(1 - ab_t/ab_prev)).
        double variance = (1 - abPrev) / (1 - ab) * (1 - (ab / abPrev));
        double sigma = Options.Eta * Math.Sqrt(variance);

        // 3. Point back along the predicted noise: x_prev = sqrt(ab_prev)·x0 + sqrt(1 - ab_prev - sigma^2)·eps (+ sigma·z).
        var prev = (Math.Sqrt(abPrev) * predictedOriginal) + (Math.Sqrt(1 - abPrev - (sigma * sigma)) * eps);
        if (Options.Eta > 0)
        {
            prev = prev + (sigma * NoiseSchedule.NoiseLike(sample, noise));
        }

        return new SchedulerStepResult(prev.MoveToOuterDisposeScope(), predictedOriginal.MoveToOuterDisposeScope());
    }
}
