using System.CommandLine;
using System.Diagnostics;
using DiffusionKit.Checkpoints;
using System.Globalization;
using DiffusionKit.Training;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Scheduling;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>diffusionkit bench-samplers</c>: prompt adherence and wall time of each sampler and step count on one checkpoint,
/// with and without classifier-free guidance, printed as a Markdown table.
/// </summary>
internal sealed class SamplerBenchCommand : CliCommand
{
    /// <summary>Creates the command with its options.</summary>
    public SamplerBenchCommand()
        : base("bench-samplers", "prompt adherence and wall time of each sampler and step count on a checkpoint, as a Markdown table", Explanation)
    {
        foreach (var option in new Option[] { Checkpoint, Out, PerPrompt, Guidance, Seed, Configs, Precision })
        {
            Add(option);
        }

        SetAction(Run);
    }

    /// <summary><c>--checkpoint &lt;folder&gt;</c>.</summary>
    public Option<string> Checkpoint { get; } = CliOptions.RequiredText("--checkpoint", "folder", "the checkpoint folder to evaluate");

    /// <summary><c>--out &lt;folder&gt;</c>.</summary>
    public Option<string> Out { get; } = CliOptions.RequiredText("--out", "folder", "a folder for the generated images (one subfolder per row)");

    /// <summary><c>--per-prompt N</c>.</summary>
    public Option<int> PerPrompt { get; } = CommonOptions.PerPrompt(1000);

    /// <summary><c>--guidance X</c>.</summary>
    public Option<double> Guidance { get; } = CommonOptions.Guidance("the guidance scale of the guided rows (0: unguided rows only)");

    /// <summary><c>--seed N</c>.</summary>
    public Option<long> Seed { get; } = CommonOptions.Seed("seed of the first image (image k uses seed + k)");

    /// <summary><c>--configs "ddim:25,..."</c>.</summary>
    public Option<IReadOnlyList<(SamplerKind Sampler, int Steps)>?> Configs { get; } = CliOptions.Parsed(
        "--configs", "sampler:steps,...", $"the rows: sampler:steps pairs, comma-separated [default: {DefaultConfigs}]", ParseConfigs);

    /// <summary><c>--precision auto|fp32|bf16</c>.</summary>
    public ChoiceOption<Precision> Precision { get; } = CommonOptions.Precision(
        Training.Precision.Auto, "the network's arithmetic (auto times fp32 and bf16 on this machine and uses the faster)");

    private const string DefaultConfigs = "ddpm:500,ddim:10,ddim:25,ddim:50,dpm-solver:10,dpm-solver:20,dpm-solver-sde:10,dpm-solver-sde:20,euler-a:20";

    private const string Explanation = """
        Samples all 48 shapes prompts with each sampler:steps, without guidance and with --guidance, and prints a table of
        colour, shape, size and all-three accuracy and the wall time of each row.
        """;

    private int Run(ParseResult parse)
    {
        string checkpoint = parse.GetValue(Checkpoint)!;
        string output = parse.GetValue(Out)!;
        int perPrompt = parse.GetValue(PerPrompt);
        double guidance = parse.GetValue(Guidance);
        long seed = parse.GetValue(Seed);
        var precision = Precision.Read(parse);
        var configs = parse.GetValue(Configs) ?? ParseConfigs(DefaultConfigs);

        // A bad or oversized checkpoint is refused here, before libtorch loads.
        DiffusionCheckpoint.Validate(checkpoint);
        TorchRuntime.Start(threads: null);

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
        return ExitCodes.Success;
    }

    private static IReadOnlyList<(SamplerKind Sampler, int Steps)> ParseConfigs(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseConfig).ToList();

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
