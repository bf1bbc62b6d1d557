using System.Text.Json;
using DiffusionKit.Cli;
using DiffusionKit.Cli.Commands;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Tests.Checkpoints;
using FluentAssertions;
using Xunit;

namespace DiffusionKit.Tests.Cli;

/// <summary>train → sample → eval as a user runs them, at a tiny size.</summary>
public sealed class CliEndToEndTests
{
    [Fact]
    public void Train_sample_and_eval_write_a_checkpoint_pngs_a_grid_and_a_manifest()
    {
        using var dir = new TempDirectory();
        string checkpoint = dir.File("ckpt");
        string samples = dir.File("samples");

        CliInProcess.Succeed(["train", "--out", checkpoint, "--steps", "3", "--batch", "8", "--features", "8", "--count", "64", "--threads", "2",
            "--sample-every", "3", "--sample-prompts", "a red circle"]);
        string current = DiffusionKit.Checkpoints.CheckpointDirectory.Resolve(checkpoint);
        current.Should().Be(Path.Combine(checkpoint, "step-0000003"), "the final checkpoint is a step folder that 'latest' names");
        File.Exists(Path.Combine(current, "config.json")).Should().BeTrue();
        File.Exists(Path.Combine(current, "model.safetensors")).Should().BeTrue();

        // --sample-every writes one labelled grid per sample step: 4 images of 16 px upscaled to 64, 2 px padding, a caption band of 2 lines.
        Directory.EnumerateFileSystemEntries(Path.Combine(checkpoint, "samples")).Select(Path.GetFileName).Should().Equal("step-0000003.png");
        var trainingGrid = PngDecoder.Load(Path.Combine(checkpoint, "samples", "step-0000003.png"));
        (trainingGrid.Width, trainingGrid.Height).Should().Be((2 + (4 * (64 + 2)), 2 + 64 + 18 + 2));

        CliInProcess.Succeed(["sample", "--checkpoint", checkpoint, "--out", samples, "--prompt", "a large red circle", "--prompt", "a small blue square",
            "--per-prompt", "2", "--sampler", "dpm-solver", "--steps", "3", "--seed", "5", "--animation"]);

        var lines = File.ReadAllLines(Path.Combine(samples, "manifest.jsonl"));
        lines.Should().HaveCount(4);
        var entries = lines.Select(l => JsonDocument.Parse(l).RootElement).ToList();
        entries.Select(e => e.EnumerateObject().Select(p => p.Name).ToArray()).Should().AllSatisfy(names => names.Should().Equal("file", "prompt", "seed"));
        entries.Select(e => e.GetProperty("prompt").GetString()).Should().Equal("a large red circle", "a large red circle", "a small blue square", "a small blue square");
        entries.Select(e => e.GetProperty("seed").GetInt64()).Should().Equal(5, 6, 7, 8);
        entries.Should().AllSatisfy(e => File.Exists(Path.Combine(samples, e.GetProperty("file").GetString()!)).Should().BeTrue());
        File.Exists(Path.Combine(samples, "grid.png")).Should().BeTrue();
        File.Exists(Path.Combine(samples, "denoising.gif")).Should().BeTrue();

        var report = EvalCommand.Score(Path.Combine(samples, "manifest.jsonl"));
        report.Count.Should().Be(4);
        report.AllAccuracy.Should().BeInRange(0, 1);
    }

    [Fact]
    public void Sampling_is_reproducible_from_the_manifest_seed()
    {
        using var dir = new TempDirectory();
        string checkpoint = dir.File("ckpt");
        CliInProcess.Succeed(["train", "--out", checkpoint, "--steps", "2", "--batch", "8", "--features", "8", "--count", "32"]);

        foreach (string run in new[] { "a", "b" })
        {
            CliInProcess.Succeed(["sample", "--checkpoint", checkpoint, "--out", dir.File(run), "--prompt", "a small green cross", "--steps", "2", "--seed", "11", "--precision", "fp32"]);
        }

        var first = Directory.GetFiles(dir.File("a"), "0*.png").Order().Select(File.ReadAllBytes).ToList();
        var second = Directory.GetFiles(dir.File("b"), "0*.png").Order().Select(File.ReadAllBytes).ToList();
        first.Should().HaveCount(4);
        first.Zip(second).Should().AllSatisfy(p => p.First.Should().Equal(p.Second));
    }

    [Fact]
    public void An_unknown_encoder_or_word_fails_with_a_clear_message()
    {
        using var dir = new TempDirectory();
        CliInProcess.Run(["train", "--out", dir.File("x"), "--steps", "1", "--encoder", "gpt"]).Error.Should().Match("error: --encoder must be one of bow, learned, minilm*");

        string checkpoint = dir.File("ckpt");
        CliInProcess.Succeed(["train", "--out", checkpoint, "--steps", "1", "--batch", "8", "--features", "8", "--count", "16"]);
        var unknownWord = CliInProcess.Run(["sample", "--checkpoint", checkpoint, "--out", dir.File("s"), "--prompt", "a purple circle"]);
        unknownWord.Code.Should().Be(ExitCodes.Usage, "a word the checkpoint does not know is a usage error");
        unknownWord.Error.Should().Contain("purple");
    }

    [Fact]
    public void Reworded_prompts_keep_their_caption_for_eval_and_hold_out_splits_the_report()
    {
        using var dir = new TempDirectory();
        string checkpoint = dir.File("ckpt");
        string samples = dir.File("samples");
        CliInProcess.Succeed(["train", "--out", checkpoint, "--steps", "1", "--batch", "8", "--features", "8", "--count", "16", "--encoder", "learned", "--encoder-dim", "8"]);

        CliInProcess.Succeed(["sample", "--checkpoint", checkpoint, "--out", samples, "--prompt", "a large red circle", "--prompt", "a small blue triangle",
            "--per-prompt", "1", "--steps", "2", "--reword", "large=big,small=tiny"]);

        string manifest = Path.Combine(samples, "manifest.jsonl");
        var entries = File.ReadAllLines(manifest).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        entries.Select(e => e.GetProperty("prompt").GetString()).Should().Equal("a big red circle", "a tiny blue triangle");
        entries.Select(e => e.GetProperty("caption").GetString()).Should().Equal("a large red circle", "a small blue triangle");
        EvalCommand.Load(manifest).Samples.Select(s => s.Caption).Should().Equal("a large red circle", "a small blue triangle");
        CliInProcess.Succeed(["eval", "--manifest", manifest, "--hold-out", "blue triangle"]);
        CliInProcess.Run(["eval", "--manifest", manifest, "--hold-out", "green cross"]).Error.Should().Match("error: --hold-out leaves 0 held-out*");
        ((Action)(() => SampleCommand.ParseRewording("large=big=huge"))).Should().Throw<CliUsageException>().WithMessage("*large=big*");
        ((Action)(() => SampleCommand.ParseRewording("large=big,large=huge"))).Should().Throw<CliUsageException>().WithMessage("*twice*");
    }
}
