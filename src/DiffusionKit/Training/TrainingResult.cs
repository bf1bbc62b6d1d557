namespace DiffusionKit.Training;

/// <summary>Summary of a finished training run.</summary>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="FinalLoss">Loss of the last step.</param>
/// <param name="AverageLoss">Exponential moving average of the loss at the end (smoothing 0.98).</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
/// <param name="StoppedByTimeBudget">True when <see cref="DiffusionTrainerOptions.MaxDuration"/> ended the run.</param>
public sealed record TrainingResult(int Steps, double FinalLoss, double AverageLoss, TimeSpan Elapsed, double ImagesPerSecond, bool StoppedByTimeBudget)
{
    /// <summary>The precision the run trained in (<see cref="Training.Precision.Auto"/> resolved to what was measured faster).</summary>
    public Precision Precision { get; init; }

    /// <summary>With <see cref="Training.Precision.Auto"/>, the measurement that chose <see cref="Precision"/>; otherwise null.</summary>
    public PrecisionMeasurement? PrecisionMeasurement { get; init; }
}
