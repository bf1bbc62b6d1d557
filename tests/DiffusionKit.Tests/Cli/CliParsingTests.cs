using DiffusionKit.Cli;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Scheduling;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;
using TrainingPrecision = DiffusionKit.Training.Precision;

namespace DiffusionKit.Tests.Cli;

/// <summary>The options' values, defaults and errors as the commands read them (System.CommandLine parsing).</summary>
public sealed class CliParsingTests
{
    [Fact]
    public void Values_flags_equals_syntax_and_repeated_options_parse()
    {
        var sample = new SampleCommand();
        var parse = sample.ParseValid("--checkpoint", "c", "--out=o", "--steps", "30", "--guidance=0.5", "--all-shapes", "--prompt", "a", "--prompt", "b", "--sampler", "euler-a", "--precision", "bf16");

        var settings = sample.ReadSettings(parse);

        settings.Checkpoint.Should().Be("c");
        settings.Output.Should().Be("o");
        settings.Steps.Should().Be(30);
        settings.Guidance.Should().Be(0.5);
        settings.Prompts.Take(2).Should().Equal("a", "b");
        settings.Prompts.Should().HaveCount(2 + DiffusionKit.Demo.Shapes.ShapesCatalog.AllPrompts.Count, "--all-shapes adds the 48 prompts");
        settings.Sampler.Should().Be(SamplerKind.EulerAncestral);
        settings.Precision.Should().Be(TrainingPrecision.BFloat16);
        settings.PerPrompt.Should().Be(4, "the option's default");
        settings.MaxBatchImages.Should().BeNull("the default depends on the checkpoint's image size");
    }

    [Theory]
    [InlineData(16, 192)]
    [InlineData(32, 48)]
    [InlineData(64, 12)]
    [InlineData(512, 1)]
    public void The_default_max_batch_keeps_the_pixels_of_192_images_of_16x16(int imageSize, int expected)
        => SampleCommand.DefaultMaxBatch(imageSize).Should().Be(expected);

    [Fact]
    public void Values_are_taken_as_typed_without_response_files()
    {
        var sample = new SampleCommand();

        sample.ReadSettings(sample.Parse(["--checkpoint", "c", "--out", "o", "--prompt", "@red circle"], CliApplication.Parsing)).Prompts.Should().Equal("@red circle");
    }

    [Fact]
    public void Demo_training_defaults_all_reach_the_trainer_and_user_options_override_them()
    {
        var demo = new DemoCommand();

        var settings = demo.ReadTrainSettings(demo.ParseValid("--count", "48", "--lr", "1e-3", "--out", "demo-out"));

        settings.Trainer.WarmupSteps.Should().Be(200);
        settings.Trainer.SnrGamma.Should().Be(5);
        settings.Trainer.LearningRateSchedule.Should().Be(LearningRateSchedule.Cosine);
        settings.Trainer.LearningRate.Should().Be(1e-3, "the user's --lr wins over the demo default");
        settings.Trainer.BatchSize.Should().Be(50);
        settings.Trainer.EmaDecay.Should().Be(0.995);
        settings.Trainer.Precision.Should().Be(TrainingPrecision.Auto, "the precision is measured on the machine, not assumed");
        settings.Trainer.Steps.Should().Be(TrainingDefaults.Demo.Steps, "the demo's budget is a step count, the same on every machine");
        settings.Trainer.MaxDuration.Should().BeNull("no wall-clock budget unless the user asks for one");
        settings.Scheduler.PredictionType.Should().Be(PredictionType.VPrediction);
        TrainableNetworks.Sizes(settings.Model).Features.Should().Be(TrainingDefaults.Demo.Features);
        settings.Data.Count.Should().Be(48);
        settings.Output.Should().Be(Path.Combine("demo-out", "checkpoint"));
    }

    [Fact]
    public void A_demo_time_budget_replaces_the_step_budget_and_steps_with_time_caps_it()
    {
        var demo = new DemoCommand();

        var timed = demo.ReadTrainSettings(demo.ParseValid("--count", "8", "--time", "8m"));
        var capped = demo.ReadTrainSettings(demo.ParseValid("--count", "8", "--time", "8m", "--steps", "30"));

        timed.Trainer.Steps.Should().BeNull();
        timed.Trainer.MaxDuration.Should().Be(TimeSpan.FromMinutes(8));
        capped.Trainer.Steps.Should().Be(30);
        capped.Trainer.MaxDuration.Should().Be(TimeSpan.FromMinutes(8));
    }

    [Fact]
    public void Train_without_a_budget_trains_a_fixed_step_count_and_a_time_budget_replaces_it()
    {
        var train = new TrainCommand();

        var defaulted = train.ReadSettings(train.ParseValid("--out", "x", "--count", "8"));
        var timed = train.ReadSettings(train.ParseValid("--out", "x", "--count", "8", "--time", "90s"));

        defaulted.Trainer.Steps.Should().Be(TrainingDefaults.Train.Steps, "the default budget is a step count, the same on every machine");
        defaulted.Trainer.MaxDuration.Should().BeNull();
        defaulted.Trainer.LearningRateSchedule.Should().Be(LearningRateSchedule.Linear);
        defaulted.Scheduler.PredictionType.Should().Be(PredictionType.Epsilon);
        TrainableNetworks.Sizes(defaulted.Model).Features.Should().Be(64);
        timed.Trainer.Steps.Should().BeNull("a time budget replaces the default step count");
        timed.Trainer.MaxDuration.Should().Be(TimeSpan.FromSeconds(90));
    }

