using static TorchSharp.torch;

namespace DiffusionKit.Sampling;

/// <summary>
/// The one sampling driver: advances a set of running loops (<see cref="SamplingCohort"/>) by one step through one
/// network call. <see cref="DiffusionSampler"/> runs it with one loop until that loop ends; the pipeline's engine thread
/// (<c>GenerationBatcher</c>) runs it with every loop in flight, admitting new ones between steps.
/// </summary>
/// <remarks>
/// Each step runs in its own dispose scope: only the loops' new samples survive it, so the work per step does not grow
/// with the step count. Call it with autograd off (<c>no_grad</c> or <c>inference_mode</c>). Not thread-safe.
/// </remarks>
internal static class SamplingEngine
{
    /// <summary>
    /// Drops the rows their observers no longer want from every loop in <paramref name="running"/>; loops left with
    /// no rows are removed from it and returned (the caller disposes them).
    /// </summary>
    public static List<T> DropEnded<T>(List<T> running, Func<T, SamplingCohort> cohortOf)
    {
        var emptied = running.Where(r => !cohortOf(r).DropEndedRows()).ToList();
        running.RemoveAll(emptied.Contains);
        return emptied;
    }

    /// <summary>
    /// Runs the next step of every loop in <paramref name="running"/> (none finished, all with the same denoiser)
    /// through one network call, in its own dispose scope.
    /// </summary>
    public static void Step<T>(IReadOnlyList<T> running, Func<T, SamplingCohort> cohortOf)
    {
        using var scope = NewDisposeScope();
        SamplingCohort.StepTogether(running.Select(cohortOf).ToArray());
    }
}
