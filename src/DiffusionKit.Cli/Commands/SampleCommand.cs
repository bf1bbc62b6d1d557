using System.CommandLine;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Pipeline;
using System.Globalization;
using System.Text.Json;
using DiffusionKit.Checkpoints;
using DiffusionKit.Imaging;
using DiffusionKit.Models;
using DiffusionKit.Sampling;
using DiffusionKit.Training;
using DiffusionKit.TextEncoders.MiniLM;
using DiffusionKit.Scheduling;

namespace DiffusionKit.Cli.Commands;

/// <summary><c>diffusionkit sample</c>: generates images from a checkpoint; writes one PNG per image, grid.png and manifest.jsonl.</summary>
internal sealed class SampleCommand : CliCommand
{
    /// <summary>Creates the command with its options.</summary>
    public SampleCommand()
        : base("sample", "generate images from a checkpoint: one PNG per image, grid.png and manifest.jsonl", Explanation)
    {
        foreach (var option in new Option[] { Checkpoint, Out, Prompt, AllShapes, PerPrompt, Sampler, Steps, Guidance, Seed, Animation, Threads, Precision, Reword, MaxBatch })
        {
            Add(option);
        }

        SetAction(Run);
    }

    /// <summary><c>--checkpoint &lt;folder&gt;</c>.</summary>
    public Option<string> Checkpoint { get; } = CliOptions.RequiredText(
        "--checkpoint", "folder", "the checkpoint folder written by 'diffusionkit train' (or its output folder: the newest checkpoint)");

    /// <summary><c>--out &lt;folder&gt;</c>.</summary>
    public Option<string> Out { get; } = CliOptions.RequiredText("--out", "folder", "the folder for the PNGs, grid.png and manifest.jsonl");

    /// <summary><c>--prompt "a large red circle"</c>, repeatable.</summary>
    public Option<string[]> Prompt { get; } = CliOptions.Repeated("--prompt", "text", "a prompt (repeat for several)");

    /// <summary><c>--all-shapes</c>.</summary>
    public Option<bool> AllShapes { get; } = CliOptions.Flag("--all-shapes", "add the 48 shapes prompts");

    /// <summary><c>--per-prompt N</c>.</summary>
    public Option<int> PerPrompt { get; } = CommonOptions.PerPrompt(10_000);

    /// <summary><c>--sampler ddim|...</c>.</summary>
    public ChoiceOption<SamplerKind> Sampler { get; } = CommonOptions.Sampler(PipelineDefaults.DefaultSampler, "the sampling algorithm");

    /// <summary><c>--steps N</c>.</summary>
    public Option<int?> Steps { get; } = CliOptions.OptionalInteger(
        "--steps", "denoising steps [default: the sampler's: 25 for ddim, 20 for dpm-solver, dpm-solver-sde and euler-a, T (500) for ddpm]", 1);

    /// <summary><c>--guidance X</c>.</summary>
    public Option<double?> Guidance { get; } = CommonOptions.OptionalGuidance("classifier-free guidance scale (0: none) [default: the checkpoint's recommendation (1 for models trained with --data), else 3]");

    /// <summary><c>--seed N</c>.</summary>
    public Option<long> Seed { get; } = CommonOptions.Seed("seed of the first image; image k (in prompt order) uses seed + k, so it is the same alone or batched");

    /// <summary><c>--animation</c>.</summary>
    public Option<bool> Animation { get; } = CliOptions.Flag("--animation", "also write denoising.gif, the first prompt's image through the steps");

    /// <summary><c>--threads N</c>.</summary>
    public Option<int?> Threads { get; } = CommonOptions.Threads();

    /// <summary><c>--precision auto|fp32|bf16</c>.</summary>
    public ChoiceOption<Precision> Precision { get; } = CommonOptions.Precision(
        Training.Precision.Auto, "the network's arithmetic: bf16 samples with a bfloat16 copy; auto times fp32 and bf16 forward passes once per machine and network (remembered in ~/.cache/diffusionkit) and takes bf16 only when over 1.15x faster");

