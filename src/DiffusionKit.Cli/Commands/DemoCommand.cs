using System.Diagnostics;
using System.Globalization;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>diffusionkit demo</c>: trains on the built-in shapes data within a time budget, samples every one of the 48
/// prompts, writes PNGs, grid.png and manifest.jsonl, and prints the prompt adherence.
/// </summary>
internal static class DemoCommand
{
    public const string Usage = """
        diffusionkit demo [--out demo-output] [--time 8m] [--features 64] [--batch 50] [--lr 2e-3] [--lr-schedule cosine] [--warmup 200]
                          [--prediction v_prediction] [--snr-gamma 5] [--ema 0.995] [--precision bf16]
                          [--per-prompt 4] [--sampler dpm-solver-sde|ddim|ddpm|dpm-solver|euler-a] [--steps N] [--guidance 3] [--seed 0] [--threads N]
                          [--encoder bow|learned|minilm] [--hold-out "blue triangle,yellow cross"] (any other train option too)
          Trains (default budget 8 minutes), writes <out>/checkpoint and <out>/samples, prints adherence.
        """;

    /// <summary>The demo's training defaults (chosen from measured runs; see docs/benchmarks.md), overridable by the same train options.</summary>
    internal static IReadOnlyDictionary<string, string> TrainDefaults(string output) => new Dictionary<string, string>
    {
        ["out"] = Path.Combine(output, "checkpoint"),
        ["time"] = "8m",
        ["features"] = "64",
        ["batch"] = "50",
        ["precision"] = "bf16",
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
        var train = new CliArgumentsView(args, TrainDefaults(output));
        var trainSettings = TrainCommand.Parse(train.Arguments);
        var sampler = args.Sampler("sampler", SamplerKind.DpmSolverMultistepSde);
        var sampleSettings = new SampleCommand.Settings(
            Path.Combine(output, "checkpoint"),
            Path.Combine(output, "samples"),
            Data.ShapesCatalog.AllPrompts,
            args.Int("per-prompt", 4, 1, 1000),
            sampler,
            args.OptionalInt("steps", 1),
            args.Double("guidance", Pipeline.PipelineDefaults.DefaultGuidanceScale, 0, 100),
            args.Long("seed", 0),
            Animation: true,
            PrecisionNames.Parse(args.String("precision") ?? "bf16"));
        args.EnsureAllUsed();

        var clock = Stopwatch.StartNew();
        using var cancel = new ConsoleCancellation();
        bool completed = TrainCommand.Train(trainSettings, cancel.Token);
        if (!completed)
        {
            return 130;
        }

        string manifest = SampleCommand.Generate(sampleSettings, cancel.Token);
        var (samples, size) = EvalCommand.Load(manifest);
        EvalCommand.Print(Evaluation.ShapesJudge.Score(samples, size), perPrompt: false);
        EvalCommand.PrintHeldOutSplit(samples, size, TrainCommand.ParseHeldOut(args.String("hold-out")));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demo finished in {clock.Elapsed.TotalMinutes:F1} min; open {Path.GetFullPath(Path.Combine(sampleSettings.Output, "grid.png"))}"));
        return 0;
    }
}
