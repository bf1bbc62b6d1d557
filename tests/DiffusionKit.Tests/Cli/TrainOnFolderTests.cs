using DiffusionKit.Checkpoints;
using DiffusionKit.Cli;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Models;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.Tests.Data;
using DiffusionKit.Text;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary><c>train --data &lt;folder&gt;</c> end to end on small generated folders.</summary>
public sealed class TrainOnFolderTests
{
    private static void MakeFolder(string root, int size)
    {
        for (int i = 0; i < 6; i++)
        {
            ImageFiles.Solid(Path.Combine(root, "red square", $"{i}.png"), size, size, (byte)(200 + i), 0, 0);
            ImageFiles.Solid(Path.Combine(root, "blue square", $"{i}.png"), size, size, 0, 0, (byte)(200 + i));
        }

        File.WriteAllBytes(Path.Combine(root, "red square", "broken.png"), [1, 2, 3]);
    }

    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    public void Train_on_a_folder_then_sample_its_captions(int size)
    {
        using var dir = new TempDirectory();
        string data = dir.File("data");
        MakeFolder(data, size);
        string checkpoint = dir.File("ckpt");

        CliInProcess.Succeed(["train", "--data", data, "--out", checkpoint, "--steps", "2", "--batch", "4", "--features", "8", "--random-flip"]);

        var config = DiffusionCheckpoint.ReadConfig(checkpoint);
        TrainableNetworks.Sizes(config.Model).ImageSize.Should().Be(size, "the model size follows the images");
        config.Model.Type.Should().Be(TrainingDefaults.Folder.Network == TrainableNetwork.AttentionUnet ? AttentionUnetType.TypeName : ContextUnetType.TypeName, "a folder trains the folder default network");
        config.TextEncoder.Vocabulary.Should().Equal("blue", "red", "square");
        config.Training["images"].Should().Be("11", "the broken file is skipped and one of the 12 images is held out for validation");
        config.Scheduler.PredictionType.Should().Be(DiffusionKit.Scheduling.PredictionType.VPrediction, "folder defaults apply");
        config.Sampling!.GuidanceWeight.Should().Be(TrainingDataSource.DefaultGuidance, "a folder model recommends its sampling guidance");
        (config.Sampling.GuidanceScale, config.Sampling.GuidanceConvention).Should().Be((TrainingDataSource.DefaultGuidance + 1, "diffusers"), "config.json's guidance_scale is diffusers' s = w + 1");

        // Without --guidance, sample uses the checkpoint's recommendation: the same image as --guidance 1, not as 3.
        string Sample(string name, params string[] extra)
        {
            CliInProcess.Succeed(["sample", "--checkpoint", checkpoint, "--out", dir.File(name), "--prompt", "red square", "--per-prompt", "1", "--steps", "2", "--precision", "fp32", .. extra]);
            return Convert.ToHexString(File.ReadAllBytes(Path.Combine(dir.File(name), "grid.png")));
        }

        string byDefault = Sample("s");
        Sample("s1", "--guidance", "1").Should().Be(byDefault);
        Sample("s3", "--guidance", "3").Should().NotBe(byDefault);
    }

    [Fact]
    public void Size_strict_and_bad_folders_are_reported_as_usage_errors()
    {
        using var dir = new TempDirectory();
        string data = dir.File("data");
        MakeFolder(data, 8);

        CliInProcess.Run("train", "--data", data, "--out", dir.File("c"), "--strict").Error.Should().Match("error: *broken.png*");
        CliInProcess.Run("train", "--data", dir.File("missing"), "--out", dir.File("c")).Error.Should().Match("error: --data must be 'shapes', 'npy' or an image folder*");
        CliInProcess.Run("train", "--data", data, "--out", dir.File("c"), "--size", "18").Error.Should().Match("error: --size must be a multiple of 4*");

        var train = new TrainCommand();
        var settings = train.ReadSettings(train.ParseValid("--data", data, "--out", dir.File("c"), "--size", "16"));
        TrainableNetworks.Sizes(settings.Model).ImageSize.Should().Be(16);
        settings.Trainer.Steps.Should().Be(TrainingDataSource.DefaultSteps(TrainingDefaults.Folder.Network, 16, 64, 100, 8), "without a budget the folder's step default applies");
        settings.Encoder.Should().BeOfType<BagOfWordsEncoder>().Which.Vocabulary.Should().Equal("blue", "red", "square");
        settings.Trainer.LearningRate.Should().Be(2e-3, "the folder defaults apply to options not given");
        settings.Trainer.EmaDecay.Should().Be(0.995);
        TrainableNetworks.Sizes(settings.Model).Features.Should().Be(TrainingDataSource.DefaultFeatures(16));
        settings.Guidance.Should().Be(TrainingDataSource.DefaultGuidance);

        var given = train.ReadSettings(train.ParseValid("--data", data, "--out", dir.File("c"), "--size", "16", "--lr", "1e-3", "--features", "16", "--guidance", "2.5"));
        given.Guidance.Should().Be(2.5);
        given.Trainer.LearningRate.Should().Be(1e-3, "an option the user gave wins over the folder default");
        given.Trainer.Steps.Should().Be(TrainingDataSource.DefaultSteps(TrainingDefaults.Folder.Network, 16, 16, 100, 8), "the step budget follows the width given");
    }

