using System.Globalization;
using DiffusionKit.Checkpoints;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;

namespace DiffusionKit.Training;

/// <summary>
/// The <see cref="TrainingCallbacks.Checkpoint"/> for any <see cref="DenoiserModule"/>: writes each snapshot as a complete checkpoint
/// folder (<c>config.json</c>, <c>model.safetensors</c> with the published weights, the learned encoder's weights, and the
/// training state) under a training output folder, made current atomically (see <see cref="CheckpointDirectory"/>), and
/// keeps the newest <see cref="DiffusionTrainerOptions.KeepCheckpoints"/>.
/// </summary>
/// <remarks>
/// The output folder then loads with <see cref="DiffusionCheckpoint.Load(string, Func{CheckpointConfig.TextEncoderConfig, ITextEncoder?}?)"/>, <c>diffusionkit sample --checkpoint</c> and
/// the pipeline builder (they take its current checkpoint), and resumes with <see cref="DiffusionTrainerOptions.ResumeFrom"/>.
/// Creating the writer removes leftovers of writes that were killed. Not thread-safe.
/// </remarks>
public sealed class TrainingCheckpointWriter : IDisposable
{
    private readonly string _folder;
    private readonly SchedulerOptions _scheduler;
    private readonly int _keep;
    private readonly IReadOnlyDictionary<string, string> _training;
    private readonly SnapshotModel _copy;

    /// <summary>Creates a writer for one run and cleans <paramref name="folder"/> of interrupted writes.</summary>
    /// <param name="folder">The training output folder; created when the first checkpoint is written.</param>
    /// <param name="model">The network being trained (only read: its <see cref="DenoiserModule.DenoiserType"/> builds the copy that receives each snapshot's weights).</param>
    /// <param name="scheduler">The training scheduler settings (recorded in <c>config.json</c>).</param>
    /// <param name="encoder">The prompt encoder being used (a learned encoder's trained weights come from each snapshot).</param>
    /// <param name="keep">How many checkpoints to keep; at least 1.</param>
    /// <param name="training">Informational settings for <c>config.json</c>'s <c>training</c> section; <c>steps</c>, <c>final_loss</c> and <c>completed</c> are filled in from each snapshot.</param>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="keep"/> is below 1.</exception>
    public TrainingCheckpointWriter(string folder, DenoiserModule model, SchedulerOptions scheduler, ITextEncoder encoder, int keep, IReadOnlyDictionary<string, string>? training = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(folder);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(scheduler);
        ArgumentNullException.ThrowIfNull(encoder);
        if (keep < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(keep), keep, "keep must be at least 1 (the newest checkpoint).");
        }

        _folder = folder;
        _scheduler = scheduler;
        _keep = keep;
        _training = training ?? new Dictionary<string, string>();
        _copy = new SnapshotModel(model, encoder);
        CheckpointDirectory.CleanLeftovers(folder);
    }

    /// <summary>The sampling settings every checkpoint recommends (<c>config.json</c>'s <c>sampling</c> section); null for none (the library's defaults).</summary>
    public CheckpointConfig.SamplingConfig? Sampling { get; init; }

    /// <summary>The checkpoint folder written last, or null before the first.</summary>
    public string? LastWritten { get; private set; }

    /// <summary>Writes <paramref name="snapshot"/> as the output folder's new current checkpoint.</summary>
    /// <param name="snapshot">The trainer's snapshot (valid during the callback).</param>
    /// <returns>The checkpoint folder written.</returns>
    public string Write(TrainingSnapshot snapshot)
    {
        ArgumentNullException.ThrowIfNull(snapshot);
        _copy.Load(snapshot);
        var inv = CultureInfo.InvariantCulture;
        var info = new Dictionary<string, string>(_training)
        {
            ["steps"] = snapshot.Step.ToString(inv),
            ["final_loss"] = snapshot.AverageLoss.ToString("R", inv),
            ["completed"] = snapshot.Reason == TrainingSnapshotReason.Completed ? "true" : "false",
            ["elapsed_seconds"] = snapshot.Elapsed.TotalSeconds.ToString("F1", inv),
        };
        var config = DiffusionCheckpoint.Describe(_copy.Model, _scheduler, _copy.Encoder, info);
        config.Sampling = Sampling;
        LastWritten = CheckpointDirectory.Publish(_folder, snapshot.Step, folder =>
        {
            DiffusionCheckpoint.Save(folder, _copy.Model, config, _copy.Encoder);
            snapshot.SaveTrainingState(folder);
        }, _keep);
        return LastWritten;
    }

    /// <summary>Frees the model copy.</summary>
    public void Dispose() => _copy.Dispose();
}
