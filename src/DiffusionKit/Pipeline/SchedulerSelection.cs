using DiffusionKit.Scheduling;

namespace DiffusionKit.Pipeline;

/// <summary>
/// The one place where the pipeline turns a <see cref="SamplerKind"/> into a scheduler, so new scheduler algorithms
/// are wired in here only.
/// </summary>
internal static class SchedulerSelection
{
    /// <summary>The step count used when neither the builder nor the request sets one: T for DDPM, 25 (the course's) for DDIM, at most T.</summary>
    internal static int DefaultSteps(SamplerKind kind, NoiseSchedule schedule) => SchedulerOptions.DefaultInferenceSteps(Algorithm(kind), schedule.TrainTimesteps);

    /// <summary>The scheduler algorithm behind a <see cref="SamplerKind"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When the kind is not a defined value.</exception>
    internal static SchedulerAlgorithm Algorithm(SamplerKind kind, string paramName = nameof(SamplerKind)) => kind switch
    {
        SamplerKind.Ddpm => SchedulerAlgorithm.Ddpm,
        SamplerKind.Ddim => SchedulerAlgorithm.Ddim,
        SamplerKind.DpmSolverMultistep => SchedulerAlgorithm.DpmSolverMultistep,
        SamplerKind.EulerAncestral => SchedulerAlgorithm.EulerAncestral,
        SamplerKind.DpmSolverMultistepSde => SchedulerAlgorithm.DpmSolverMultistepSde,
        _ => throw new ArgumentOutOfRangeException(paramName, kind, $"The sampler must be one of {string.Join(", ", Enum.GetNames<SamplerKind>())}."),
    };

    /// <summary>The <see cref="SamplerKind"/> that runs <paramref name="algorithm"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When the algorithm is not a defined value.</exception>
    internal static SamplerKind Kind(SchedulerAlgorithm algorithm) => Enum.GetValues<SamplerKind>().Where(k => Algorithm(k) == algorithm).DefaultIfEmpty((SamplerKind)(-1)).First() is var kind && Enum.IsDefined(kind)
        ? kind
        : throw new ArgumentOutOfRangeException(nameof(algorithm), algorithm, $"No sampler runs the {algorithm} algorithm.");

    /// <summary>Checks that <paramref name="kind"/> can take <paramref name="steps"/> steps over <paramref name="total"/> training timesteps.</summary>
    /// <param name="kind">The sampler.</param>
    /// <param name="steps">The requested steps.</param>
    /// <param name="total">T, the number of training timesteps.</param>
    /// <param name="paramName">The option or property to name in the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">When the kind is unknown or the steps do not fit it, naming <paramref name="paramName"/> and the allowed values.</exception>
    internal static void Validate(SamplerKind kind, int steps, int total, string paramName)
    {
        var algorithm = Algorithm(kind);
        if (algorithm == SchedulerAlgorithm.Ddpm && steps != total)
        {
            throw new ArgumentOutOfRangeException(paramName, steps, $"{paramName} must be {total} for the Ddpm sampler, which walks every training timestep; use Ddim or DpmSolverMultistep for fewer steps.");
        }

        if (steps < 1 || steps > total)
        {
            throw new ArgumentOutOfRangeException(paramName, steps, $"{paramName} must lie in 1..{total} (the training timesteps) for the {kind} sampler.");
        }
    }

    /// <summary>Creates a fresh scheduler for one sampling loop over the training scheduler settings (schedule, prediction type, spacing).</summary>
    internal static INoiseScheduler Create(SamplerKind kind, int steps, SchedulerOptions training)
    {
        var options = training.WithAlgorithm(Algorithm(kind), steps);
        Validate(kind, steps, training.TrainTimesteps, nameof(steps));
        return SchedulerFactory.Create(options);
    }
}
