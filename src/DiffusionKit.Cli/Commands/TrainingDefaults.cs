using DiffusionKit.Scheduling;
using DiffusionKit.Training;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// The defaults of the training options where <c>train</c> and <c>demo</c> differ; each command's <c>--help</c> shows
/// its own. Every other training option has one default, in its definition (<see cref="TrainingOptions"/>).
/// </summary>
/// <param name="Steps">Optimiser steps when no budget is given: a fixed count, so the same command trains the same model on every machine (only the wall time differs); null: sized to the data (<see cref="TrainingDataSource.DefaultSteps"/>).</param>
/// <param name="Features">The U-Net's width (n_feat); null: sized to the images (<see cref="TrainingDataSource.DefaultFeatures"/>).</param>
/// <param name="Batch">Images per optimiser step.</param>
/// <param name="LearningRate">The peak learning rate.</param>
/// <param name="LearningRateSchedule">The decay after the warm-up.</param>
/// <param name="Warmup">Linear warm-up steps.</param>
/// <param name="Prediction">What the network predicts.</param>
/// <param name="SnrGamma">Min-SNR-γ loss weighting; null for none.</param>
/// <param name="Ema">The EMA decay of the saved weights (0: none).</param>
/// <param name="Network">
/// The network trained (<c>--model</c>): the course's context U-Net for <c>train</c> and <c>demo</c>; for a folder the
/// attention U-Net, which on real product photos was recognised more often, more varied and nearer the photos'
/// manifold than the context U-Net at its budget and at 1.5 times that (docs/training.md, "The attention U-Net").
/// </param>
internal sealed record TrainingDefaults(
    int? Steps,
    int? Features,
    int Batch,
    double LearningRate,
    LearningRateSchedule LearningRateSchedule,
    int Warmup,
    PredictionType Prediction,
    double? SnrGamma,
    double Ema,
    TrainableNetwork Network = TrainableNetwork.ContextUnet)
{
    /// <summary><c>diffusionkit train</c>'s defaults: the course's configuration, 1,000 steps.</summary>
    public static TrainingDefaults Train { get; } = new(
        Steps: 1000, Features: 64, Batch: 100, LearningRate: 1e-3, LearningRateSchedule.Linear, Warmup: 0, PredictionType.Epsilon, SnrGamma: null, Ema: 0);

    /// <summary>
    /// <c>diffusionkit demo</c>'s defaults, chosen from measured runs (docs/benchmarks.md): a fixed 4,000 steps of a
    /// narrower network (n_feat 32) with v-prediction, Min-SNR-5, cosine decay after 200 warm-up steps and EMA.
    /// </summary>
    public static TrainingDefaults Demo { get; } = new(
        Steps: 4000, Features: 32, Batch: 50, LearningRate: 2e-3, LearningRateSchedule.Cosine, Warmup: 200, PredictionType.VPrediction, SnrGamma: 5, Ema: 0.995);

    /// <summary>
    /// <c>diffusionkit train --data &lt;folder&gt;</c>'s defaults, measured on the digits proxy (build/research/digits_bar.py;
    /// docs/training.md): the demo's recipe at batch 100 with 100 warm-up steps; the width and the step budget are sized to
    /// the images (<see cref="TrainingDataSource.DefaultFeatures"/>, <see cref="TrainingDataSource.DefaultSteps"/>).
    /// <c>train --help</c> shows them beside the <see cref="Train"/> defaults.
    /// </summary>
    public static TrainingDefaults Folder { get; } = new(
        Steps: null, Features: null, Batch: 100, LearningRate: 2e-3, LearningRateSchedule.Cosine, Warmup: 100, PredictionType.VPrediction, SnrGamma: 5, Ema: 0.995, TrainableNetwork.AttentionUnet);
}
