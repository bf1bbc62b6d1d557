namespace DiffusionKit.Training;

/// <summary>
/// What a <see cref="DiffusionTrainer"/> run calls while it trains: a checkpoint writer, a sample writer and a validator. Both get a
/// <see cref="TrainingSnapshot"/> that is valid only during the call.
/// </summary>
/// <remarks>
/// <see cref="Training.TrainingCheckpointWriter"/> and <see cref="Training.TrainingSampleWriter"/> are the ready-made
/// callbacks for a <see cref="Models.ContextUnet"/>. A callback that throws ends the run with its exception.
/// </remarks>
public sealed class TrainingCallbacks
{
    /// <summary>No callbacks.</summary>
    public static TrainingCallbacks None { get; } = new();

    /// <summary>
    /// Called every <see cref="DiffusionTrainerOptions.SaveEvery"/> steps (when set) and once when the run stops: at its
    /// budget (<see cref="TrainingSnapshotReason.Completed"/>) or on cancellation
    /// (<see cref="TrainingSnapshotReason.Interrupted"/>, before the <see cref="OperationCanceledException"/> is thrown).
    /// Not called twice for one step. Null: no checkpoints.
    /// </summary>
    public Action<TrainingSnapshot>? Checkpoint { get; init; }

    /// <summary>Called every <see cref="DiffusionTrainerOptions.SampleEvery"/> steps. Null: no samples.</summary>
    public Action<TrainingSnapshot>? Sample { get; init; }

    /// <summary>
    /// Called every <see cref="DiffusionTrainerOptions.ValidateEvery"/> steps (with
    /// <see cref="TrainingSnapshotReason.Validation"/>), before the first step of a fresh run and when the run stops at
    /// its budget; <see cref="TrainingValidator.Evaluate"/> measures the held-out loss of the snapshot. Null: no
    /// validation.
    /// </summary>
    public Action<TrainingSnapshot>? Validation { get; init; }
}