    /// <summary><c>--reword "large=big,small=tiny"</c>.</summary>
    public Option<IReadOnlyDictionary<string, string>?> Reword { get; } = CliOptions.Parsed(
        "--reword", "from=to,...", "replace whole words of every prompt (to try words never seen in training); the manifest keeps the original as \"caption\"", ParseRewording);

    /// <summary><c>--max-batch N</c>.</summary>
    public Option<int?> MaxBatch { get; } = CliOptions.OptionalInteger("--max-batch", $"images sampled together at most (default: {BatchPixels / (16 * 16)} at 16x16 px, proportionally fewer for larger images)", 1, 100_000);

    /// <summary>
    /// The default batch, in image pixels: 192 images of 16×16 (the demo's 48 prompts × 4 in one batch). On the 2-core
    /// project machine larger batches sampled faster per image up to that size (docs/benchmarks.md, "Batched sampling");
    /// keeping the pixels per batch fixed bounds the activations' memory for larger models' images.
    /// </summary>
    internal const int BatchPixels = 192 * 16 * 16;

    /// <summary>The default <c>--max-batch</c> for images of <paramref name="imageSize"/> pixels a side.</summary>
    internal static int DefaultMaxBatch(int imageSize) => Math.Clamp(BatchPixels / (imageSize * imageSize), 1, 192);

    /// <summary>What one <c>sample</c> run does.</summary>
    /// <remarks>
    /// <paramref name="DenoiserTypes"/>: the denoiser types the checkpoint may name besides the built-in
    /// <see cref="ContextUnetType"/> (passed to the loader and the pipeline builder, the same registry
    /// <see cref="DiffusionPipelineBuilder.UseDenoiserType"/> fills). The command line registers none, so a checkpoint of
    /// another <c>model.type</c> is refused with the registry's message (exit code 3, invalid data); a host that
    /// embeds the command, and the tests, pass their own types.
    /// </remarks>
    internal sealed record Settings(string Checkpoint, string Output, IReadOnlyList<string> Prompts, int PerPrompt, SamplerKind Sampler, int? Steps, double? Guidance, long Seed, bool Animation, Precision Precision = DiffusionKit.Training.Precision.Float32, IReadOnlyDictionary<string, string>? Rewording = null, int? MaxBatchImages = null, IReadOnlyList<DenoiserType>? DenoiserTypes = null)
    {
        /// <summary>The registered denoiser types (none by default: the built-in one only).</summary>
        public IReadOnlyList<DenoiserType> Types => DenoiserTypes ?? [];
    }

    private const string Explanation = """
        All images are sampled together in batches of up to --max-batch images; image k (in prompt order) uses its own seed,
        seed + k, so it is the same alone or batched. manifest.jsonl lines are {"file", "prompt", "seed"}, plus "caption"
        (the original prompt, which eval judges against) when --reword changed the prompt.
        The checkpoint (config.json and the weights' headers) is checked before libtorch loads, so a bad or oversized
        checkpoint fails at once with a message naming the file and the field.
        """;

    /// <summary>The settings the options give (the checkpoint is not read yet).</summary>
    /// <param name="parse">A parse result of this command without errors.</param>
    /// <returns>The settings.</returns>
    /// <exception cref="CliUsageException">When no prompt is given.</exception>
    internal Settings ReadSettings(ParseResult parse)
    {
        var prompts = parse.GetValue(Prompt)!.ToList();
        if (parse.GetValue(AllShapes))
        {
            prompts.AddRange(ShapesCatalog.AllPrompts);
        }

        if (prompts.Count == 0)
        {
            throw new CliUsageException("Give at least one --prompt, or --all-shapes for the 48 shapes prompts.");
        }

        return new Settings(
            parse.GetValue(Checkpoint)!,
            parse.GetValue(Out)!,
            prompts,
            parse.GetValue(PerPrompt),
            Sampler.Read(parse),
            parse.GetValue(Steps),
            parse.GetValue(Guidance),
            parse.GetValue(Seed),
            parse.GetValue(Animation),
            Precision.Read(parse),
            parse.GetValue(Reword),
            parse.GetValue(MaxBatch));
    }

