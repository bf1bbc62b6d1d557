using System.Diagnostics;
using System.Globalization;

namespace DiffusionKit.Tests.Cli;

/// <summary>What one <c>diffusionkit</c> child process did.</summary>
/// <param name="Code">The exit code; -1 when it hung and was killed.</param>
/// <param name="Stdout">Its standard output.</param>
/// <param name="Stderr">Its standard error.</param>
/// <param name="PeakResidentBytes">
/// Its peak resident set size (VmHWM), polled from /proc while it ran: the largest value seen, a lower bound that misses
/// at most the last few milliseconds; null where /proc is not available or it ended before the first reading.
/// </param>
internal sealed record CliRun(int Code, string Stdout, string Stderr, long? PeakResidentBytes);

/// <summary>Runs the CLI built next to the tests (DiffusionKit.Cli.dll) as a child process, as a user runs it.</summary>
internal static class CliProcess
{
    /// <summary>Runs <c>diffusionkit</c> with <paramref name="arguments"/>; kills it after <paramref name="timeout"/> (default 60 s).</summary>
    public static CliRun Run(IEnumerable<string> arguments, TimeSpan? timeout = null)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "DiffusionKit.Cli.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        long? peak = null;
        while (!process.HasExited)
        {
            if (PeakResident(process.Id) is { } reading)
            {
                peak = Math.Max(peak ?? 0, reading);
            }

            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new CliRun(-1, stdout.Result, "timed out (hung)", peak);
            }

            Thread.Sleep(2);
        }

        process.WaitForExit();
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result, peak);
    }

    /// <summary>VmHWM of process <paramref name="pid"/> in bytes, or null when it cannot be read (not Linux, or the process has ended).</summary>
    private static long? PeakResident(int pid)
    {
        try
        {
            foreach (string line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    // "VmHWM:	   49152 kB"
                    return long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }

        return null;
    }
}
