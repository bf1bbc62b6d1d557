using DiffusionKit.Scheduling;

namespace DiffusionKit.Pipeline;

/// <summary>
/// The one place where the pipeline turns a <see cref="SamplerKind"/> into a scheduler over its training settings.
/// </summary>
internal static class SchedulerSelection
{
    /// <summary>The step count used when neither the builder nor the request sets one (<see cref="SchedulerOptions.DefaultInferenceSteps"/>).</summary>
    internal static int DefaultSteps(SamplerKind kind, NoiseSchedule schedule) => SchedulerOptions.DefaultInferenceSteps(kind, schedule.TrainTimesteps);

    /// <summary>Checks that <paramref name="kind"/> can take <paramref name="steps"/> steps over <paramref name="total"/> training timesteps.</summary>
    /// <param name="kind">The sampler.</param>
    /// <param name="steps">The requested steps.</param>
    /// <param name="total">T, the number of training timesteps.</param>
    /// <param name="paramName">The option or property to name in the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">When the kind is unknown or the steps do not fit it, naming <paramref name="paramName"/> and the allowed values.</exception>
    internal static void Validate(SamplerKind kind, int steps, int total, string paramName)
    {
        if (!Enum.IsDefined(kind))
        {
            throw new ArgumentOutOfRangeException(nameof(SamplerKind), kind, $"The sampler must be one of {string.Join(", ", Enum.GetNames<SamplerKind>())}.");
        }

        if (kind == SamplerKind.Ddpm && steps != total)
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
        var options = training.WithAlgorithm(kind, steps);
        Validate(kind, steps, training.TrainTimesteps, nameof(steps));
        return SchedulerFactory.Create(options);
    }
}
