using System.Reflection;

namespace DiffusionKit.Cli;

/// <summary>What <c>diffusionkit --version</c> prints: the package version with the commit it was built from (SourceLink adds it).</summary>
internal static class CliVersion
{
    /// <summary>The informational version, e.g. <c>0.1.0+3f2a9c1...</c>.</summary>
    public static string Version =>
        typeof(CliVersion).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion
        ?? typeof(CliVersion).Assembly.GetName().Version?.ToString()
        ?? "unknown";

    /// <summary>The line printed: <c>diffusionkit 0.1.0+3f2a9c1...</c>.</summary>
    public static string Text => $"diffusionkit {Version}";
}
