namespace DiffusionKit.Training;

/// <summary>Why a <see cref="DiffusionTrainer"/> handed out a <see cref="TrainingSnapshot"/>.</summary>
public enum TrainingSnapshotReason
{
    /// <summary>Every <see cref="DiffusionTrainerOptions.SaveEvery"/> steps (to <see cref="TrainingCallbacks.Checkpoint"/>).</summary>
    Periodic,

    /// <summary>Every <see cref="DiffusionTrainerOptions.SampleEvery"/> steps (to <see cref="TrainingCallbacks.Sample"/>).</summary>
    Sample,

    /// <summary>The run reached its budget (steps, epochs or time).</summary>
    Completed,

    /// <summary>The run was cancelled; the snapshot is of the last finished step.</summary>
    Interrupted,

    /// <summary>
    /// Every <see cref="DiffusionTrainerOptions.ValidateEvery"/> steps, before the first step of a fresh run, and when the
    /// run stops at its budget (to <see cref="TrainingCallbacks.Validation"/>).
    /// </summary>
    Validation,
}
