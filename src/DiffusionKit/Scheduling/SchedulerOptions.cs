using System.Globalization;

namespace DiffusionKit.Scheduling;

/// <summary>
/// Everything that defines a noise scheduler: the training schedule (shared by every algorithm, so a trained model can
/// switch algorithm without retraining) and the sampling algorithm with its settings. Names follow diffusers'
/// scheduler configs; <see cref="SchedulerNames"/> converts the enum values to and from diffusers' strings.
/// </summary>
/// <remarks>The defaults reproduce the course exactly: linear betas 1e-4..0.02 over T = 500, timesteps 1..T, epsilon prediction.
/// Call <see cref="Validate"/> (the schedulers and <see cref="SchedulerFactory"/> do) before use.</remarks>
public sealed class SchedulerOptions
{
    /// <summary>The sampling algorithm. Default <see cref="SamplerKind.Ddim"/> (the course's fast sampler).</summary>
    public SamplerKind Algorithm { get; init; } = SamplerKind.Ddim;

    /// <summary>Number of training timesteps T (<c>num_train_timesteps</c>). Default 500 (the course; diffusers uses 1000). At least 1.</summary>
    public int TrainTimesteps { get; init; } = 500;

    /// <summary>The first beta (<c>beta_start</c>), in (0, 1). Default 1e-4.</summary>
    public double BetaStart { get; init; } = 1e-4;

    /// <summary>The last beta (<c>beta_end</c>), in [BetaStart, 1). Default 0.02.</summary>
    public double BetaEnd { get; init; } = 0.02;

    /// <summary>The beta schedule (<c>beta_schedule</c>). Default <see cref="BetaSchedule.Linear"/>.</summary>
    public BetaSchedule BetaSchedule { get; init; } = BetaSchedule.Linear;

    /// <summary>What the model predicts (<c>prediction_type</c>), used in training and sampling. Default <see cref="PredictionType.Epsilon"/>.</summary>
    public PredictionType PredictionType { get; init; } = PredictionType.Epsilon;

    /// <summary>How inference timesteps are spaced (<c>timestep_spacing</c>). Default <see cref="TimestepSpacing.Trailing"/>
    /// (the course's DDIM spacing); set <see cref="TimestepSpacing.Leading"/> for diffusers' DDIM default or
    /// <see cref="TimestepSpacing.Linspace"/> for its DPM-Solver and Euler default.</summary>
    public TimestepSpacing TimestepSpacing { get; init; } = TimestepSpacing.Trailing;

    /// <summary>Added to every timestep with <see cref="TimestepSpacing.Leading"/> spacing (<c>steps_offset</c>). Default 0; at least 0.</summary>
    public int StepsOffset { get; init; }

    /// <summary>Clip the predicted clean sample to ±<see cref="ClipSampleRange"/> at every step (<c>clip_sample</c>). Default false.</summary>
    public bool ClipSample { get; init; }

    /// <summary>The bound for <see cref="ClipSample"/> (<c>clip_sample_range</c>). Default 1.0; finite and greater than 0.</summary>
    public double ClipSampleRange { get; init; } = 1.0;

    /// <summary>DDIM's eta: 0 is deterministic DDIM, 1 is DDPM-like noise (<c>eta</c>). Default 0; finite and at least 0.</summary>
    public double Eta { get; init; }

    /// <summary>DDPM's added-noise variance (<c>variance_type</c>). Default <see cref="VarianceType.FixedLarge"/> (the course's sqrt(beta_t)).</summary>
    public VarianceType VarianceType { get; init; } = VarianceType.FixedLarge;

    /// <summary>DPM-Solver++'s order (<c>solver_order</c>): 1 (equivalent to DDIM) or 2 (2M). Default 2.</summary>
    public int SolverOrder { get; init; } = 2;

    /// <summary>DPM-Solver++: use first order for the last step when there are fewer than 15 steps (<c>lower_order_final</c>). Default true.
    /// With <see cref="FinalSigmas.Zero"/> the last step is first order anyway.</summary>
    public bool LowerOrderFinal { get; init; } = true;

    /// <summary>DPM-Solver++: where the last step lands (<c>final_sigmas_type</c>). Default <see cref="FinalSigmas.Zero"/> (diffusers' default).</summary>
    public FinalSigmas FinalSigmas { get; init; } = FinalSigmas.Zero;

    /// <summary>DDIM in diffusers' convention: the step past timestep 0 lands on ab = 1 (true) or on alphas_cumprod[0] (<c>set_alpha_to_one</c>). Default true.</summary>
    public bool SetAlphaToOne { get; init; } = true;

    /// <summary>How timesteps are indexed. Default <see cref="ScheduleConvention.Course"/>.</summary>
    public ScheduleConvention Convention { get; init; } = ScheduleConvention.Course;

    /// <summary>Number of inference steps; null means the sampler's default (<see cref="DefaultInferenceSteps"/>). Must lie in 1..T; DDPM only supports T.</summary>
    public int? InferenceSteps { get; init; }

