using DiffusionKit.Cli;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Pipeline;
using DiffusionKit.Sampling;
using DiffusionKit.Tests.TestDoubles;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary><c>sample</c> loads a checkpoint by its <c>model.type</c> through the denoiser-type registry, not as a context U-Net.</summary>
public sealed class SampleDenoiserTypeTests
{
    private static readonly string[] Vocabulary = ["red", "blue"];

    /// <summary>A checkpoint of <see cref="TinyConvDenoiser"/> (<c>model.type</c> <c>TinyConvNet</c>), 12×12 pixels.</summary>
    private static void SaveTinyConvCheckpoint(string folder)
    {
        using var model = new TinyConvDenoiser(channels: 3, imageSize: 12, contextSize: Vocabulary.Length, hidden: 16, seed: 2);
        using var trainer = new DiffusionPipelineBuilder().UseVocabulary(Vocabulary).UseModel(model)
            .BuildTrainer(new DiffusionTrainerOptions { Steps = 1, BatchSize = 2, Precision = DiffusionKit.Training.Precision.Float32 });
        trainer.SaveCheckpoint(folder);
    }

    [Fact]
    public void Sample_on_a_checkpoint_of_an_unregistered_type_exits_with_invalid_data_naming_the_type_and_the_registered_types()
    {
        using var dir = new TempDirectory();
        SaveTinyConvCheckpoint(dir.File("checkpoint"));

        var (code, _, error) = CliInProcess.Run("sample", "--checkpoint", dir.File("checkpoint"), "--out", dir.File("out"), "--prompt", "red");

        code.Should().Be(ExitCodes.InvalidData, error);
        error.Should().Contain("'model.type' is 'TinyConvNet'").And.Contain("registered types: ContextUnet");
        error.Trim().Split('\n').Should().ContainSingle("one error line, no stack trace");
        Directory.Exists(dir.File("out")).Should().BeFalse("nothing is written before the checkpoint is accepted");
    }

    [Fact]
    public void Sample_loads_a_registered_type_and_sizes_its_batches_from_that_network()
    {
        using var dir = new TempDirectory();
        SaveTinyConvCheckpoint(dir.File("checkpoint"));
        var settings = new SampleCommand.Settings(dir.File("checkpoint"), dir.File("out"), ["red", "blue"], PerPrompt: 2, SamplerKind.Ddim, Steps: 3, Guidance: 2, Seed: 1, Animation: false,
            DenoiserTypes: [TinyConvDenoiserType.Instance]);

        string manifest = SampleCommand.Generate(settings, CancellationToken.None);

        File.ReadAllLines(manifest).Should().HaveCount(4);
        var first = DiffusionKit.Demo.Imaging.PngDecoder.Load(Directory.GetFiles(dir.File("out"), "0000-*.png").Single());
        (first.Width, first.Height).Should().Be((12, 12), "the image size is the TinyConvNet checkpoint's, not a ContextUnet's");
        File.Exists(dir.File("out/grid.png")).Should().BeTrue();
    }
}
