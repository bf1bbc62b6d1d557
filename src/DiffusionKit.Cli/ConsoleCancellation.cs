using System.Runtime.InteropServices;

namespace DiffusionKit.Cli;

/// <summary>
/// Turns the first Ctrl+C (SIGINT) or SIGTERM into a cancellation request, so the command stops cleanly and exits with
/// 130 or 143 (the second Ctrl+C ends the process as usual).
/// </summary>
internal sealed class ConsoleCancellation : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly PosixSignalRegistration? _terminate;

    public ConsoleCancellation()
    {
        Console.CancelKeyPress += OnCancel;
        if (!OperatingSystem.IsWindows())
        {
            _terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnTerminate);
        }
    }

    /// <summary>The exit code of the signal that requested the stop (130 for SIGINT, 143 for SIGTERM); null before any.</summary>
    public static int? StopSignalExitCode { get; private set; }

    public CancellationToken Token => _source.Token;

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _terminate?.Dispose();
        _source.Dispose();
    }

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        if (!_source.IsCancellationRequested)
        {
            e.Cancel = true;
            StopSignalExitCode ??= ExitCodes.Interrupted;
            _source.Cancel();
        }
    }

    private void OnTerminate(PosixSignalContext context)
    {
        if (!_source.IsCancellationRequested)
        {
            context.Cancel = true;
            StopSignalExitCode ??= ExitCodes.Terminated;
            _source.Cancel();
        }
    }
}
