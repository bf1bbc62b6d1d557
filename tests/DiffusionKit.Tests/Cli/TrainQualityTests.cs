using System.Text.Json.Nodes;
using System.Xml.Linq;
using DiffusionKit.Checkpoints;
using DiffusionKit.Cli;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Quality;
using DiffusionKit.Tests.Data;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary><c>train --data &lt;folder&gt;</c>'s sample-quality judge, its chosen guidance, <c>quality.json</c> and the loss chart's quality panel, on tiny real runs.</summary>
public sealed class TrainQualityTests
{
    /// <summary>Two captions, 24 images each: a red or a blue square at a varying place on black, 16x16.</summary>
    private static string MakeFolder(TempDirectory dir)
    {
        string root = dir.File("data");
        for (int i = 0; i < 24; i++)
        {
            foreach (var (name, channel) in new[] { ("red square", 0), ("blue square", 2) })
            {
                var rgb = new byte[16 * 16 * 3];
                int offset = i % 8;
                for (int y = offset; y < offset + 8; y++)
                {
                    for (int x = offset; x < offset + 8; x++)
                    {
                        rgb[(((y * 16) + x) * 3) + channel] = (byte)(200 + (i * 2));
                    }
                }

                ImageFiles.Png(Path.Combine(root, name, $"{i}.png"), 16, 16, 2, rgb);
            }
        }

        return root;
    }

    private static string[] Tiny(string data, string output, params string[] more) =>
    [
        "train", "--data", data, "--out", output, "--steps", "6", "--batch", "8", "--features", "8", "--model", "context-unet",
        "--precision", "fp32", "--validation-split", "0.25", "--validate-every", "3", .. more,
    ];

    private static JsonObject Json(string path) => (JsonObject)JsonNode.Parse(File.ReadAllText(path))!;

    [Fact]
    public void A_folder_run_chooses_its_guidance_on_the_validation_split_and_records_it_in_the_checkpoint()
    {
        using var dir = new TempDirectory();
        string output = dir.File("run");
        var run = CliProcess.Run(Tiny(MakeFolder(dir), output, "--quality-images", "3", "--quality-every", "3"), TimeSpan.FromMinutes(3));
        (int code, string stdout) = (run.Code, run.Stdout);

        code.Should().Be(0, run.Stderr);
        stdout.Should().Contain("Quality: a judge of 2 captions trained on the training images").And.Contain("train: Guidance: w 0.5: accuracy");
        var quality = Json(Path.Combine(output, TrainingQuality.FileName));
        var measured = quality["measured"]!.AsArray().Select(m => new SampleQuality((double)m!["guidance"]!, (double)m["accuracy"]!, (double)m["confidence"]!, (double)m["feature_distance"]!, (int)m["images"]!)).ToList();
        measured.Select(m => m.Guidance).Should().Equal(GuidanceSelection.DefaultCandidates);
        measured.Should().OnlyContain(m => m.Images == 6 && m.FeatureDistance > 0);
        double chosen = GuidanceSelection.Choose(measured).Guidance;
        ((double)quality["recorded_guidance"]!).Should().Be(chosen);
        ((bool)quality["guidance_chosen"]!).Should().BeTrue();
        ((int)quality["judge"]!["classes"]!).Should().Be(2);

        var config = DiffusionCheckpoint.Validate(output);
        config.Sampling!.GuidanceWeight.Should().Be(chosen, "the final checkpoint records the chosen guidance; 'sample' uses it by default");
        config.Sampling.GuidanceSelection.Should().StartWith("measured at step 6 on the validation split (6 images");

        var metrics = File.ReadAllLines(Path.Combine(output, TrainingMetrics.FileName)).Select(MetricsRecord.Parse).ToList();
        metrics.Where(r => r!.FeatureDistance is not null).Select(r => r!.Step).Should().Equal([3, 6], "step 6, the last, is measured once, by the guidance choice");
        metrics.Last(r => r!.FeatureDistance is not null)!.FeatureDistance.Should().Be(measured.Single(m => m.Guidance == chosen).FeatureDistance);

        XNamespace ns = "http://www.w3.org/2000/svg";
        var svg = XDocument.Load(Path.Combine(output, TrainingMetrics.ChartFileName));
        var groups = svg.Descendants(ns + "g").ToDictionary(g => (string)g.Attribute("id")!);
        groups["feature-distance"].Elements(ns + "circle").Should().HaveCount(2, "one point per measured step");
        groups["sample-accuracy"].Elements(ns + "text").Should().HaveCount(2);
        svg.Descendants(ns + "text").Select(t => t.Value).Should().Contain("feature distance (log)");
    }

