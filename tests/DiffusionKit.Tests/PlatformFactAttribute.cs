using Xunit;

namespace DiffusionKit.Tests;

/// <summary>
/// A fact that tests something only one kind of operating system has (SIGKILL and SIGTERM semantics, FIFOs and
/// <c>/dev/zero</c>, exit codes of signals). Elsewhere it is reported as skipped, saying why, never as passed.
/// </summary>
public sealed class PlatformFactAttribute : FactAttribute
{
    /// <summary>Runs the test only on <paramref name="platform"/>: <c>"linux"</c>, or <c>"unix"</c> (Linux or macOS).</summary>
    /// <param name="platform">Where the test runs.</param>
    /// <param name="why">What it needs from that platform (shown in the skip reason).</param>
    public PlatformFactAttribute(string platform, string why)
    {
        bool runs = platform switch
        {
            "linux" => OperatingSystem.IsLinux(),
            "unix" => OperatingSystem.IsLinux() || OperatingSystem.IsMacOS() || OperatingSystem.IsFreeBSD(),
            _ => throw new ArgumentOutOfRangeException(nameof(platform), platform, "Use \"linux\" or \"unix\"."),
        };
        if (!runs)
        {
            Skip = $"Needs {platform}: {why} (CI runs on Linux).";
        }
    }
}
