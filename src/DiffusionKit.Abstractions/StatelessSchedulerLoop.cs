using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>The loop of a single-step scheduler: forwards every step to <see cref="INoiseScheduler.Step"/> and keeps nothing.</summary>
internal sealed class StatelessSchedulerLoop : ISchedulerLoop
{
    private readonly INoiseScheduler _scheduler;

    /// <summary>Creates a loop over <paramref name="scheduler"/>.</summary>
    public StatelessSchedulerLoop(INoiseScheduler scheduler) => _scheduler = scheduler;

    /// <inheritdoc />
    public SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
        => _scheduler.Step(modelOutput, timestep, sample, generator);

    /// <inheritdoc />
    public void Dispose()
    {
    }
}
