using static TorchSharp.torch;

namespace DiffusionKit;

/// <summary>
/// One inference loop of an <see cref="INoiseScheduler"/>: receives the model output at each scheduled timestep, in
/// order, and returns the previous sample. Created by <see cref="INoiseScheduler.BeginLoop"/>.
/// </summary>
/// <remarks>
/// <para>A loop holds the history a multistep solver needs (for example DPM-Solver++ 2M's previous model output) so that
/// the scheduler holds none. It is not thread-safe: use one loop per sampling run.</para>
/// <para>Ownership: results are new tensors owned by the caller; inputs are never disposed or modified. Tensors the loop
/// keeps are released by <see cref="IDisposable.Dispose"/>.</para>
/// </remarks>
public interface ISchedulerLoop : IDisposable
{
    /// <summary>One reverse step of the loop; see <see cref="INoiseScheduler.Step(Tensor, int, Tensor, INoiseSource)"/> for the arguments.</summary>
    /// <param name="modelOutput">The model's prediction at <paramref name="timestep"/>, same shape as <paramref name="sample"/>.</param>
    /// <param name="timestep">The next timestep of <see cref="INoiseScheduler.Timesteps"/>.</param>
    /// <param name="sample">The current sample x_t.</param>
    /// <param name="generator">Source of fresh noise for stochastic steps; null uses the global generator (not reproducible).</param>
    /// <returns>The previous sample and the predicted clean sample; both owned by the caller.</returns>
    SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, Generator? generator = null)
        => Step(modelOutput, timestep, sample, new GeneratorNoiseSource(generator));

    /// <summary>One reverse step of the loop, drawing fresh noise from <paramref name="noise"/>; see <see cref="INoiseScheduler.Step(Tensor, int, Tensor, INoiseSource)"/>.</summary>
    /// <param name="modelOutput">The model's prediction at <paramref name="timestep"/>, same shape as <paramref name="sample"/>.</param>
    /// <param name="timestep">The next timestep of <see cref="INoiseScheduler.Timesteps"/>.</param>
    /// <param name="sample">The current sample x_t.</param>
    /// <param name="noise">Source of fresh noise for stochastic steps.</param>
    /// <returns>The previous sample and the predicted clean sample; both owned by the caller.</returns>
    SchedulerStepResult Step(Tensor modelOutput, int timestep, Tensor sample, INoiseSource noise);

    /// <summary>
    /// Keeps only some rows (images) of the batch in the loop's state, so a sampler can drop cancelled images mid-loop;
    /// later steps then receive samples with just those rows, in that order. Loops without per-row state do nothing.
    /// </summary>
    /// <param name="rows">Indices into the current batch, ascending, each once.</param>
    /// <exception cref="NotSupportedException">By default, for loops that do not say whether they keep per-row state; the sampler then keeps computing every row.</exception>
    void KeepRows(IReadOnlyList<int> rows) => throw new NotSupportedException($"{GetType().Name} does not implement ISchedulerLoop.KeepRows.");
}
