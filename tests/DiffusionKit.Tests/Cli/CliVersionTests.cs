using DiffusionKit.Tests.Native;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary><c>diffusionkit --version</c> prints the package version.</summary>
public sealed class CliVersionTests
{
    [Fact]
    public void Version_prints_the_package_version_and_exits_0()
    {
        string cli = Path.Combine(AppContext.BaseDirectory, "DiffusionKit.Cli.dll");

        var run = FreshOutputLoadTests.Run("dotnet", $"\"{cli}\" --version", AppContext.BaseDirectory);

        run.Exit.Should().Be(0, run.Output);
        string expected = typeof(DiffusionKit.Cli.CliApplication).Assembly.GetName().Version!.ToString(3);
        run.Output.Trim().Should().StartWith($"diffusionkit {expected}").And.NotContain("Unknown command");
    }
}
