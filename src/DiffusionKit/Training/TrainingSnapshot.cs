using static TorchSharp.torch;

namespace DiffusionKit.Training;

/// <summary>
/// A view of a training run between two steps, handed to <see cref="TrainingCallbacks"/>: the weights to publish (the
/// EMA weights when EMA is on) and a way to save the state a resume needs. Valid only during the callback.
/// </summary>
/// <remarks>The tensors are the trainer's own (or temporary copies): read them, do not modify, dispose or keep them.</remarks>
public sealed class TrainingSnapshot
{
    private readonly Action<string> _saveState;

    internal TrainingSnapshot(
        TrainingSnapshotReason reason,
        int step,
        int totalSteps,
        double loss,
        double averageLoss,
        TimeSpan elapsed,
        IReadOnlyDictionary<string, Tensor> modelWeights,
        IReadOnlyDictionary<string, Tensor> encoderWeights,
        Action<string> saveState)
    {
        Reason = reason;
        Step = step;
        TotalSteps = totalSteps;
        Loss = loss;
        AverageLoss = averageLoss;
        Elapsed = elapsed;
        ModelWeights = modelWeights;
        EncoderWeights = encoderWeights;
        _saveState = saveState;
    }

    /// <summary>Why the snapshot was taken.</summary>
    public TrainingSnapshotReason Reason { get; }

    /// <summary>Optimiser steps finished (counting the steps before a resume).</summary>
    public int Step { get; }

    /// <summary>Planned steps of the run, or 0 when only a time budget bounds it.</summary>
    public int TotalSteps { get; }

    /// <summary>Loss of the last step (NaN before the first).</summary>
    public double Loss { get; }

    /// <summary>Exponential moving average of the loss (smoothing 0.98; NaN before the first step).</summary>
    public double AverageLoss { get; }

    /// <summary>Training wall time so far, including the time before a resume.</summary>
    public TimeSpan Elapsed { get; }

    /// <summary>
    /// The model's weights to publish, float32, by <c>state_dict</c> name (parameters and buffers): the EMA weights when
    /// <see cref="DiffusionTrainerOptions.EmaDecay"/> is on, else the current ones. Load them into a float32 copy of the
    /// model (for example with <see cref="Checkpoints.ModuleWeights.Load"/>).
    /// </summary>
    public IReadOnlyDictionary<string, Tensor> ModelWeights { get; }

    /// <summary>A trainable text encoder's weights to publish, by parameter name (EMA when on); empty for a frozen encoder.</summary>
    public IReadOnlyDictionary<string, Tensor> EncoderWeights { get; }

    /// <summary>
    /// Writes <c>training_state.safetensors</c> and <c>training_state.json</c> into <paramref name="folder"/> (which must
    /// exist): everything <see cref="DiffusionTrainerOptions.ResumeFrom"/> needs to continue this run bit for bit.
    /// </summary>
    /// <param name="folder">The checkpoint folder being written.</param>
    public void SaveTrainingState(string folder)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        _saveState(folder);
    }
}
