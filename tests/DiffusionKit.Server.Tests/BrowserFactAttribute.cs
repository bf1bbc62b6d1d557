using Xunit;

namespace DiffusionKit.Server.Tests;

/// <summary>
/// A fact that needs Debian's <c>chromium</c> and <c>chromium-driver</c> (<see cref="ChromiumPath"/>, <see cref="DriverPath"/>).
/// Skipped, saying so, only when they are not installed; CI installs them in <c>.ci/run</c>, so there it always runs.
/// </summary>
public sealed class BrowserFactAttribute : FactAttribute
{
    public const string ChromiumPath = "/usr/bin/chromium";

    public const string DriverPath = "/usr/bin/chromedriver";

    public BrowserFactAttribute()
    {
        if (!File.Exists(ChromiumPath) || !File.Exists(DriverPath))
        {
            Skip = $"chromium is not installed ({ChromiumPath} and {DriverPath} are needed): run 'apt-get install -y chromium chromium-driver' (CI's .ci/run does).";
        }
    }
}
