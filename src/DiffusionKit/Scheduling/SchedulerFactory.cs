namespace DiffusionKit.Scheduling;

/// <summary>Builds the scheduler a <see cref="SchedulerOptions"/> describes.</summary>
/// <remarks>Every algorithm shares the training schedule, so a trained model can be sampled with any of them: build new
/// options with another <see cref="SchedulerOptions.Algorithm"/> and keep the schedule options of the checkpoint.</remarks>
public static class SchedulerFactory
{
    /// <summary>Validates <paramref name="options"/> and creates the scheduler for its <see cref="SchedulerOptions.Algorithm"/>.</summary>
    /// <param name="options">The scheduler options.</param>
    /// <returns>A new scheduler with <see cref="SchedulerOptions.ResolvedInferenceSteps"/> steps set.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When an option is invalid, naming it.</exception>
    public static INoiseScheduler Create(SchedulerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options.Algorithm switch
        {
            SamplerKind.Ddpm => new DdpmScheduler(options),
            SamplerKind.Ddim => new DdimScheduler(options),
            SamplerKind.DpmSolverMultistep or SamplerKind.DpmSolverMultistepSde => new DpmSolverMultistepScheduler(options),
            _ => new EulerAncestralScheduler(options),
        };
    }

    /// <summary>Options that describe an existing schedule, for the schedulers' legacy constructors.</summary>
    internal static SchedulerOptions OptionsFor(NoiseSchedule schedule, SamplerKind algorithm, int? inferenceSteps) => new()
    {
        Algorithm = algorithm,
        TrainTimesteps = schedule.TrainTimesteps,
        BetaStart = schedule.BetaStart,
        BetaEnd = schedule.BetaEnd,
        BetaSchedule = schedule.BetaScheduleKind,
        Convention = schedule.Convention,
        InferenceSteps = inferenceSteps,
    };

    /// <summary>Validates <paramref name="options"/> and returns them (for constructor chaining).</summary>
    internal static SchedulerOptions Validated(SchedulerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return options;
    }
}
