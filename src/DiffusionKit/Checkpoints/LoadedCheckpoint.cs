using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Text;

namespace DiffusionKit.Checkpoints;

/// <summary>What <see cref="DiffusionCheckpoint.Load"/> rebuilt from a checkpoint folder. Dispose it to free the model's weights.</summary>
/// <param name="Config">The parsed <c>config.json</c>.</param>
/// <param name="Model">The network, in eval mode on the CPU.</param>
/// <param name="Schedule">The training noise schedule.</param>
/// <param name="Encoder">The prompt encoder.</param>
public sealed record LoadedCheckpoint(CheckpointConfig Config, ContextUnet Model, NoiseSchedule Schedule, BagOfWordsEncoder Encoder) : IDisposable
{
    /// <summary>Disposes the model.</summary>
    public void Dispose() => Model.Dispose();
}
