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
/// <param name="LoadedWatchedLibrary">
/// Whether the library <see cref="CliProcess.Run"/> was asked to watch for appeared in the process's memory map while it
/// ran (/proc/&lt;pid&gt;/maps, polled like the RSS); null when none was watched or /proc is not available.
/// </param>
internal sealed record CliRun(int Code, string Stdout, string Stderr, long? PeakResidentBytes, bool? LoadedWatchedLibrary = null);

/// <summary>Runs the CLI built next to the tests (DiffusionKit.Cli.dll) as a child process, as a user runs it.</summary>
internal static class CliProcess
{
    /// <summary>Runs <c>diffusionkit</c> with <paramref name="arguments"/>; kills it after <paramref name="timeout"/> (default 60 s).</summary>
    /// <param name="arguments">The command line after the program.</param>
    /// <param name="timeout">How long it may run.</param>
    /// <param name="watchLibrary">A file name part (e.g. <c>libtorch</c>) to look for in the process's memory map while it runs.</param>
    /// <param name="environment">Environment variables to set (or, with a null value, remove) for the child.</param>
    public static CliRun Run(IEnumerable<string> arguments, TimeSpan? timeout = null, string? watchLibrary = null, IReadOnlyDictionary<string, string?>? environment = null)
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "DiffusionKit.Cli.dll");
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        start.ArgumentList.Add(cli);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        foreach (var (name, value) in environment ?? new Dictionary<string, string?>())
        {
            if (value is null)
            {
                start.Environment.Remove(name);
            }
            else
            {
                start.Environment[name] = value;
            }
        }

        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var deadline = Stopwatch.StartNew();
        long? peak = null;
        bool? loaded = null;
        while (!process.HasExited)
        {
            if (PeakResident(process.Id) is { } reading)
            {
                peak = Math.Max(peak ?? 0, reading);
            }

            if (watchLibrary is not null && loaded is not true && Maps(process.Id, watchLibrary) is { } mapped)
            {
                loaded = mapped;
            }

            if (deadline.Elapsed > (timeout ?? TimeSpan.FromSeconds(60)))
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
                return new CliRun(-1, stdout.Result, "timed out (hung)", peak, loaded);
            }

            Thread.Sleep(2);
        }

        process.WaitForExit();
        return new CliRun(process.ExitCode, stdout.Result, stderr.Result, peak, loaded);
    }

    /// <summary>Whether a file whose path contains <paramref name="library"/> is mapped into process <paramref name="pid"/>, or null when that cannot be read.</summary>
    private static bool? Maps(int pid, string library)
    {
        try
        {
            return File.ReadLines($"/proc/{pid}/maps").Any(line => line.Contains(library, StringComparison.Ordinal));
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
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
