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

/// <summary>Periodic checkpoints and samples from the builder's trainer, at 16, 32 and 64 pixels.</summary>
public sealed class TrainingOutputTests
{
    [Theory]
    [InlineData(16)]
    [InlineData(32)]
    [InlineData(64)]
    public async Task BuildTrainer_writes_periodic_checkpoints_and_samples_that_load_and_resume(int size)
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

        // One folder of plain PNGs per sample step (the grid is the demo package's, see TrainingSampleGridTests).
        Directory.EnumerateFileSystemEntries(Path.Combine(output, "samples")).Select(Path.GetFileName).Should().Equal("step-0000004");
        string samples = Path.Combine(output, "samples", "step-0000004");
        var files = Enumerable.Range(0, 2).SelectMany(p => Enumerable.Range(0, 4).Select(i => $"p{p:D2}-i{i:D2}.png")).ToList();
        Directory.EnumerateFiles(samples).Select(Path.GetFileName).Should().BeEquivalentTo(files.Append(TrainingSampleWriter.ManifestFileName));
        files.Select(f => PngDecoder.Load(Path.Combine(samples, f))).Should().AllSatisfy(png => (png.Width, png.Height).Should().Be((size, size)));

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
