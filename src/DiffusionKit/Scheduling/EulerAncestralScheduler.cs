using System.Globalization;
using static TorchSharp.torch;

namespace DiffusionKit.Scheduling;

/// <summary>
/// Euler ancestral sampling in sigma space (Karras et al. 2022 / k-diffusion's <c>sample_euler_ancestral</c>), as
/// diffusers' <c>EulerAncestralDiscreteScheduler</c>: stochastic, good in 20-30 steps.
/// </summary>
/// <remarks>
/// <para>The sample lives in sigma space, <c>x = x_t/sqrt(ab_t)</c>, with <c>sigma_t = sqrt((1 - ab_t)/ab_t)</c>
/// interpolated at the (possibly fractional) planned timesteps and a final sigma of 0. Loops start from noise scaled by
/// <see cref="InitNoiseSigma"/> and feed the model <see cref="ScaleModelInput"/>, <c>x/sqrt(sigma^2 + 1)</c>.</para>
/// <para>Step from sigma to sigma_next: <c>sigma_up = sqrt(sigma_next^2·(sigma^2 - sigma_next^2)/sigma^2)</c>,
/// <c>sigma_down = sqrt(sigma_next^2 - sigma_up^2)</c>; <c>x' = x + (x - x0)/sigma·(sigma_down - sigma) + sigma_up·z</c>.
/// A fresh z is drawn every step (also the last, where sigma_up = 0), as diffusers does.</para>
/// <para>With <see cref="TimestepSpacing.Linspace"/> in diffusers' convention the planned timesteps are fractional;
/// <see cref="Timesteps"/> holds them rounded (distinct keys) and <see cref="GetModelTimestep"/> the exact values.
/// Single-step: holds no loop state.</para>
/// </remarks>
public sealed class EulerAncestralScheduler : INoiseScheduler
{
    private int[] _timesteps = [];
    private double[] _modelTimesteps = [];
    private double[] _sigmas = [];
    private Dictionary<int, int> _index = new();

    /// <summary>Creates the scheduler from <paramref name="options"/> with <see cref="SchedulerOptions.ResolvedInferenceSteps"/> steps.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When an option is invalid, naming it.</exception>
    public EulerAncestralScheduler(SchedulerOptions options)
    {
        Schedule = new NoiseSchedule(SchedulerFactory.Validated(options));
        Options = options;
        SetTimesteps(options.InferenceSteps ?? SchedulerOptions.DefaultInferenceSteps(SamplerKind.EulerAncestral, options.TrainTimesteps));
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

    /// <summary>sigma at each visited timestep followed by the final 0 (length <see cref="InferenceSteps"/> + 1).</summary>
    public IReadOnlyList<double> Sigmas => _sigmas;

    /// <inheritdoc />
    /// <remarks>The largest sigma for linspace and trailing spacing, <c>sqrt(sigma_max^2 + 1)</c> for leading (diffusers).</remarks>
    public double InitNoiseSigma => Options.TimestepSpacing == TimestepSpacing.Leading
        ? Math.Sqrt((_sigmas[0] * _sigmas[0]) + 1)
        : _sigmas[0];

    /// <inheritdoc />
    public void SetTimesteps(int inferenceSteps)
    {
        var exact = TimestepPlans.PlanFractional(Schedule, Options, inferenceSteps, TimestepPlans.Family.Ddim);
        var rounded = exact.Select(v => (int)Math.Round(v, MidpointRounding.ToEven)).ToArray();
        TimestepPlans.Check(Schedule, Options, inferenceSteps, rounded);

        // sigma(t) = sqrt((1 - ab_t)/ab_t), linearly interpolated like np.interp(timesteps, arange(len), sigmas).
        var table = Schedule.AlphaBars.Select(ab => Math.Sqrt((1 - ab) / ab)).ToArray();
        var sigmas = new double[exact.Length + 1];
        for (int i = 0; i < exact.Length; i++)
        {
            int low = (int)Math.Floor(exact[i]);
            double fraction = exact[i] - low;
            sigmas[i] = fraction == 0 ? table[low] : table[low] + (fraction * (table[low + 1] - table[low]));
        }

        _timesteps = rounded;
        _modelTimesteps = exact;
        _sigmas = sigmas;
        _index = rounded.Select((t, i) => (t, i)).ToDictionary(p => p.t, p => p.i);
    }

    /// <inheritdoc />
    public double GetModelTimestep(int timestep) => _modelTimesteps[IndexOf(timestep)];

    /// <inheritdoc />
    public Tensor ScaleModelInput(Tensor sample, int timestep)
    {
        ArgumentNullException.ThrowIfNull(sample);
        double sigma = _sigmas[IndexOf(timestep)];
        return sample / Math.Sqrt((sigma * sigma) + 1);
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
    /// <remarks><paramref name="sample"/> is the unscaled sample in sigma space; the model output is for <see cref="ScaleModelInput"/> of it.</remarks>
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise)
    {
        NoiseSchedule.ValidateStep(modelOutput, sample);
        int i = IndexOf(timestep);
        double sigma = _sigmas[i];
        double sigmaNext = _sigmas[i + 1];

        using var scope = NewDisposeScope();

        // 1. Predicted clean sample in sigma space.
        var predicted = Options.PredictionType switch
        {
            PredictionType.Epsilon => sample - (sigma * modelOutput),
            PredictionType.VPrediction => (modelOutput * (-sigma / Math.Sqrt((sigma * sigma) + 1))) + (sample / ((sigma * sigma) + 1)),
            _ => modelOutput.alias(),
        };
        var predictedOriginal = NoiseSchedule.Clip(predicted, Options.ClipSample, Options.ClipSampleRange);

        // 2. Split the move to sigma_next into a deterministic part (to sigma_down) and fresh noise (sigma_up).
        double sigmaUp = Math.Sqrt(sigmaNext * sigmaNext * ((sigma * sigma) - (sigmaNext * sigmaNext)) / (sigma * sigma));
        double sigmaDown = Math.Sqrt((sigmaNext * sigmaNext) - (sigmaUp * sigmaUp));

        // 3. Euler step along the ODE derivative d = (x - x0)/sigma, then add sigma_up·z.
        var derivative = (sample - predictedOriginal) / sigma;
        var prev = sample + (derivative * (sigmaDown - sigma));
        prev = prev + (NoiseSchedule.NoiseLike(sample, noise) * sigmaUp);
        return new SchedulerStepResult(prev.MoveToOuterDisposeScope(), predictedOriginal.MoveToOuterDisposeScope());
    }

    private int IndexOf(int timestep) => _index.TryGetValue(timestep, out int i)
        ? i
        : throw new ArgumentOutOfRangeException(nameof(timestep), timestep, $"timestep must be one of the {InferenceSteps} scheduled timesteps ({string.Join(", ", _timesteps.Take(3).Select(t => t.ToString(CultureInfo.InvariantCulture)))}, ...); call SetTimesteps to change them.");
}
