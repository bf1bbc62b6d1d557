using System.Runtime.InteropServices;

namespace DiffusionKit.Cli;

/// <summary>
/// Turns the first Ctrl+C (SIGINT) or SIGTERM (what <c>docker stop</c>, systemd and Kubernetes send) into a cancellation
/// request, so a command can save its work and exit with <see cref="ExitCode"/>; a second signal ends the process as usual.
/// </summary>
internal sealed class ConsoleCancellation : IDisposable
{
    private readonly CancellationTokenSource _source = new();
    private readonly List<PosixSignalRegistration> _registrations = new();
    private int _signal;

    public ConsoleCancellation()
    {
        foreach (var signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM })
        {
            try
            {
                _registrations.Add(PosixSignalRegistration.Create(signal, OnSignal));
            }
            catch (PlatformNotSupportedException)
            {
                // The platform cannot deliver this signal; the other one still works.
            }
        }
    }

    public CancellationToken Token => _source.Token;

    /// <summary>The conventional exit code for the signal received: 130 (128 + SIGINT) or 143 (128 + SIGTERM); 130 when none was.</summary>
    public int ExitCode => Volatile.Read(ref _signal) == (int)PosixSignal.SIGTERM ? 143 : 130;

    /// <summary>The name of the signal received ("Ctrl+C" or "SIGTERM"), for messages.</summary>
    public string SignalName => Volatile.Read(ref _signal) == (int)PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl+C";

    public void Dispose()
    {
        foreach (var registration in _registrations)
        {
            registration.Dispose();
        }

        _source.Dispose();
    }

    private void OnSignal(PosixSignalContext context)
    {
        if (Interlocked.CompareExchange(ref _signal, (int)context.Signal, 0) == 0)
        {
            context.Cancel = true;
            _source.Cancel();
        }
    }
}
