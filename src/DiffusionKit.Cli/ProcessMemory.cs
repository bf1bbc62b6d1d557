using System.Globalization;

namespace DiffusionKit.Cli;

/// <summary>Resident-set figures of this process from /proc/self/status (Linux); 0 elsewhere.</summary>
internal static class ProcessMemory
{
    /// <summary>Current resident set size in MiB.</summary>
    public static double ResidentMiB() => ReadKiB("VmRSS:") / 1024.0;

    /// <summary>Peak resident set size in MiB.</summary>
    public static double PeakResidentMiB() => ReadKiB("VmHWM:") / 1024.0;

    private static long ReadKiB(string key)
    {
        try
        {
            foreach (string line in File.ReadLines("/proc/self/status"))
            {
                if (line.StartsWith(key, StringComparison.Ordinal))
                {
                    var parts = line[key.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    return long.Parse(parts[0], CultureInfo.InvariantCulture);
                }
            }
        }
        catch (IOException)
        {
            // Not Linux.
        }

        return 0;
    }
}
