using DiffusionKit.Checkpoints;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Imaging;
using DiffusionKit.Models;
using DiffusionKit.Scheduling;
using DiffusionKit.Tests.Data;
using DiffusionKit.Tests.Imaging;
using DiffusionKit.Text;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary><c>train --data &lt;folder&gt;</c> of grayscale images trains and samples one channel, end to end.</summary>
public sealed class GrayscaleFolderTests
{
    private static void MakeGreyFolder(string root)
    {
        for (int i = 0; i < 4; i++)
        {
            ImageFiles.SolidGray(Path.Combine(root, "bright", $"{i}.png"), 8, 8, (byte)(200 + i));
            ImageFiles.SolidGray(Path.Combine(root, "dark", $"{i}.png"), 8, 8, (byte)(20 + i));
        }
    }

    private static byte ColourType(string png) => File.ReadAllBytes(png)[PngFormat.ColourTypeOffset];

    [Fact]
    public void A_grayscale_folder_trains_a_one_channel_model_whose_samples_grids_and_gif_are_grayscale()
    {
        using var dir = new TempDirectory();
        string data = dir.File("data");
        MakeGreyFolder(data);
        string checkpoint = dir.File("ckpt");

        CliInProcess.Succeed(["train", "--data", data, "--out", checkpoint, "--steps", "2", "--batch", "4", "--features", "8", "--sample-every", "2", "--sample-prompts", "bright,dark"]);

        var config = DiffusionCheckpoint.ReadConfig(checkpoint);
        TrainableNetworks.Sizes(config.Model).InChannels.Should().Be(1, "the model is built for the data's one channel");
        config.Training[CheckpointConfig.ImageModeKey].Should().Be("L");
        string grid = Directory.GetFiles(Path.Combine(checkpoint, "samples"), "*.png").Should().ContainSingle().Subject;
        ColourType(grid).Should().Be(PngFormat.ColourTypeGrayscale, "the --sample-every grid is grayscale");

        string samples = dir.File("samples");
        CliInProcess.Succeed(["sample", "--checkpoint", checkpoint, "--out", samples, "--prompt", "bright", "--per-prompt", "2", "--steps", "2", "--precision", "fp32", "--animation"]);

        var pngs = Directory.GetFiles(samples, "*.png");
        pngs.Should().HaveCount(3, "two samples and the grid");
        foreach (string png in pngs)
        {
            ColourType(png).Should().Be(PngFormat.ColourTypeGrayscale, Path.GetFileName(png));
            var image = PngDecoder.Load(png);
            image.Mode.Should().Be(ImageMode.Grayscale);
            image.Pixels.Chunk(3).Should().OnlyContain(p => p[0] == p[1] && p[1] == p[2], "one channel copied to three");
        }

        var gif = GifReader.Parse(File.ReadAllBytes(Path.Combine(samples, "denoising.gif")));
        gif.GlobalTable!.Chunk(3).Should().OnlyContain(c => c[0] == c[1] && c[1] == c[2], "a grayscale model's GIF has a grey palette");
    }

    [Fact]
    public void A_mixed_folder_reports_the_majority_on_stderr_and_the_option_overrides_it()
    {
        using var dir = new TempDirectory();
        string data = dir.File("data");
        MakeGreyFolder(data);
        ImageFiles.Solid(Path.Combine(data, "bright", "colour.png"), 8, 8, 250, 200, 100);

        var train = new TrainCommand();
        var original = Console.Error;
        var captured = new StringWriter();
        Console.SetError(captured);
        TrainCommand.Settings settings, rgb;
        try
        {
            settings = train.ReadSettings(train.ParseValid("--data", data, "--out", dir.File("c"), "--steps", "1"));
            rgb = train.ReadSettings(train.ParseValid("--data", data, "--out", dir.File("c"), "--steps", "1", "--image-mode", "RGB"));
        }
        finally
        {
            Console.SetError(original);
        }

        TrainableNetworks.Sizes(settings.Model).InChannels.Should().Be(1);
        settings.Data.Channels.Should().Be(1);
        captured.ToString().Should().Contain("note: 1 of 9 images are RGB, 8 grayscale: training in grayscale (L) (the majority); the RGB images are converted with ITU-R BT.601 luma.");
        TrainableNetworks.Sizes(rgb.Model).InChannels.Should().Be(3, "--image-mode RGB overrides the majority");
    }

    [Fact]
    public void Bad_image_mode_values_are_usage_errors_naming_the_option()
    {
        using var dir = new TempDirectory();
        string data = dir.File("data");
        MakeGreyFolder(data);

        CliInProcess.Run("train", "--data", data, "--out", dir.File("c"), "--image-mode", "CMYK").Error
            .Should().Contain("--image-mode must be one of auto, L, RGB, not 'CMYK'");
        CliInProcess.Run("train", "--data", "shapes", "--out", dir.File("c"), "--image-mode", "L").Error
            .Should().Contain("--image-mode applies to image folders");
    }

    [Fact]
    public void An_old_checkpoint_without_the_image_mode_loads_and_samples_as_rgb_and_a_contradicting_one_is_refused()
    {
        using var dir = new TempDirectory();
        var encoder = BagOfWordsEncoder.FromCaptions(["red", "blue"]);
        using var model = new ContextUnet(new ContextUnetOptions { Features = 8, ImageSize = 8, ContextSize = encoder.ContextSize }, seed: 1);
        string old = dir.File("old");
        var config = DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder);
        config.Training.Should().NotContainKey(CheckpointConfig.ImageModeKey, "as written before the key existed");
        DiffusionCheckpoint.Save(old, model, config, encoder);

        DiffusionCheckpoint.Validate(old).Model.Settings["in_channels"].GetInt32().Should().Be(3);
        string samples = dir.File("samples");
        CliInProcess.Succeed(["sample", "--checkpoint", old, "--out", samples, "--prompt", "red", "--per-prompt", "1", "--steps", "2", "--precision", "fp32"]);
        foreach (string png in Directory.GetFiles(samples, "*.png"))
        {
            ColourType(png).Should().Be(PngFormat.ColourTypeRgb, Path.GetFileName(png));
        }

        string edited = dir.File("edited");
        var wrong = DiffusionCheckpoint.Describe(model, new NoiseSchedule(), encoder, new Dictionary<string, string> { [CheckpointConfig.ImageModeKey] = "L" });
        DiffusionCheckpoint.Save(edited, model, wrong, encoder);
        var act = () => DiffusionCheckpoint.Validate(edited);
        act.Should().Throw<InvalidDataException>().WithMessage("*training.image_mode is 'L' (1 channel) but the model has 3*");
    }
}
