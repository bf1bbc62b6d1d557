using System.Diagnostics;
using System.Globalization;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>diffusionkit demo</c>: trains on the built-in shapes data for a fixed number of steps (the same model on every
/// machine; only the wall time differs), samples every one of the 48 prompts, writes PNGs, grid.png and manifest.jsonl,
/// and prints the prompt adherence.
/// </summary>
internal static class DemoCommand
{
    public static string Usage { get; } = $"""
        diffusionkit demo [--out demo-output] [--steps {DefaultSteps}] [--time 8m] [--features {DefaultFeatures}] [--batch 50] [--lr 2e-3] [--lr-schedule cosine] [--warmup 200]
                          [--prediction v_prediction] [--snr-gamma 5] [--ema 0.995] [--precision auto|fp32|bf16]
                          [--per-prompt 4] [--sampler dpm-solver-sde|ddim|ddpm|dpm-solver|euler-a] [--sample-steps N] [--guidance 3] [--seed 0] [--threads N]
                          [--encoder bow|learned|minilm] [--hold-out "blue triangle,yellow cross"] (any other train option too)
          Trains for {DefaultSteps} steps (--time or --epochs instead of --steps replace the step budget; --time with --steps caps it),
          writes <out>/checkpoint and <out>/samples, prints adherence. --precision auto (default) times fp32 and bf16 on this
          machine and uses the faster.
        """;

    /// <summary>Optimiser steps the demo trains for: a fixed budget, so every machine trains the same model (docs/benchmarks.md).</summary>
    internal const int DefaultSteps = 4000;

    /// <summary>The demo network's width (n_feat).</summary>
    internal const int DefaultFeatures = 32;

    /// <summary>The demo's training defaults (chosen from measured runs; see docs/benchmarks.md), overridable by the same train options.</summary>
    internal static IReadOnlyDictionary<string, string> TrainDefaults(string output) => new Dictionary<string, string>
    {
        ["out"] = Path.Combine(output, "checkpoint"),
        ["steps"] = DefaultSteps.ToString(CultureInfo.InvariantCulture),
        ["features"] = DefaultFeatures.ToString(CultureInfo.InvariantCulture),
        ["batch"] = "50",
        ["lr"] = "2e-3",
        ["lr-schedule"] = "cosine",
        ["warmup"] = "200",
        ["prediction"] = "v_prediction",
        ["snr-gamma"] = "5",
        ["ema"] = "0.995",
    };

    public static int Run(CliArguments args)
    {
        string output = args.String("out") ?? "demo-output";
        var defaults = new Dictionary<string, string>(TrainDefaults(output));
        if (args.String("steps") is null && (args.String("time") is not null || args.String("epochs") is not null))
        {
            // The user chose another budget: it replaces the step budget rather than racing it.
            defaults.Remove("steps");
        }

        var train = new CliArgumentsView(args, defaults);
        var trainSettings = TrainCommand.Parse(train.Arguments);
        var sampler = args.Sampler("sampler", SamplerKind.DpmSolverMultistepSde);
        var sampleSettings = new SampleCommand.Settings(
            Path.Combine(output, "checkpoint"),
            Path.Combine(output, "samples"),
            Demo.Shapes.ShapesCatalog.AllPrompts,
            args.Int("per-prompt", 4, 1, 1000),
            sampler,
            args.OptionalInt("sample-steps", 1),
            args.Double("guidance", Pipeline.PipelineDefaults.DefaultGuidanceScale, 0, 100),
            args.Long("seed", 0),
            Animation: true,
            PrecisionNames.Parse(args.String("precision")));
        args.EnsureAllUsed();

        var clock = Stopwatch.StartNew();
        using var cancel = new ConsoleCancellation();
        bool completed = TrainCommand.Train(trainSettings, cancel.Token);
        if (!completed)
        {
            return cancel.ExitCode;
        }

        string manifest = SampleCommand.Generate(sampleSettings, cancel.Token);
        var (samples, size) = EvalCommand.Load(manifest);
        EvalCommand.Print(Demo.Evaluation.ShapesJudge.Score(samples, size), perPrompt: false);
        EvalCommand.PrintHeldOutSplit(samples, size, TrainCommand.ParseHeldOut(args.String("hold-out")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demo finished in {clock.Elapsed.TotalMinutes:F1} min; open {Path.GetFullPath(Path.Combine(sampleSettings.Output, "grid.png"))}"));
        return 0;
    }
}
