using System.Runtime.ExceptionServices;
using DiffusionKit.Pipeline;

namespace DiffusionKit.Native;

/// <summary>
/// Runs one-off libtorch work (building a pipeline or a trainer, the CLI demo's training phase) on a thread that ends
/// with it, so that only the thread that keeps sampling holds an OpenMP thread pool.
/// </summary>
/// <remarks>
/// <para>
/// Why (hand-written: no library addresses it): libtorch's CPU kernels run on GNU OpenMP (libgomp), and every thread
/// that starts a parallel region keeps its own pool of worker threads for as long as it lives. When libgomp manages
/// more threads than the process may use cores, it stops spinning between parallel regions and puts its workers to
/// sleep after every one, so each of the network's hundreds of small operations pays a futex wake-up. Measured on the
/// 2-core project machine: the pipeline's engine thread sampled a batch of 16 guided images at 40 ms per step while the
/// thread that had built the model was still alive with its pool, and at 26 ms when that thread had ended (the same
/// 26 ms the building thread itself got); <c>OMP_WAIT_POLICY=PASSIVE</c> made the building thread slow in the same
/// way. docs/benchmarks.md, "One OpenMP pool". Training is not moved: it runs on the caller's thread, the only pool
/// while it runs; an app that trains and then samples in one process can train inside <see cref="RunOnTransientThread"/>
/// so the sampling engine is alone afterwards.
/// </para>
/// <para>
/// The work runs synchronously: the caller blocks until it ends, exceptions come back with their original stack, and
/// grad mode and dispose scopes (thread-local in TorchSharp) are the new thread's own, so the work must not hand
/// tensors of an open dispose scope back to the caller (return detached or module-owned tensors).
/// </para>
/// <para>
/// <see cref="DiffusionPipelineBuilder.Build"/> and <see cref="DiffusionPipelineBuilder.BuildTrainer"/> already run here.
/// Use it for the same kind of one-off work of your own before a long sampling phase in the same process: training
/// (<see cref="PipelineTrainer.Train(IImageCaptionDataset, IProgress{TrainingProgress}, CancellationToken)"/>),
/// building a model by hand, loading data that runs torch operations.
/// </para>
/// </remarks>
public static class OpenMpThreads
{
    [ThreadStatic]
    private static bool _onTransientThread;

    /// <summary>Runs <paramref name="work"/> on a new thread and waits for it.</summary>
    /// <typeparam name="T">The result type.</typeparam>
    /// <param name="work">The work.</param>
    /// <returns>What <paramref name="work"/> returned.</returns>
    /// <exception cref="ArgumentNullException">When <paramref name="work"/> is null.</exception>
    /// <remarks>
    /// Called from inside such work (nested), it runs <paramref name="work"/> directly on the current thread, which
    /// already ends with the outer work. Any exception <paramref name="work"/> throws is rethrown here with its
    /// original stack trace.
    /// </remarks>
    public static T RunOnTransientThread<T>(Func<T> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_onTransientThread)
        {
            // Nested (a precision probe inside a training run): this thread already ends with the outer work.
            return work();
        }

        T result = default!;
        ExceptionDispatchInfo? failure = null;
        var thread = new Thread(() =>
        {
            _onTransientThread = true;
            try
            {
                result = work();
            }
            catch (Exception ex)
            {
                failure = ExceptionDispatchInfo.Capture(ex);
            }
        })
        {
            Name = "DiffusionKit transient torch work",
            IsBackground = true,
        };
        thread.Start();
        thread.Join();
        failure?.Throw();
        return result;
    }
}
