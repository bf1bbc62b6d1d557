using System.Text.Json;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.Checkpoints;
using DiffusionKit.Training;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Training;

/// <summary>The engine's sample writer draws the same images for <see cref="TrainingSampleWriter.Draw"/> and <see cref="TrainingSampleWriter.Write"/>, and writes them as plain PNGs with a manifest.</summary>
public sealed class TrainingSampleWriterTests
{
    [Fact]
    public void Write_saves_each_drawn_image_as_a_png_with_a_manifest_in_a_folder_per_step()
    {
        using var dir = new TempDirectory();
        var encoder = ShapesCatalog.CreateEncoder();
        var modelOptions = new ContextUnetOptions { Features = 8, ImageSize = 16, ContextSize = encoder.ContextSize };
        var scheduler = new SchedulerOptions();
        string[] prompts = ["a red circle", "a blue square"];
        using var model = new ContextUnet(modelOptions, seed: 0);
        using var writer = new TrainingSampleWriter(dir.File("samples"), model, scheduler, encoder, prompts, perPrompt: 2);
        var drawn = new List<TrainingSampleSet>();
        var written = new List<string>();
        var callbacks = new TrainingCallbacks
        {
            Sample = s =>
            {
                drawn.Add(writer.Draw(s));
                written.Add(writer.Write(s));
            },
        };

        new DiffusionTrainer(new DiffusionTrainerOptions { Steps = 2, BatchSize = 4, Seed = 1, SampleEvery = 2, SamplePrompts = prompts })
            .Train(model, SchedulerFactory.Create(scheduler), new ShapesDataset(new ShapesDatasetOptions { Count = 8, ImageSize = 16, Seed = 1 }), encoder, callbacks);

        writer.Folder.Should().Be(dir.File("samples"));
        written.Should().Equal(Path.Combine(dir.File("samples"), "step-0000002"));
        TrainingSampleSet set = drawn.Should().ContainSingle().Subject;
        (set.Step, set.PerPrompt).Should().Be((2, 2));
        set.Prompts.Should().Equal(prompts);
        set.Images.Should().HaveCount(4).And.AllSatisfy(i => (i.Width, i.Height).Should().Be((16, 16)));

        var lines = File.ReadAllLines(Path.Combine(written[0], TrainingSampleWriter.ManifestFileName)).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        lines.Select(l => l.GetProperty("file").GetString()).Should().Equal("p00-i00.png", "p00-i01.png", "p01-i00.png", "p01-i01.png");
        lines.Select(l => l.GetProperty("prompt").GetString()).Should().Equal("a red circle", "a red circle", "a blue square", "a blue square");
        Directory.EnumerateFiles(written[0]).Should().HaveCount(5, "four images and the manifest");
        for (int p = 0; p < 2; p++)
        {
            for (int i = 0; i < 2; i++)
            {
                PngDecoder.Load(Path.Combine(written[0], TrainingSampleWriter.FileName(p, i))).Pixels
                    .Should().Equal(set.Image(p, i).Pixels, "the seeds are fixed, so Write draws what Draw drew");
            }
        }
    }

    [Fact]
    public void FileName_is_the_prompt_and_image_index()
    {
        TrainingSampleWriter.FileName(0, 0).Should().Be("p00-i00.png");
        TrainingSampleWriter.FileName(3, 12).Should().Be("p03-i12.png");
        FluentActions.Invoking(() => TrainingSampleWriter.FileName(-1, 0)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
