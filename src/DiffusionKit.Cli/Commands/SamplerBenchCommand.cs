using System.Diagnostics;
using System.Globalization;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Scheduling;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>diffusionkit bench-samplers</c>: prompt adherence and wall time of each sampler and step count on one checkpoint,
/// with and without classifier-free guidance, printed as a Markdown table.
/// </summary>
internal static class SamplerBenchCommand
{
    public const string Usage = """
        diffusionkit bench-samplers --checkpoint <folder> --out <folder> [--per-prompt 4] [--guidance 3] [--seed 0]
                                    [--configs "ddpm:500,ddim:10,ddim:25,ddim:50,dpm-solver:10,dpm-solver:20,dpm-solver-sde:10,dpm-solver-sde:20,euler-a:20"] [--precision auto|fp32|bf16]
          Samples all 48 shapes prompts with each sampler:steps, without guidance and with --guidance, and prints a table.
        """;

    public static int Run(CliArguments args)
    {
        string checkpoint = args.Required("checkpoint", "the checkpoint folder to evaluate");
        string output = args.Required("out", "a folder for the generated images");
        int perPrompt = args.Int("per-prompt", 4, 1, 1000);
        double guidance = args.Double("guidance", Pipeline.PipelineDefaults.DefaultGuidanceScale, 0, 100);
        long seed = args.Long("seed", 0);
        var precision = PrecisionNames.Parse(args.String("precision"));
        var configs = (args.String("configs") ?? "ddpm:500,ddim:10,ddim:25,ddim:50,dpm-solver:10,dpm-solver:20,dpm-solver-sde:10,dpm-solver-sde:20,euler-a:20")
            .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(ParseConfig)
            .ToList();
        args.EnsureAllUsed();

        var inv = CultureInfo.InvariantCulture;
        var rows = new List<string>
        {
            "| sampler | steps | guidance | colour | shape | size | all three | wall time (s) |",
            "|---|---|---|---|---|---|---|---|",
        };
        using var cancel = new ConsoleCancellation();
        foreach (var (algorithm, steps) in configs)
        {
            foreach (double w in guidance > 0 ? new[] { 0.0, guidance } : new[] { 0.0 })
            {
                string folder = Path.Combine(output, string.Create(inv, $"{Scheduling.SchedulerNames.ShortName(algorithm)}-{steps}-g{w}"));
                var settings = new SampleCommand.Settings(checkpoint, folder, ShapesCatalog.AllPrompts, perPrompt, algorithm, steps, w, seed, Animation: false, precision);
                var clock = Stopwatch.StartNew();
                string manifest = SampleCommand.Generate(settings, cancel.Token);
                clock.Stop();
                var report = EvalCommand.Score(manifest);
                string row = string.Create(inv, $"| {Scheduling.SchedulerNames.ShortName(algorithm)} | {steps} | {w} | {report.ColorAccuracy:F3} | {report.KindAccuracy:F3} | {report.SizeAccuracy:F3} | {report.AllAccuracy:F3} | {clock.Elapsed.TotalSeconds:F1} |");
                rows.Add(row);
                Console.WriteLine(row);
            }
        }

        Console.WriteLine();
        Console.WriteLine(string.Join(Environment.NewLine, rows));
        return 0;
    }

    private static (SamplerKind, int) ParseConfig(string text)
    {
        var parts = text.Split(':');
        if (parts.Length != 2 || !int.TryParse(parts[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int steps) || steps < 1)
        {
            throw new CliUsageException($"--configs entries look like ddim:25 (sampler:steps), not '{text}'.");
        }

        return Scheduling.SchedulerNames.TryParseSampler(parts[0], out var sampler)
            ? (sampler, steps)
            : throw new CliUsageException($"--configs samplers must be one of {Scheduling.SchedulerNames.AllowedSamplerNames}, not '{parts[0]}'.");
    }
}