    [Fact]
    public void The_default_step_budget_depends_only_on_the_datas_size_and_resolution()
    {
        const int large = 1_000_000;
        int at16 = TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 16, 64, 100, large);
        TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 8, 64, 100, large).Should().BeCloseTo(at16 * 4, 4, "a quarter of the pixels, four times the steps");
        TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 32, 64, 100, large).Should().Be(TrainingDataSource.MinDefaultSteps, "a quarter of 623 is below the floor");
        TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 16, 32, 100, large).Should().BeCloseTo(at16 * 4, 4);
        TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 16, 64, 50, large).Should().BeCloseTo(at16 * 2, 2);

        TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 28, 32, 100, 7000).Should().Be(814, "a 7,000-photo folder at 28 px: the compute budget, about 12 passes");
        TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 28, 32, 100, 500).Should().Be(500, "a 500-image folder stops at 100 passes");
        TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 28, 32, 100, 10).Should().Be(TrainingDataSource.MinDefaultSteps, "however small the folder, at least twice the warm-up");
    }

    [Fact]
    public void The_log_names_each_folder_default_applied_and_the_rule_that_sized_the_budget()
    {
        var (steps, rule) = TrainingDataSource.DefaultBudget(TrainableNetwork.ContextUnet, 28, 32, 100, 7000);
        steps.Should().Be(814);
        rule.Should().Contain("230 M per 28x28 image at n_feat 32 x batch 100) = 814 steps").And.Contain("(7000 steps)").And.EndWith("the compute budget applies");
        TrainingDataSource.DefaultBudget(TrainableNetwork.ContextUnet, 28, 32, 100, 500).Rule.Should().EndWith("the pass cap applies");
        TrainingDataSource.DefaultBudget(TrainableNetwork.ContextUnet, 28, 32, 100, 10).Rule.Should().EndWith("the floor applies");

        using var dir = new TempDirectory();
        string data = dir.File("data");
        MakeFolder(data, 8);
        var train = new TrainCommand();
        var parse = train.ParseValid("--data", data, "--out", dir.File("c"), "--lr", "1e-3");
        var (_, applied, defaultBudget) = TrainingDataSource.ApplyFolderDefaults(parse, train.Training, 16, 12);
        defaultBudget.Should().BeTrue("no --steps, --epochs or --time was given");
        applied.Should().StartWith("Image folder defaults").And.Contain("--features 64 (images up to 16 px").And.Contain("--ema 0.995")
            .And.Contain("--steps 200 (").And.Contain("the floor applies").And.NotContain("--lr ", "the user gave --lr");

        var all = train.ParseValid("--data", data, "--out", dir.File("c"), "--model", "context-unet", "--features", "16", "--batch", "10", "--lr", "1e-3", "--lr-schedule", "cosine",
            "--warmup", "10", "--prediction", "epsilon", "--snr-gamma", "5", "--ema", "0.99", "--steps", "30");
        var given = TrainingDataSource.ApplyFolderDefaults(all, train.Training, 16, 12);
        given.Applied.Should().BeNull("every option was given");
        given.DefaultBudget.Should().BeFalse("--steps was given");
    }

    [Fact]
    public void The_estimated_time_uses_the_chosen_precisions_measured_speed()
    {
        var measured = new DiffusionKit.Training.PrecisionMeasurement(DiffusionKit.Training.Precision.BFloat16, 150, 300, "training steps of batch 100");
        TrainCommand.EstimatedTime(measured, 814, 100).Should().Be("; 814 steps of 100 images: about 4:31 min at that speed, before validation", "81,400 images at 300 images/s");
        TrainCommand.EstimatedTime(measured with { Chosen = DiffusionKit.Training.Precision.Float32 }, 814, 100).Should().Contain("about 9:03 min");
        TrainCommand.EstimatedTime(measured, null, 100).Should().BeEmpty("an --epochs or --time budget has no step count to estimate from");
        TrainCommand.EstimatedTime(measured, 814, 100, "validation and the sample-quality measurements").Should().EndWith("at that speed, before validation and the sample-quality measurements");
        TrainCommand.EstimatedSeconds(measured with { Chosen = DiffusionKit.Training.Precision.Float32 }, 814, 100).Should().BeApproximately(542.7, 0.1)
            .And.BeGreaterThan(TrainCommand.SlowDefaultBudgetSeconds, "at 150 images/s the default budget prints how to cap it");
    }
}
