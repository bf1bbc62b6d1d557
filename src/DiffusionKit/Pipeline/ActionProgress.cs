namespace DiffusionKit.Pipeline;

/// <summary>
/// An <see cref="IProgress{T}"/> that runs a callback synchronously on the reporting thread, for the
/// <c>progress</c> parameters of training and sampling (for example <see cref="PipelineTrainer.Train(IImageCaptionDataset, IProgress{TrainingProgress}, CancellationToken)"/>).
/// </summary>
/// <remarks>
/// Unlike <see cref="Progress{T}"/>, which posts each report to the <see cref="SynchronizationContext"/> captured when it
/// was created (the thread pool in a console app or a service, so reports may run concurrently, out of order and after
/// the call that made them has returned), this runs <c>report</c> inline: every report has been handled when
/// <see cref="Report"/> returns, in the order made, on the training or sampling thread. Keep the callback short (it
/// delays the next step) and thread-safe with respect to whatever else reads what it writes. An exception thrown by the
/// callback propagates to the reporter and ends the run.
/// </remarks>
/// <typeparam name="T">The report type (for example <see cref="TrainingProgress"/>).</typeparam>
public sealed class ActionProgress<T> : IProgress<T>
{
    private readonly Action<T> _report;

    /// <summary>Creates a progress sink that calls <paramref name="report"/> for every report.</summary>
    /// <param name="report">The callback, run on the reporting thread.</param>
    /// <exception cref="ArgumentNullException">When <paramref name="report"/> is null.</exception>
    public ActionProgress(Action<T> report)
    {
        ArgumentNullException.ThrowIfNull(report);
        _report = report;
    }

    /// <summary>Runs the callback with <paramref name="value"/> before returning.</summary>
    /// <param name="value">The report.</param>
    public void Report(T value) => _report(value);
}
