using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>The loop of a single-step scheduler: forwards every step to <see cref="INoiseScheduler.Step(Tensor, int, Tensor, INoiseSource)"/> and keeps nothing.</summary>
internal sealed class StatelessSchedulerLoop : ISchedulerLoop
{
    private readonly INoiseScheduler _scheduler;

    /// <summary>Creates a loop over <paramref name="scheduler"/>.</summary>
    public StatelessSchedulerLoop(INoiseScheduler scheduler) => _scheduler = scheduler;

    /// <inheritdoc />
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
        => _scheduler.Step(modelOutput, timestep, sample, generator);

    /// <inheritdoc />
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise)
        => _scheduler.Step(modelOutput, timestep, sample, noise);

    /// <inheritdoc />
    /// <remarks>A single-step scheduler keeps nothing between steps, so there is nothing to drop.</remarks>
    public void KeepRows(IReadOnlyList<int> rows)
    {
    }

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
