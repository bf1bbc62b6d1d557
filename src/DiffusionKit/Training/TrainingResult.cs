namespace DiffusionKit.Training;

/// <summary>Summary of a finished training run.</summary>
/// <param name="Steps">Optimiser steps taken.</param>
/// <param name="FinalLoss">Loss of the last step.</param>
/// <param name="AverageLoss">Exponential moving average of the loss at the end (smoothing 0.98).</param>
/// <param name="Elapsed">Wall time.</param>
/// <param name="ImagesPerSecond">Training throughput.</param>
/// <param name="StoppedByTimeBudget">True when <see cref="DiffusionTrainerOptions.MaxDuration"/> ended the run.</param>
public sealed record TrainingResult(int Steps, double FinalLoss, double AverageLoss, TimeSpan Elapsed, double ImagesPerSecond, bool StoppedByTimeBudget);