    [Theory]
    [InlineData("90s", 90)]
    [InlineData("10m", 600)]
    [InlineData("1.5h", 5400)]
    [InlineData("00:02:00", 120)]
    public void Parses_durations(string text, double seconds)
    {
        var train = new TrainCommand();

        train.ParseValid("--out", "x", "--time", text).GetValue(train.Training.Time)!.Value.TotalSeconds.Should().Be(seconds);
    }

    [Fact]
    public void The_benchmark_measures_fp32_unless_asked()
    {
        var bench = new BenchCommand();

        bench.Precision.Read(bench.ParseValid()).Should().Be(TrainingPrecision.Float32);
    }

    /// <summary>A bad value, a typo, a stray argument: exit code 2 and one line naming the option and what is allowed.</summary>
    [Theory]
    [InlineData("*--steps must be a whole number of at least 1, not 'many'*", "train", "--out", "x", "--steps", "many")]
    [InlineData("*--steps must be a whole number of at least 1, not '0'*", "train", "--out", "x", "--steps", "0")]
    [InlineData("*--threads must be a whole number in 1..256, not '0'*", "sample", "--checkpoint", "c", "--out", "o", "--threads", "0")]
    [InlineData("*--guidance must be a number in [0, 100], not '101'*", "sample", "--checkpoint", "c", "--out", "o", "--guidance", "101")]
    [InlineData("*--lr must be a number in [1e-8, 1], not 'fast'*", "train", "--out", "x", "--lr", "fast")]
    [InlineData("*--time must be a duration like 90s, 10m, 1.5h or 00:10:00, not 'soon'*", "train", "--out", "x", "--time", "soon")]
    [InlineData("*--sampler must be one of ddim, ddpm, dpm-solver, euler-a, dpm-solver-sde, not 'heun'*", "sample", "--checkpoint", "c", "--out", "o", "--sampler", "heun")]
    [InlineData("*--precision must be one of auto, fp32, bf16, not 'fp16'*", "train", "--out", "x", "--precision", "fp16")]
    [InlineData("*--lr-schedule must be one of linear, constant, cosine, not 'exp'*", "train", "--out", "x", "--lr-schedule", "exp")]
    [InlineData("*--encoder must be one of bow, learned, minilm, not 'gpt'*", "train", "--out", "x", "--encoder", "gpt")]
    [InlineData("*--prediction must be one of epsilon, v_prediction, sample, not 'x0'*", "train", "--out", "x", "--prediction", "x0")]
    [InlineData("*--hold-out entries look like 'blue triangle'*not 'purple cube'*", "eval", "--manifest", "m", "--hold-out", "purple cube")]
    [InlineData("*--reword entries look like large=big*not 'large=big=huge'*", "sample", "--checkpoint", "c", "--out", "o", "--reword", "large=big=huge")]
    [InlineData("*--reword names 'large' twice*", "sample", "--checkpoint", "c", "--out", "o", "--reword", "large=big,large=huge")]
    [InlineData("*--configs entries look like ddim:25*", "bench-samplers", "--checkpoint", "c", "--out", "o", "--configs", "ddim")]
    [InlineData("*--size must be a multiple of 4*not 18*", "train", "--out", "x", "--size", "18")]
    [InlineData("*unknown option '--stpes'; did you mean '--steps'?*diffusionkit train --help*", "train", "--out", "x", "--stpes", "3")]
    [InlineData("*unknown option '--colour' (run 'diffusionkit sample --help' for the options)*", "sample", "--checkpoint", "c", "--out", "o", "--colour", "red")]
    [InlineData("*unexpected argument 'steps'; options look like --name value*", "train", "--out", "x", "steps")]
    [InlineData("*Option '--out' is required*diffusionkit train --help*", "train")]
    [InlineData("*--train-steps does not apply to --batched-sampling*", "bench", "--batched-sampling", "--train-steps", "3")]
    [InlineData("*--old-path applies to --batched-sampling only*", "bench", "--old-path")]
    [InlineData("*unknown command 'paint'; the commands are demo, train, sample, eval, bench, bench-samplers*", "paint")]
    public void Bad_values_and_unknown_options_are_usage_errors_naming_the_option(string expected, params string[] args)
    {
        var (code, output, error) = CliInProcess.Run(args);

        code.Should().Be(ExitCodes.Usage);
        output.Should().BeEmpty("a usage error prints no help, only the error line");
        error.TrimEnd().Split('\n').Should().ContainSingle().Which.Should().StartWith("error: ").And.Match(expected);
    }

    [Fact]
    public void Option_combinations_the_command_checks_are_usage_errors_too()
    {
        CliInProcess.Run("sample", "--checkpoint", "c", "--out", "o").Error.Should().Match("error: Give at least one --prompt, or --all-shapes*(run 'diffusionkit sample --help' for the options)*");
        CliInProcess.Run("train", "--out", "x", "--count", "8", "--sample-every", "5").Error.Should().Match("error: --sample-every needs --sample-prompts*");
        CliInProcess.Run("train", "--out", "x", "--data", "npy").Error.Should().Match("error: --data npy needs --images*");
    }

    [Fact]
    public void Without_a_command_the_help_is_printed_with_the_usage_code_and_version_prints_the_version()
    {
        var none = CliInProcess.Run();
        var version = CliInProcess.Run("--version");

        none.Code.Should().Be(ExitCodes.Usage);
        none.Output.Should().Contain("Commands:").And.Contain("bench-samplers");
        version.Code.Should().Be(ExitCodes.Success);
        version.Output.Trim().Should().Be(CliVersion.Text);
    }
}