    /// <summary>The number of inference steps the options resolve to (see <see cref="InferenceSteps"/>).</summary>
    public int ResolvedInferenceSteps => InferenceSteps ?? DefaultInferenceSteps(Algorithm, TrainTimesteps);

    /// <summary>
    /// The one rule for the step count used when none is given (by these options, the pipeline builder, the DI options
    /// and the CLI): T for DDPM (it walks every training timestep), 25 for DDIM (the course's), 20 for DPM-Solver++ 2M,
    /// its SDE variant and Euler ancestral (DPM-Solver++'s advice for guided sampling); never more than T.
    /// </summary>
    /// <param name="algorithm">The sampling algorithm.</param>
    /// <param name="trainTimesteps">T.</param>
    /// <returns>The default number of inference steps.</returns>
    public static int DefaultInferenceSteps(SamplerKind algorithm, int trainTimesteps) => algorithm switch
    {
        SamplerKind.Ddpm => trainTimesteps,
        SamplerKind.Ddim => Math.Min(25, trainTimesteps),
        _ => Math.Min(20, trainTimesteps),
    };

    /// <summary>
    /// A copy with another algorithm (and optionally step count) over the same training schedule and settings: how a
    /// loaded checkpoint switches sampler without retraining.
    /// </summary>
    /// <param name="algorithm">The new algorithm.</param>
    /// <param name="inferenceSteps">The new step count; null for the algorithm's default (see <see cref="InferenceSteps"/>).</param>
    /// <returns>New options; this instance is unchanged.</returns>
    public SchedulerOptions WithAlgorithm(SamplerKind algorithm, int? inferenceSteps = null) => new()
    {
        Algorithm = algorithm,
        TrainTimesteps = TrainTimesteps,
        BetaStart = BetaStart,
        BetaEnd = BetaEnd,
        BetaSchedule = BetaSchedule,
        PredictionType = PredictionType,
        TimestepSpacing = TimestepSpacing,
        StepsOffset = StepsOffset,
        ClipSample = ClipSample,
        ClipSampleRange = ClipSampleRange,
        Eta = Eta,
        VarianceType = VarianceType,
        SolverOrder = SolverOrder,
        LowerOrderFinal = LowerOrderFinal,
        FinalSigmas = FinalSigmas,
        SetAlphaToOne = SetAlphaToOne,
        Convention = Convention,
        InferenceSteps = inferenceSteps,
    };

    /// <summary>Checks every option.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Naming the first bad option (as <c>ParamName</c>) and its allowed values.</exception>
    public void Validate()
    {
        CheckEnum(Algorithm, nameof(Algorithm));
        CheckEnum(BetaSchedule, nameof(BetaSchedule));
        CheckEnum(PredictionType, nameof(PredictionType));
        CheckEnum(TimestepSpacing, nameof(TimestepSpacing));
        CheckEnum(VarianceType, nameof(VarianceType));
        CheckEnum(Convention, nameof(Convention));
        CheckEnum(FinalSigmas, nameof(FinalSigmas));
        Check(TrainTimesteps >= 1, nameof(TrainTimesteps), TrainTimesteps, "at least 1 (the course uses 500, diffusers 1000)");
        Check(BetaStart > 0 && BetaStart < 1, nameof(BetaStart), BetaStart, "in (0, 1) (the course uses 1e-4)");
        Check(BetaEnd >= BetaStart && BetaEnd < 1, nameof(BetaEnd), BetaEnd, $"in [BetaStart = {F(BetaStart)}, 1) (the course uses 0.02)");
        Check(StepsOffset >= 0, nameof(StepsOffset), StepsOffset, "at least 0");
        Check(double.IsFinite(ClipSampleRange) && ClipSampleRange > 0, nameof(ClipSampleRange), ClipSampleRange, "finite and greater than 0");
        Check(double.IsFinite(Eta) && Eta >= 0, nameof(Eta), Eta, "finite and at least 0 (0 = deterministic DDIM, 1 = DDPM-like)");
        Check(SolverOrder is 1 or 2, nameof(SolverOrder), SolverOrder, "1 or 2");
        int steps = ResolvedInferenceSteps;
        if (Algorithm == SamplerKind.Ddpm)
        {
            Check(steps == TrainTimesteps, nameof(InferenceSteps), steps, $"{TrainTimesteps} (DDPM walks every training timestep; choose Ddim, DpmSolverMultistep or EulerAncestral for fewer steps)");
        }
        else
        {
            Check(steps >= 1 && steps <= TrainTimesteps, nameof(InferenceSteps), steps, $"in 1..{TrainTimesteps} (the number of training timesteps)");
        }
    }

    private static void CheckEnum<TEnum>(TEnum value, string name)
        where TEnum : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw new ArgumentOutOfRangeException(name, value, $"SchedulerOptions.{name} must be one of {string.Join(", ", Enum.GetNames<TEnum>())}.");
        }
    }

    private static void Check(bool ok, string name, object value, string allowed)
    {
        if (!ok)
        {
            throw new ArgumentOutOfRangeException(name, value, $"SchedulerOptions.{name} must be {allowed}.");
        }
    }

    private static string F(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