    [Fact]
    public void A_given_guidance_is_measured_not_replaced_and_0_images_turns_the_judge_off()
    {
        using var dir = new TempDirectory();
        string data = MakeFolder(dir);

        CliInProcess.Succeed(Tiny(data, dir.File("given"), "--quality-images", "3", "--guidance", "1.5"));
        var quality = Json(Path.Combine(dir.File("given"), TrainingQuality.FileName));
        ((bool)quality["guidance_chosen"]!).Should().BeFalse();
        quality["measured"]!.AsArray().Should().ContainSingle();
        var config = DiffusionCheckpoint.Validate(dir.File("given"));
        config.Sampling!.GuidanceWeight.Should().Be(1.5);
        config.Sampling.GuidanceSelection.Should().BeNull();

        CliInProcess.Succeed(Tiny(data, dir.File("off"), "--quality-images", "0"));
        File.Exists(Path.Combine(dir.File("off"), TrainingQuality.FileName)).Should().BeFalse();
        DiffusionCheckpoint.Validate(dir.File("off")).Sampling!.GuidanceWeight.Should().Be(TrainingDataSource.DefaultGuidance);
    }

    [Fact]
    public void Captions_that_are_not_classes_get_no_judge_and_say_why()
    {
        using var dir = new TempDirectory();
        string root = dir.File("data");
        for (int i = 0; i < 8; i++)
        {
            ImageFiles.Solid(Path.Combine(root, "red square", $"{i}.png"), 16, 16, (byte)(180 + (i * 5)), 20, 0);
            ImageFiles.Solid(Path.Combine(root, "blue square", $"{i}.png"), 16, 16, 0, 20, (byte)(180 + (i * 5)));
        }

        var run = CliProcess.Run(Tiny(root, dir.File("run")), TimeSpan.FromMinutes(2));
        run.Code.Should().Be(0, run.Stderr);
        run.Stdout.Should().Contain("Quality: no judge of samples for this data (2 of the 2 captions have fewer than 10 images").And.Contain("the checkpoint records guidance 1");
    }

    [Theory]
    [InlineData("--quality-every", "5", "--quality-images", "0", "error: --quality-every needs quality measurements*")]
    [InlineData("--quality-images", "5", "--validation-split", "0", "error: --quality-images needs held-out images*")]
    [InlineData("--quality-images", "-1", "--steps", "1", "*--quality-images*")]
    public void Contradicting_quality_options_are_usage_errors_naming_the_option(string a, string b, string c, string d, string message)
    {
        using var dir = new TempDirectory();
        var (code, _, error) = CliInProcess.Run("train", "--data", MakeFolder(dir), "--out", dir.File("run"), a, b, c, d);
        code.Should().Be(ExitCodes.Usage);
        error.Should().Match(message);
    }

    [Fact]
    public void The_default_measures_a_fifth_of_the_run_apart()
    {
        TrainCommand.DefaultQualityEvery(809).Should().Be(162);
        TrainCommand.DefaultQualityEvery(3).Should().Be(1);
        TrainCommand.DefaultQualityEvery(null).Should().Be(100);
        using var dir = new TempDirectory();
        var train = new TrainCommand();
        var settings = train.ReadSettings(train.ParseValid("--data", MakeFolder(dir), "--out", dir.File("run"), "--steps", "50"));
        settings.Quality.Should().Be(new QualitySettings(TrainCommand.DefaultQualityImages, 10, ChooseGuidance: true, FinalStep: 50));
        train.ReadSettings(train.ParseValid("--out", dir.File("run"), "--steps", "50")).Quality.Should().BeNull("the built-in shapes have no held-out images by default");
    }
}
