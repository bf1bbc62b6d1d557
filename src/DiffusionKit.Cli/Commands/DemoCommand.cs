using System.CommandLine;
using System.Diagnostics;
using System.Globalization;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// <c>diffusionkit demo</c>: trains on the built-in shapes data for a fixed number of steps (the same model on every
/// machine; only the wall time differs), samples every one of the 48 prompts, writes PNGs, grid.png and manifest.jsonl,
/// and prints the prompt adherence.
/// </summary>
internal sealed class DemoCommand : CliCommand
{
    /// <summary>Creates the command with its options: the training options with the demo's defaults, then sampling's.</summary>
    public DemoCommand()
        : base("demo", "train on the built-in shapes, sample all 48 prompts, write PNGs, grid.png and manifest.jsonl, print the prompt adherence", Explanation)
    {
        Add(Out);
        foreach (var option in Training.All)
        {
            Add(option);
        }

        Add(PerPrompt);
        Add(Sampler);
        Add(SampleSteps);
        Add(Guidance);
        SetAction(Run);
    }

    /// <summary>The training options, with <see cref="TrainingDefaults.Demo"/>.</summary>
    public TrainingOptions Training { get; } = new(TrainingDefaults.Demo);

    /// <summary><c>--out &lt;folder&gt;</c>.</summary>
    public Option<string?> Out { get; } = CliOptions.Text("--out", "folder", "the output folder: <out>/checkpoint and <out>/samples", "demo-output");

    /// <summary><c>--per-prompt N</c>.</summary>
    public Option<int> PerPrompt { get; } = CommonOptions.PerPrompt(1000);

    /// <summary><c>--sampler ...</c>.</summary>
    public ChoiceOption<SamplerKind> Sampler { get; } = CommonOptions.Sampler(DiffusionKit.Pipeline.PipelineDefaults.DefaultSampler, "the sampling algorithm");

    /// <summary><c>--sample-steps N</c>.</summary>
    public Option<int?> SampleSteps { get; } = CliOptions.OptionalInteger("--sample-steps", "denoising steps [default: the sampler's, 20 for dpm-solver-sde]", 1);

    /// <summary><c>--guidance X</c>.</summary>
    public Option<double> Guidance { get; } = CommonOptions.Guidance("classifier-free guidance scale (0: none)");

    private const string Explanation = """
        Trains for a fixed number of steps, so every machine trains the same model and only the wall time differs; --time or
        --epochs instead of --steps replace the step budget, --time with --steps caps it. Writes <out>/checkpoint (as
        'train' does) and <out>/samples (as 'sample --all-shapes --animation' does), then prints the adherence as 'eval' does.
        --seed and --precision apply to training and sampling; --hold-out leaves combinations out of training and reports them
        separately.
        """;

    /// <summary>The training settings the demo's options give (the train command with the demo's defaults, writing to &lt;out&gt;/checkpoint).</summary>
    /// <param name="parse">A parse result of this command without errors.</param>
    /// <returns>The settings.</returns>
    internal TrainCommand.Settings ReadTrainSettings(ParseResult parse)
    {
        var train = new TrainCommand(TrainingDefaults.Demo);
        var trainParse = train.Parse([.. parse.GivenArguments(Training.All), "--out", CheckpointFolder(parse)]);
        return trainParse.Errors.Count == 0
            ? train.ReadSettings(trainParse)
            : throw new InvalidOperationException($"The demo's options did not parse as train options: {trainParse.Errors[0].Message}");
    }

    private string CheckpointFolder(ParseResult parse) => Path.Combine(parse.GetValue(Out)!, "checkpoint");

    private int Run(ParseResult parse)
    {
        string output = parse.GetValue(Out)!;
        TorchRuntime.Start(parse.GetValue(Training.Threads));
        var trainSettings = Native.OpenMpThreads.RunOnTransientThread(() => ReadTrainSettings(parse));
        var sampleSettings = new SampleCommand.Settings(
            CheckpointFolder(parse),
            Path.Combine(output, "samples"),
            Demo.Shapes.ShapesCatalog.AllPrompts,
            parse.GetValue(PerPrompt),
            Sampler.Read(parse),
            parse.GetValue(SampleSteps),
            parse.GetValue(Guidance),
            parse.GetValue(Training.Seed),
            Animation: true,
            Training.Precision.Read(parse));

        var clock = Stopwatch.StartNew();
        using var cancel = new ConsoleCancellation();
        // Data and training on a thread that ends before sampling: the engine thread's OpenMP pool is then the only one.
        bool completed = Native.OpenMpThreads.RunOnTransientThread(() => TrainCommand.Train(trainSettings, cancel.Token));
        if (!completed)
        {
            return cancel.ExitCode;
        }

        string manifest = SampleCommand.Generate(sampleSettings, cancel.Token);
        var (samples, size) = EvalCommand.Load(manifest);
        EvalCommand.Print(Demo.Evaluation.ShapesJudge.Score(samples, size), perPrompt: false);
        EvalCommand.PrintHeldOutSplit(samples, size, parse.ReadHeldOut(Training.HoldOut));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"demo finished in {clock.Elapsed.TotalMinutes:F1} min; open {Path.GetFullPath(Path.Combine(sampleSettings.Output, "grid.png"))}"));
        return ExitCodes.Success;
    }
}
