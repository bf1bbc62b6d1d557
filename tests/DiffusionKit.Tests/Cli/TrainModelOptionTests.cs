using DiffusionKit.Checkpoints;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Models;
using DiffusionKit.Tests.TestDoubles;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary><c>train --model</c>: the attention U-Net trains from the command line, resumes as itself and samples; contradictions are usage errors.</summary>
public sealed class TrainModelOptionTests
{
    [Fact]
    public void Model_attention_unet_trains_resumes_and_samples_and_a_contradicting_model_on_resume_is_refused()
    {
        using var dir = new TempDirectory();
        string checkpoint = dir.File("ckpt");

        CliInProcess.Succeed(["train", "--data", "shapes", "--count", "64", "--out", checkpoint, "--model", "attention-unet", "--steps", "2", "--batch", "8", "--features", "8", "--precision", "fp32"]);
        var config = DiffusionCheckpoint.ReadConfig(checkpoint);
        config.Model.Type.Should().Be(AttentionUnetType.TypeName);
        AttentionUnetType.ReadOptions(config.Model).Features.Should().Be(8);

        CliInProcess.Succeed(["train", "--data", "shapes", "--count", "64", "--out", checkpoint, "--resume", checkpoint, "--steps", "3"]);
        DiffusionCheckpoint.ReadConfig(checkpoint).Model.Type.Should().Be(AttentionUnetType.TypeName, "--resume continues the checkpoint's network");

        var refused = CliInProcess.Run(["train", "--data", "shapes", "--count", "64", "--out", checkpoint, "--resume", checkpoint, "--steps", "4", "--model", "context-unet"]);
        refused.Code.Should().Be(2);
        refused.Error.Should().Contain("--model context-unet does not match the checkpoint").And.Contain("attention-unet");

        string samples = dir.File("samples");
        CliInProcess.Succeed(["sample", "--checkpoint", checkpoint, "--out", samples, "--prompt", "red circle", "--per-prompt", "1", "--steps", "2"]);
        File.Exists(Path.Combine(samples, "grid.png")).Should().BeTrue("sample loads the built-in AttentionUnet without registration");
    }

    [Fact]
    public void The_folder_step_budget_counts_the_chosen_network_and_an_unknown_model_is_a_usage_error()
    {
        TrainingDataSource.DefaultSteps(TrainableNetwork.AttentionUnet, 28, 32, 100, 7000).Should().Be(809, "1.875e13 forward FLOPs of an attention U-Net at 28 px, n_feat 32 (232 MFLOP per image)");
        TrainingDataSource.DefaultSteps(TrainableNetwork.ContextUnet, 28, 32, 100, 7000).Should().Be(814);

        var result = CliInProcess.Run(["train", "--data", "shapes", "--out", "unused", "--model", "transformer"]);

        result.Code.Should().Be(2);
        result.Error.Should().Contain("--model must be one of context-unet, attention-unet, not 'transformer'");
    }
}
