namespace DiffusionKit;

/// <summary>One report from a training loop.</summary>
/// <param name="Step">Optimiser steps taken so far (1-based).</param>
/// <param name="TotalSteps">Planned optimiser steps.</param>
/// <param name="Loss">MSE loss of this step.</param>
/// <param name="AverageLoss">Exponential moving average of the loss (smoothing 0.98).</param>
/// <param name="LearningRate">Learning rate used for this step.</param>
/// <param name="ImagesPerSecond">Training throughput since the loop started.</param>
/// <param name="Elapsed">Wall time since the loop started.</param>
public sealed record TrainingProgress(
    int Step,
    int TotalSteps,
    double Loss,
    double AverageLoss,
    double LearningRate,
    double ImagesPerSecond,
    TimeSpan Elapsed);
