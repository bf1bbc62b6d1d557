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
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Cli.Commands;

/// <summary><c>diffusionkit sample</c>: generates images from a checkpoint; writes one PNG per image, grid.png and manifest.jsonl.</summary>
internal static class SampleCommand
{
    public const string Usage = """
        diffusionkit sample --checkpoint <folder> --out <folder> (--prompt "a large red circle" ... | --all-shapes)
                            [--per-prompt 4] [--sampler ddim|ddpm|dpm-solver|dpm-solver-sde|euler-a] [--steps N] [--guidance 3] [--seed 0]
                            [--animation] [--threads N] [--precision auto|fp32|bf16] [--reword "large=big,small=tiny"] [--max-batch 16]
          --sampler defaults to ddim; --steps to 25 for ddim, 20 for dpm-solver(-sde) and euler-a, T (500) for ddpm.
          All images are sampled together in batches of up to --max-batch images; image k (in prompt order) uses its own
          seed, seed + k, so it is the same alone or batched. manifest.jsonl lines are {"file", "prompt", "seed"}.
          --reword replaces whole words of every prompt (to test words never seen in training); the manifest then also
          keeps the original as "caption", which eval judges against.
        """;

    internal sealed record Settings(string Checkpoint, string Output, IReadOnlyList<string> Prompts, int PerPrompt, SamplerKind Sampler, int? Steps, double Guidance, long Seed, bool Animation, Precision Precision = Precision.Float32, IReadOnlyDictionary<string, string>? Rewording = null, int? MaxBatchImages = null);

    public static int Run(CliArguments args)
    {
        string checkpoint = args.Required("checkpoint", "the checkpoint folder written by 'diffusionkit train'");
        string output = args.Required("out", "the folder for the PNGs, grid.png and manifest.jsonl");
        var prompts = args.Strings("prompt").ToList();
        if (args.Flag("all-shapes"))
        {
            prompts.AddRange(ShapesCatalog.AllPrompts);
        }

        if (prompts.Count == 0)
        {
            throw new CliUsageException("Give at least one --prompt, or --all-shapes for the 48 shapes prompts.");
        }

        var sampler = args.Sampler("sampler", PipelineDefaults.DefaultSampler);
        var settings = new Settings(
            checkpoint,
            output,
            prompts,
            args.Int("per-prompt", 4, 1, 10_000),
            sampler,
            args.OptionalInt("steps", 1),
            args.Double("guidance", PipelineDefaults.DefaultGuidanceScale, 0, 100),
            args.Long("seed", 0),
            args.Flag("animation"),
            PrecisionNames.Parse(args.String("precision")),
            ParseRewording(args.String("reword")),
            args.OptionalInt("max-batch", 1, 100_000));
        if (args.OptionalInt("threads", 1, 256) is { } t)
        {
            torch.set_num_threads(t);
        }

        args.EnsureAllUsed();
        using var cancel = new ConsoleCancellation();
        Generate(settings, cancel.Token);
        return 0;
    }

    /// <summary>Parses <c>--reword "from=to,..."</c> (whole words, case-sensitive).</summary>
    internal static IReadOnlyDictionary<string, string>? ParseRewording(string? text)
    {
        if (text is null)
        {
            return null;
        }

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
    internal static string Reword(string prompt, IReadOnlyDictionary<string, string>? map) =>
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
        int trainTimesteps = DiffusionCheckpoint.ReadConfig(settings.Checkpoint).Scheduler.TrainTimesteps;
        int steps = settings.Steps ?? SchedulerOptions.DefaultInferenceSteps(settings.Sampler, trainTimesteps);
        int total = settings.Prompts.Count * settings.PerPrompt;
        var defaults = new PipelineLimits();
        var limits = new PipelineLimits { MaxImagesPerRequest = total, MaxQueuedImages = total, MaxSteps = Math.Max(steps, defaults.MaxSteps), MaxBatchImages = settings.MaxBatchImages ?? defaults.MaxBatchImages };
        using var pipeline = new DiffusionPipelineBuilder()
            .UseCheckpointTextEncoderFactory(MiniLmTextEncoder.FromCheckpointConfig)
            .FromCheckpoint(settings.Checkpoint)
            .UseSampler(settings.Sampler, steps)
            .UseGuidance(settings.Guidance)
            .UseSeed(settings.Seed)
            .UsePrecision(settings.Precision)
            .UseLimits(limits)
            .Build();
        if (pipeline.PrecisionMeasurement is { } measurement)
        {
            Console.WriteLine(measurement.ToString());
        }

        Directory.CreateDirectory(settings.Output);
        var prompts = settings.Prompts.Select(p => Reword(p, settings.Rewording)).ToList();
        var images = new RgbImage?[total];
        var manifest = new string?[total];
        var frames = new List<RgbImage>();
        var writes = new List<Task>();
        var bar = new ConsoleProgressBar("sample");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int size = pipeline.Model.ImageSize;
        int frameScale = Math.Max(1, 128 / size);
        int done = 0;
        var request = new GenerationRequest { Prompts = prompts, ImagesPerPrompt = settings.PerPrompt, CaptureFrames = settings.Animation };
        await foreach (var update in pipeline.GenerateStreamingAsync(request, cancellationToken).ConfigureAwait(false))
        {
            if (update.Frame is { PromptIndex: 0, ImageIndex: 0 } frame)
            {
                frames.Add(new RgbImage(frame.Width, frame.Height, frame.Pixels.ToArray()).Upscale(frameScale));
            }

            foreach (var image in update.Images)
            {
                int k = (image.PromptIndex * settings.PerPrompt) + image.ImageIndex;
                string file = string.Create(inv, $"{k:D4}-{Slug(image.Prompt)}.png");
                string caption = settings.Prompts[image.PromptIndex];
                writes.Add(File.WriteAllBytesAsync(Path.Combine(settings.Output, file), image.Png.ToArray(), cancellationToken));
                images[k] = new RgbImage(image.Width, image.Height, image.Pixels.ToArray());
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
