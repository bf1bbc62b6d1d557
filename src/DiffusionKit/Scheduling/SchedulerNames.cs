namespace DiffusionKit.Scheduling;

/// <summary>
/// diffusers' config strings for the scheduler enums, so a checkpoint's scheduler config can use the names users know
/// (<c>"beta_schedule": "scaled_linear"</c>). Parsing is exact (case-sensitive, like diffusers); unknown names fail.
/// </summary>
public static class SchedulerNames
{
    private static readonly (BetaSchedule Value, string Name)[] BetaSchedules =
        [(BetaSchedule.Linear, "linear"), (BetaSchedule.ScaledLinear, "scaled_linear"), (BetaSchedule.SquaredCosCapV2, "squaredcos_cap_v2")];

    private static readonly (PredictionType Value, string Name)[] PredictionTypes =
        [(PredictionType.Epsilon, "epsilon"), (PredictionType.VPrediction, "v_prediction"), (PredictionType.Sample, "sample")];

    private static readonly (TimestepSpacing Value, string Name)[] Spacings =
        [(TimestepSpacing.Linspace, "linspace"), (TimestepSpacing.Leading, "leading"), (TimestepSpacing.Trailing, "trailing")];

    private static readonly (VarianceType Value, string Name)[] VarianceTypes =
        [(VarianceType.FixedSmall, "fixed_small"), (VarianceType.FixedLarge, "fixed_large")];

    private static readonly (FinalSigmas Value, string Name)[] FinalSigmasNames =
        [(FinalSigmas.Zero, "zero"), (FinalSigmas.SigmaMin, "sigma_min")];

    private static readonly (SchedulerAlgorithm Value, string Name)[] Algorithms =
        [(SchedulerAlgorithm.Ddpm, "DDPMScheduler"), (SchedulerAlgorithm.Ddim, "DDIMScheduler"),
         (SchedulerAlgorithm.DpmSolverMultistep, "DPMSolverMultistepScheduler"), (SchedulerAlgorithm.EulerAncestral, "EulerAncestralDiscreteScheduler"),
         (SchedulerAlgorithm.DpmSolverMultistepSde, "DPMSolverMultistepScheduler")];

    /// <summary>Parses a <c>beta_schedule</c> name: <c>linear</c>, <c>scaled_linear</c> or <c>squaredcos_cap_v2</c>.</summary>
    /// <exception cref="ArgumentException">For any other name, listing the allowed ones.</exception>
    public static BetaSchedule ParseBetaSchedule(string name) => Parse(BetaSchedules, name, "beta_schedule");

    /// <summary>Parses a <c>prediction_type</c> name: <c>epsilon</c>, <c>v_prediction</c> or <c>sample</c>.</summary>
    /// <exception cref="ArgumentException">For any other name, listing the allowed ones.</exception>
    public static PredictionType ParsePredictionType(string name) => Parse(PredictionTypes, name, "prediction_type");

    /// <summary>Parses a <c>timestep_spacing</c> name: <c>linspace</c>, <c>leading</c> or <c>trailing</c>.</summary>
    /// <exception cref="ArgumentException">For any other name, listing the allowed ones.</exception>
    public static TimestepSpacing ParseTimestepSpacing(string name) => Parse(Spacings, name, "timestep_spacing");

    /// <summary>Parses a <c>variance_type</c> name: <c>fixed_small</c> or <c>fixed_large</c>.</summary>
    /// <exception cref="ArgumentException">For any other name, listing the allowed ones.</exception>
    public static VarianceType ParseVarianceType(string name) => Parse(VarianceTypes, name, "variance_type");

    /// <summary>Parses a <c>final_sigmas_type</c> name: <c>zero</c> or <c>sigma_min</c>.</summary>
    /// <exception cref="ArgumentException">For any other name, listing the allowed ones.</exception>
    public static FinalSigmas ParseFinalSigmas(string name) => Parse(FinalSigmasNames, name, "final_sigmas_type");

    /// <summary>Parses a diffusers scheduler class name (<c>_class_name</c>): DDPMScheduler, DDIMScheduler, DPMSolverMultistepScheduler or EulerAncestralDiscreteScheduler.</summary>
    /// <exception cref="ArgumentException">For any other name, listing the allowed ones.</exception>
    public static SchedulerAlgorithm ParseAlgorithm(string name) => Parse(Algorithms, name, "_class_name");

    /// <summary>diffusers' name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value outside the enum.</exception>
    public static string Format(BetaSchedule value) => Format(BetaSchedules, value);

    /// <summary>diffusers' name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value outside the enum.</exception>
    public static string Format(PredictionType value) => Format(PredictionTypes, value);

    /// <summary>diffusers' name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value outside the enum.</exception>
    public static string Format(TimestepSpacing value) => Format(Spacings, value);

    /// <summary>diffusers' name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value outside the enum.</exception>
    public static string Format(VarianceType value) => Format(VarianceTypes, value);

    /// <summary>diffusers' name of <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value outside the enum.</exception>
    public static string Format(FinalSigmas value) => Format(FinalSigmasNames, value);

    /// <summary>diffusers' scheduler class name for <paramref name="value"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value outside the enum.</exception>
    public static string Format(SchedulerAlgorithm value) => Format(Algorithms, value);

    private static T Parse<T>((T Value, string Name)[] table, string name, string key)
        where T : struct, Enum
    {
        ArgumentNullException.ThrowIfNull(name);
        foreach (var (value, known) in table)
        {
            if (string.Equals(known, name, StringComparison.Ordinal))
            {
                return value;
            }
        }

        throw new ArgumentException($"Unknown {key} \"{name}\"; allowed: {string.Join(", ", table.Select(e => e.Name))}.", nameof(name));
    }

    private static string Format<T>((T Value, string Name)[] table, T value)
        where T : struct, Enum
    {
        foreach (var (known, name) in table)
        {
            if (EqualityComparer<T>.Default.Equals(known, value))
            {
                return name;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a defined {typeof(T).Name}; allowed: {string.Join(", ", Enum.GetNames<T>())}.");
    }
}
