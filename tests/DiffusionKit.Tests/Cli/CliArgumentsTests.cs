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

    [Fact]
    public void Demo_training_defaults_all_reach_the_trainer_and_user_options_override_them()
    {
        var view = new CliArgumentsView(CliArguments.Parse(["--count", "48", "--lr", "1e-3"]), DemoCommand.TrainDefaults("demo-out"));

        var settings = TrainCommand.Parse(view.Arguments);

        ((Action)view.Arguments.EnsureAllUsed).Should().NotThrow("every default the demo sets must be an option train reads");
        settings.Trainer.WarmupSteps.Should().Be(200);
        settings.Trainer.SnrGamma.Should().Be(5);
        settings.Trainer.LearningRateSchedule.Should().Be(DiffusionKit.Training.LearningRateSchedule.Cosine);
        settings.Trainer.LearningRate.Should().Be(1e-3, "the user's --lr wins over the demo default");
        settings.Trainer.BatchSize.Should().Be(50);
        settings.Trainer.EmaDecay.Should().Be(0.995);
        settings.Trainer.Precision.Should().Be(DiffusionKit.Training.Precision.Auto, "the precision is measured on the machine, not assumed");
        settings.Trainer.Steps.Should().Be(DemoCommand.DefaultSteps, "the demo's budget is a step count, the same on every machine");
        settings.Trainer.MaxDuration.Should().BeNull("no wall-clock budget unless the user asks for one");
        settings.Scheduler.PredictionType.Should().Be(PredictionType.VPrediction);
        settings.Model.Features.Should().Be(DemoCommand.DefaultFeatures);
        settings.Data.Count.Should().Be(48);
        settings.Output.Should().Be(Path.Combine("demo-out", "checkpoint"));
    }

    [Fact]
    public void Train_without_a_budget_trains_a_fixed_step_count_and_a_time_budget_replaces_it()
    {
        var defaulted = TrainCommand.Parse(CliArguments.Parse(["--out", "x", "--count", "8"]));
        defaulted.Trainer.Steps.Should().Be(TrainCommand.DefaultSteps, "the default budget is a step count, the same on every machine");
        defaulted.Trainer.MaxDuration.Should().BeNull();

        var timed = TrainCommand.Parse(CliArguments.Parse(["--out", "x", "--count", "8", "--time", "90s"]));
        timed.Trainer.Steps.Should().BeNull("a time budget replaces the default step count");
        timed.Trainer.MaxDuration.Should().Be(TimeSpan.FromSeconds(90));
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
        ((Action)(() => CliArguments.Parse(["--sampler", "heun"]).Sampler("sampler", SamplerKind.Ddim))).Should().Throw<CliUsageException>().WithMessage("*ddim, ddpm, dpm-solver, euler-a*");
        ((Action)(() => PrecisionNames.Parse("fp16"))).Should().Throw<CliUsageException>().WithMessage("*fp32 or bf16*");
        ((Action)(() => CliArguments.Parse(["steps"]))).Should().Throw<CliUsageException>();
    }
}
