using System.Xml.Linq;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Tests.Data;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary><c>train --data &lt;folder&gt;</c>'s held-out validation loss, <c>metrics.jsonl</c> and <c>loss.svg</c>, on tiny real runs.</summary>
public sealed class ValidationLossTests
{
    private static string MakeFolder(TempDirectory dir)
    {
        string root = dir.File("data");
        for (int i = 0; i < 10; i++)
        {
            ImageFiles.Solid(Path.Combine(root, "red square", $"{i}.png"), 16, 16, (byte)(180 + (i * 5)), 20, 0);
            ImageFiles.Solid(Path.Combine(root, "blue square", $"{i}.png"), 16, 16, 0, 20, (byte)(180 + (i * 5)));
        }

        return root;
    }

    /// <summary>A tiny deterministic run: 20 images (2 held out), n_feat 8, constant learning rate without warm-up, no EMA, fp32.</summary>
    private static string[] Tiny(string data, string output, int steps) =>
    [
        "train", "--data", data, "--out", output, "--steps", steps.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--batch", "6", "--features", "8", "--lr", "5e-3", "--warmup", "0", "--lr-schedule", "constant", "--ema", "0",
        "--precision", "fp32", "--validation-split", "0.1", "--validate-every", "5", "--save-every", "5", "--keep", "10",
    ];

    private static List<MetricsRecord> Metrics(string output)
    {
        var lines = File.ReadAllLines(Path.Combine(output, TrainingMetrics.FileName));
        var records = lines.Select(MetricsRecord.Parse).ToList();
        records.Should().NotContainNulls("every line of metrics.jsonl parses");
        return records!;
    }

    [Fact]
    public void The_validation_loss_is_deterministic_falls_with_training_and_is_logged_and_drawn()
    {
        using var dir = new TempDirectory();
        string data = MakeFolder(dir);

        CliInProcess.Succeed(Tiny(data, dir.File("a"), 20));
        CliInProcess.Succeed(Tiny(data, dir.File("b"), 20));

        var a = Metrics(dir.File("a"));
        var b = Metrics(dir.File("b"));
        a.Should().Equal(b, "the same seed gives the same losses, validation included");
        a.Select(r => r.Step).Should().Equal(Enumerable.Range(0, 21), "one line per step, plus the starting weights' validation at step 0");
        a.Where(r => r.ValidationLoss is not null).Select(r => r.Step).Should().Equal(0, 5, 10, 15, 20);
        a.Skip(1).Should().OnlyContain(r => r.Loss > 0 && r.StepLoss > 0 && r.LearningRate == 5e-3);
        a[^1].ValidationLoss.Should().BeLessThan(a[0].ValidationLoss!.Value * 0.8, "20 steps on solid colours denoise the held-out images better than the initial weights");

        var svg = XDocument.Load(Path.Combine(dir.File("a"), TrainingMetrics.ChartFileName));
        XNamespace ns = "http://www.w3.org/2000/svg";
        svg.Root!.Name.Should().Be(ns + "svg");
        svg.Nodes().OfType<XComment>().Should().ContainSingle().Which.Value.Should().Contain("no plotting package");
        var groups = svg.Descendants(ns + "g").ToDictionary(g => (string)g.Attribute("id")!);
        groups["training-loss"].Element(ns + "polyline")!.Attribute("points")!.Value.Split(' ').Should().HaveCount(20);
        groups["validation-loss"].Elements(ns + "circle").Should().HaveCount(5);
        svg.Descendants(ns + "text").Select(t => t.Value).Should().Contain(["step", "loss (log scale)", "training loss (smoothed)", "validation loss"]);
    }

    [Fact]
    public void A_resumed_run_continues_metrics_jsonl_without_duplicating_or_losing_lines()
    {
        using var dir = new TempDirectory();
        string data = MakeFolder(dir);
        CliInProcess.Succeed(Tiny(data, dir.File("whole"), 20));

        // A run that reached step 10, then was killed after logging step 11 and part of step 12 (past its last checkpoint).
        string run = dir.File("run");
        CliInProcess.Succeed(Tiny(data, run, 10));
        File.AppendAllText(Path.Combine(run, TrainingMetrics.FileName), "{\"step\":11,\"loss\":9,\"step_loss\":9,\"lr\":0.005}\n{\"step\":12,\"lo");
        CliInProcess.Succeed([.. Tiny(data, run, 20), "--resume", run]);

        Metrics(run).Should().Equal(Metrics(dir.File("whole")), "the resumed run drops the lines past its checkpoint and logs steps 11..20 once, as the uninterrupted run did");
        XDocument.Load(Path.Combine(run, TrainingMetrics.ChartFileName)).Root!.Name.LocalName.Should().Be("svg");
    }

    [Theory]
    [InlineData("-0.1")]
    [InlineData("0.9")]
    [InlineData("many")]
    public void Bad_validation_splits_are_usage_errors_naming_the_option(string value)
    {
        using var dir = new TempDirectory();
        string data = MakeFolder(dir);

        var (code, _, error) = CliInProcess.Run("train", "--data", data, "--out", dir.File("c"), "--validation-split", value);
        code.Should().Be(global::DiffusionKit.Cli.ExitCodes.Usage);
        error.Should().Match("error: --validation-split must be a number in [0, 0.5]*");
    }

    [Fact]
    public void A_folder_holds_out_5_percent_by_default_and_0_turns_it_off()
    {
        using var dir = new TempDirectory();
        string data = MakeFolder(dir);
        var train = new TrainCommand();

        var byDefault = train.ReadSettings(train.ParseValid("--data", data, "--out", dir.File("c")));
        byDefault.Validation!.Count.Should().Be(1, "5% of 20 images");
        byDefault.Data.Count.Should().Be(19, "the held-out image is not trained on");
        byDefault.Trainer.ValidateEvery.Should().Be(TrainingMetrics.DefaultValidateEvery(byDefault.Trainer.Steps));

        var off = train.ReadSettings(train.ParseValid("--data", data, "--out", dir.File("c"), "--validation-split", "0"));
        off.Validation.Should().BeNull();
        off.Data.Count.Should().Be(20);
        off.Trainer.ValidateEvery.Should().BeNull();

        train.ReadSettings(train.ParseValid("--out", dir.File("c"))).Validation.Should().BeNull("the built-in shapes hold nothing out unless asked");
        CliInProcess.Run("train", "--help").Output.Split('\n').Should().Contain(l => l.Contains("--validation-split") && l.Contains("with --data <folder>: 0.05"));
        CliInProcess.Run("train", "--data", data, "--out", dir.File("c"), "--validation-split", "0", "--validate-every", "5").Error
            .Should().Match("error: --validate-every needs held-out images*");
    }
}
