using DiffusionKit.Cli;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Scheduling;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

public sealed class CliArgumentsTests
{
    [Fact]
    public void Parses_values_flags_and_equals_syntax()
    {
        var args = CliArguments.Parse(["--steps", "30", "--lr=0.002", "--all-shapes", "--prompt", "a", "--prompt", "b"]);

        args.Int("steps", 1).Should().Be(30);
        args.Double("lr", 1).Should().Be(0.002);
        args.Flag("all-shapes").Should().BeTrue();
        args.Strings("prompt").Should().Equal("a", "b");
        args.EnsureAllUsed();
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1.5h", 5400)]
    [InlineData("00:02:00", 120)]
    public void Parses_durations(string text, double seconds)
        => CliArguments.Parse(["--time", text]).Duration("time")!.Value.TotalSeconds.Should().Be(seconds);

    [Fact]
    public void Typos_and_bad_values_are_usage_errors_naming_the_option()
    {
        var typo = CliArguments.Parse(["--stpes", "3"]);
        typo.Int("steps", 1);
        ((Action)typo.EnsureAllUsed).Should().Throw<CliUsageException>().WithMessage("*--stpes*");

        ((Action)(() => CliArguments.Parse(["--steps", "many"]).Int("steps", 1, 1))).Should().Throw<CliUsageException>().WithMessage("*--steps*integer*");
        ((Action)(() => CliArguments.Parse(["--time", "soon"]).Duration("time"))).Should().Throw<CliUsageException>().WithMessage("*--time*10m*");
        ((Action)(() => SamplerNames.Parse("heun", SchedulerAlgorithm.Ddim))).Should().Throw<CliUsageException>().WithMessage("*ddim, ddpm, dpm-solver, euler-a*");
        ((Action)(() => PrecisionNames.Parse("fp16"))).Should().Throw<CliUsageException>().WithMessage("*fp32 or bf16*");
        ((Action)(() => CliArguments.Parse(["steps"]))).Should().Throw<CliUsageException>();
    }
}