    private int Run(ParseResult parse)
    {
        var settings = ReadSettings(parse);

        // A bad or oversized checkpoint is refused here, from config.json and the weights' headers, before libtorch loads.
        DiffusionCheckpoint.Validate(settings.Checkpoint, settings.Types);
        TorchRuntime.Start(parse.GetValue(Threads));
        using var cancel = new ConsoleCancellation();
        Generate(settings, cancel.Token);
        return ExitCodes.Success;
    }

    /// <summary>Parses <c>--reword "from=to,..."</c> (whole words, case-sensitive).</summary>
    /// <exception cref="CliUsageException">When an entry is not one word = one word, or a word is given twice.</exception>
    internal static IReadOnlyDictionary<string, string> ParseRewording(string text)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string pair in text.Split(',', StringSplitOptions.TrimEntries))
        {
            string[] sides = pair.Split('=', StringSplitOptions.TrimEntries);
            if (sides.Length != 2 || sides[0].Length == 0 || sides[1].Length == 0 || sides[0].Contains(' ', StringComparison.Ordinal) || sides[1].Contains(' ', StringComparison.Ordinal))
            {
                throw new CliUsageException($"--reword entries look like large=big (one word each side, comma-separated), not '{pair}'.");
            }

            if (!map.TryAdd(sides[0], sides[1]))
            {
                throw new CliUsageException($"--reword names '{sides[0]}' twice.");
            }
        }

        return map;
    }

    /// <summary>Replaces whole words of <paramref name="prompt"/> by the rewording map.</summary>
    internal static string ApplyRewording(string prompt, IReadOnlyDictionary<string, string>? map) =>
        map is null ? prompt : string.Join(' ', prompt.Split(' ').Select(w => map.TryGetValue(w, out var to) ? to : w));

    /// <summary>
    /// Generates and writes everything through the pipeline (the one generation engine: all images in shared batches,
    /// each with its own seed); returns the manifest path. PNG files are written while later batches sample.
    /// </summary>
    internal static string Generate(Settings settings, CancellationToken cancellationToken)
        => GenerateAsync(settings, cancellationToken).GetAwaiter().GetResult();

    private static async Task<string> GenerateAsync(Settings settings, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        // Any registered denoiser type (the loader's registry refuses others, naming the registered ones); the network's
        // sizes come from its type's validation of the model section, not from one architecture's options.
        var config = DiffusionCheckpoint.ReadConfig(settings.Checkpoint, settings.Types);
        var shape = DenoiserType.BuiltIn.Concat(settings.Types).First(t => t.Name == config.Model.Type).Validate(config.Model);
        int trainTimesteps = config.Scheduler.TrainTimesteps;
        int steps = settings.Steps ?? SchedulerOptions.DefaultInferenceSteps(settings.Sampler, trainTimesteps);
        int total = settings.Prompts.Count * settings.PerPrompt;
        var defaults = new PipelineLimits();
        var limits = new PipelineLimits { MaxImagesPerRequest = total, MaxQueuedImages = total, MaxSteps = Math.Max(steps, defaults.MaxSteps), MaxBatchImages = settings.MaxBatchImages ?? DefaultMaxBatch(shape.ImageSize) };
        var builder = new DiffusionPipelineBuilder()
            .UseCheckpointTextEncoderFactory(MiniLmTextEncoder.FromCheckpointConfig)
            .FromCheckpoint(settings.Checkpoint)
            .UseSampler(settings.Sampler, steps)
            .UseSeed(settings.Seed)
            .UsePrecision(settings.Precision)
            .UseLimits(limits);
        foreach (var type in settings.Types)
        {
            builder.UseDenoiserType(type);
        }

        if (settings.Guidance is { } guidance)
        {
            builder.UseGuidance(guidance);
        }

        using var pipeline = builder.Build();
        Console.WriteLine(string.Create(inv, $"Sampling with {SchedulerNames.ShortName(pipeline.Defaults.Sampler)} {pipeline.Defaults.Steps} steps, guidance {pipeline.Defaults.GuidanceScale}{(settings.Guidance is null ? (config.Sampling?.GuidanceWeight is null ? " (the default)" : " (the checkpoint's recommendation)") : string.Empty)}."));
        if (pipeline.PrecisionMeasurement is { } measurement)
        {
            Console.WriteLine(measurement.ToString());
        }

        Directory.CreateDirectory(settings.Output);
        var prompts = settings.Prompts.Select(p => ApplyRewording(p, settings.Rewording)).ToList();
        var images = new RgbImage?[total];
        var manifest = new string?[total];
        var frames = new List<RgbImage>();
        var writes = new List<Task>();
        var bar = new ConsoleProgressBar("sample");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int size = pipeline.Model.ImageSize;
        var mode = ImageModeNames.FromChannels(pipeline.Model.Channels); // a grayscale model's grid and GIF are grayscale too
        int frameScale = Math.Max(1, 128 / size);
        int done = 0;
        var request = new GenerationRequest { Prompts = prompts, ImagesPerPrompt = settings.PerPrompt, CaptureFrames = settings.Animation };
        await foreach (var update in pipeline.GenerateStreamingAsync(request, cancellationToken).ConfigureAwait(false))
        {
            if (update.Frame is { PromptIndex: 0, ImageIndex: 0 } frame)
            {
                frames.Add(new RgbImage(frame.Width, frame.Height, frame.Pixels.ToArray(), mode).Upscale(frameScale));
            }

            foreach (var image in update.Images)
            {
                int k = (image.PromptIndex * settings.PerPrompt) + image.ImageIndex;
                string file = string.Create(inv, $"{k:D4}-{Slug(image.Prompt)}.png");
                string caption = settings.Prompts[image.PromptIndex];
                writes.Add(File.WriteAllBytesAsync(Path.Combine(settings.Output, file), image.Png.ToArray(), cancellationToken));
                images[k] = new RgbImage(image.Width, image.Height, image.Pixels.ToArray(), mode);
                manifest[k] = JsonSerializer.Serialize(new ManifestLine(file, image.Prompt, image.Seed, image.Prompt == caption ? null : caption));
                done++;
                if (k == 0 && settings.Animation)
                {
                    frames.Add(images[k]!.Upscale(frameScale));
                }
            }

            double fraction = update.Progress.Fraction;
            bar.Update(fraction, string.Create(inv, $"{done} images {ConsoleProgressBar.FormatEta(clock.Elapsed, Math.Max(fraction, 1e-6))}"));
        }

        await Task.WhenAll(writes).ConfigureAwait(false);
        bar.Complete(string.Create(inv, $"{total} images in {clock.Elapsed.TotalSeconds:F1} s"));
        var labels = Enumerable.Range(0, total).Select(k => k % settings.PerPrompt == 0 ? prompts[k / settings.PerPrompt] : string.Empty).ToList<string?>();
        var grid = ImageGrid.Compose(images.Select(i => i!).ToList(), new ImageGridOptions { Columns = settings.PerPrompt * Math.Max(1, 8 / settings.PerPrompt), Scale = Math.Max(1, 64 / size), Padding = 2 }, labels);
        PngEncoder.Save(grid, Path.Combine(settings.Output, "grid.png"));
        string manifestPath = Path.Combine(settings.Output, "manifest.jsonl");
        string temp = manifestPath + ".tmp";
        await File.WriteAllLinesAsync(temp, manifest.Select(l => l!), cancellationToken).ConfigureAwait(false);
        File.Move(temp, manifestPath, overwrite: true);
        if (frames.Count > 0)
        {
            GifAnimation.FromImages(frames, delayCentiseconds: 8, lastFrameDelayCentiseconds: 150).Save(Path.Combine(settings.Output, "denoising.gif"));
        }

        Console.WriteLine($"Wrote {total} PNGs, grid.png and manifest.jsonl to {Path.GetFullPath(settings.Output)}");
        return manifestPath;
    }

    private static string Slug(string prompt)
    {
        var chars = prompt.ToLowerInvariant().Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '-').ToArray();
        string slug = string.Join('-', new string(chars).Split('-', StringSplitOptions.RemoveEmptyEntries));
        return slug.Length == 0 ? "unconditional" : slug.Length > 60 ? slug[..60] : slug;
    }
}
