namespace DiffusionKit.Scheduling;

/// <summary>
/// The one name table of DiffusionKit's scheduler and sampler vocabulary: diffusers' config strings for the scheduler
/// enums, so a scheduler config uses the names users know (<c>"beta_schedule": "scaled_linear"</c>), and the names of
/// each <see cref="SamplerKind"/> (diffusers' class name, the CLI's short name, the enum name). Config strings parse
/// exactly (case-sensitive, like diffusers); sampler names, which users type, parse case-insensitively. Unknown names
/// fail, listing the allowed ones.
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

    /// <summary>Every sampler under its short name (the CLI's, and the one <see cref="ShortName"/> returns) and diffusers' scheduler class name.</summary>
    private static readonly (SamplerKind Value, string ShortName, string ClassName)[] Samplers =
    [
        (SamplerKind.Ddim, "ddim", "DDIMScheduler"),
        (SamplerKind.Ddpm, "ddpm", "DDPMScheduler"),
        (SamplerKind.DpmSolverMultistep, "dpm-solver", "DPMSolverMultistepScheduler"),
        (SamplerKind.EulerAncestral, "euler-a", "EulerAncestralDiscreteScheduler"),
        (SamplerKind.DpmSolverMultistepSde, "dpm-solver-sde", "DPMSolverMultistepScheduler"),
    ];

    /// <summary>The sampler names users may type, for help texts and error messages: <c>ddim, ddpm, dpm-solver, euler-a, dpm-solver-sde</c>.</summary>
    public static string AllowedSamplerNames => string.Join(", ", Samplers.Select(s => s.ShortName));

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

    /// <summary>
    /// Parses a sampler name as users write it, case-insensitively: the short name (<c>ddim</c>, <c>ddpm</c>,
    /// <c>dpm-solver</c>, <c>euler-a</c>, <c>dpm-solver-sde</c>), the <see cref="SamplerKind"/> name
    /// (<c>DpmSolverMultistep</c>) or diffusers' class name (<c>DDIMScheduler</c>; <c>DPMSolverMultistepScheduler</c> is
    /// the deterministic DPM-Solver++). Numbers are refused.
    /// </summary>
    /// <param name="name">The name.</param>
    /// <returns>The sampler.</returns>
    /// <exception cref="ArgumentException">For any other name, listing the allowed ones.</exception>
    public static SamplerKind ParseSampler(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return TryParseSampler(name, out var kind)
            ? kind
            : throw new ArgumentException($"Unknown sampler \"{name}\"; allowed: {AllowedSamplerNames} (or a SamplerKind name, or diffusers' scheduler class name).", nameof(name));
    }

    /// <summary>Parses a sampler name like <see cref="ParseSampler"/>, without throwing.</summary>
    /// <param name="name">The name; null or blank is not a sampler.</param>
    /// <param name="kind">The sampler, when the name is known.</param>
    /// <returns>Whether the name is known.</returns>
    public static bool TryParseSampler(string? name, out SamplerKind kind)
    {
        string text = name?.Trim() ?? string.Empty;
        foreach (var (value, shortName, className) in Samplers)
        {
            if (string.Equals(text, shortName, StringComparison.OrdinalIgnoreCase)
                || string.Equals(text, value.ToString(), StringComparison.OrdinalIgnoreCase)
                || string.Equals(text, className, StringComparison.OrdinalIgnoreCase))
            {
                kind = value;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>The short name of <paramref name="value"/> (<c>ddim</c>, <c>dpm-solver-sde</c>, ...), as the CLI writes it.</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value outside the enum.</exception>
    public static string ShortName(SamplerKind value)
    {
        foreach (var (known, shortName, _) in Samplers)
        {
            if (known == value)
            {
                return shortName;
            }
        }

        throw new ArgumentOutOfRangeException(nameof(value), value, $"Not a defined SamplerKind; allowed: {string.Join(", ", Enum.GetNames<SamplerKind>())}.");
    }

    /// <summary>
    /// Parses a diffusers scheduler class name (<c>_class_name</c>) exactly: DDPMScheduler, DDIMScheduler,
    /// DPMSolverMultistepScheduler or EulerAncestralDiscreteScheduler. DPM-Solver++'s two variants share a class, so
    /// DPMSolverMultistepScheduler gives <see cref="SamplerKind.DpmSolverMultistep"/>; <c>algorithm_type</c> tells the SDE one apart.
    /// </summary>
    internal static SamplerKind ParseClassName(string name) =>
        Parse(Samplers.Select(s => (s.Value, s.ClassName)).DistinctBy(s => s.ClassName).ToArray(), name, "_class_name");

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

    /// <summary>diffusers' scheduler class name for <paramref name="value"/> (both DPM-Solver++ variants are <c>DPMSolverMultistepScheduler</c>).</summary>
    /// <exception cref="ArgumentOutOfRangeException">For a value outside the enum.</exception>
    public static string Format(SamplerKind value) => Format(Samplers.Select(s => (s.Value, s.ClassName)).ToArray(), value);

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
