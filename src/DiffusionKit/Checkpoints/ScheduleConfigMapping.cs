using DiffusionKit.Scheduling;

namespace DiffusionKit.Checkpoints;

/// <summary>Converts between a checkpoint's <see cref="CheckpointConfig.ScheduleConfig"/> and typed <see cref="SchedulerOptions"/>.</summary>
public static class ScheduleConfigMapping
{
    /// <summary>The scheduler options the config describes, for <paramref name="algorithm"/> (default DDIM).</summary>
    /// <exception cref="InvalidDataException">When a name is unknown or a value is out of range; the message names the field and the allowed values.</exception>
    public static SchedulerOptions ToSchedulerOptions(this CheckpointConfig.ScheduleConfig config, SchedulerAlgorithm algorithm = SchedulerAlgorithm.Ddim, int? inferenceSteps = null)
    {
        ArgumentNullException.ThrowIfNull(config);
        try
        {
            var options = new SchedulerOptions
            {
                Algorithm = algorithm,
                TrainTimesteps = config.TrainTimesteps,
                BetaStart = config.BetaStart,
                BetaEnd = config.BetaEnd,
                BetaSchedule = SchedulerNames.ParseBetaSchedule(config.BetaSchedule),
                PredictionType = SchedulerNames.ParsePredictionType(config.PredictionType),
                TimestepSpacing = SchedulerNames.ParseTimestepSpacing(config.TimestepSpacing),
                StepsOffset = config.StepsOffset,
                ClipSample = config.ClipSample,
                ClipSampleRange = config.ClipSampleRange,
                Convention = config.Convention switch
                {
                    "course" => ScheduleConvention.Course,
                    "diffusers" => ScheduleConvention.Diffusers,
                    _ => throw new ArgumentException($"convention '{config.Convention}' is not one of: course, diffusers.", "convention"),
                },
                InferenceSteps = inferenceSteps,
            };
            options.Validate();
            return options;
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"The checkpoint's scheduler settings are invalid: {ex.Message}", ex);
        }
    }

    /// <summary>The config section describing the training schedule of <paramref name="options"/>.</summary>
    public static CheckpointConfig.ScheduleConfig FromSchedulerOptions(SchedulerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        return new CheckpointConfig.ScheduleConfig
        {
            TrainTimesteps = options.TrainTimesteps,
            BetaStart = options.BetaStart,
            BetaEnd = options.BetaEnd,
            BetaSchedule = SchedulerNames.Format(options.BetaSchedule),
            PredictionType = SchedulerNames.Format(options.PredictionType),
            TimestepSpacing = SchedulerNames.Format(options.TimestepSpacing),
            StepsOffset = options.StepsOffset,
            ClipSample = options.ClipSample,
            ClipSampleRange = options.ClipSampleRange,
            Convention = options.Convention == ScheduleConvention.Diffusers ? "diffusers" : "course",
        };
    }
}
