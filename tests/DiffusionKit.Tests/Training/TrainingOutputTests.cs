using DiffusionKit.Checkpoints;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Models;
using DiffusionKit.Pipeline;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Training;

/// <summary>Periodic checkpoints and sample grids from the builder's trainer, at 16, 32 and 64 pixels.</summary>
public sealed class TrainingOutputTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    public async Task BuildTrainer_writes_periodic_checkpoints_and_grids_that_load_and_resume(int size)
    {
        using var dir = new TempDirectory();
        string output = dir.File("run");
        var encoder = ShapesCatalog.CreateEncoder();
        var data = new ShapesDataset(new ShapesDatasetOptions { Count = 16, ImageSize = size, Seed = 1 });
        var options = new DiffusionTrainerOptions
        {
            Steps = 5, BatchSize = 4, GradientAccumulationSteps = 2, MaxGradNorm = 1, EmaDecay = 0.9, Seed = 2,
            SaveEvery = 2, KeepCheckpoints = 2, SampleEvery = 4, SamplePrompts = ["a red circle", "a blue square"],
        };
        using (var trainer = new DiffusionPipelineBuilder().UseTextEncoder(encoder).UseModel(new ContextUnetOptions { Features = 8, ImageSize = size, ContextSize = encoder.ContextSize }).BuildTrainer(options))
        {
            trainer.Train(data, output).Steps.Should().Be(5);
        }

        CheckpointDirectory.StepFolders(output).Select(f => f.Step).Should().Equal(4, 5);
        CheckpointDirectory.Resolve(output).Should().EndWith("step-0000005");
        var config = DiffusionCheckpoint.ReadConfig(output);
        config.Training["steps"].Should().Be("5");
        config.Training["completed"].Should().Be("true");
        double.IsFinite(double.Parse(config.Training["final_loss"], System.Globalization.CultureInfo.InvariantCulture)).Should().BeTrue();

        var grid = Path.Combine(output, "samples", "step-0000004.png");
        File.Exists(grid).Should().BeTrue();
        var png = PngDecoder.Decode(File.ReadAllBytes(grid));
        png.Width.Should().BeGreaterThanOrEqualTo(2 * size, "two columns or more of size-pixel images");

        using (var pipeline = new DiffusionPipelineBuilder().FromCheckpoint(output).UseSampler(SamplerKind.Ddim, 2).Build())
        {
            (await pipeline.GenerateAsync(new GenerationRequest { Prompts = ["a red circle"] })).Images.Should().ContainSingle()
                .Which.Width.Should().Be(size);
        }

        // The run continues from the output folder itself (its current checkpoint) to 7 steps.
        var more = new DiffusionTrainerOptions
        {
            Steps = 7, BatchSize = 4, GradientAccumulationSteps = 2, MaxGradNorm = 1, EmaDecay = 0.9, Seed = 2, SaveEvery = 2, KeepCheckpoints = 2, ResumeFrom = output,
        };
        using (var trainer = new DiffusionPipelineBuilder().UseTextEncoder(encoder).UseModel(new ContextUnetOptions { Features = 8, ImageSize = size, ContextSize = encoder.ContextSize }).BuildTrainer(more))
        {
            trainer.Train(data, output).Steps.Should().Be(7);
        }

        CheckpointDirectory.StepFolders(output).Select(f => f.Step).Should().Equal(6, 7);
        using var loaded = DiffusionCheckpoint.Load(output);
        loaded.Model.ImageSize.Should().Be(size);
        loaded.Config.Training["steps"].Should().Be("7");
    }
}
