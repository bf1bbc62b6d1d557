using DiffusionKit.Pipeline;
using System.Globalization;
using System.Text.Json;
using DiffusionKit.Checkpoints;
using DiffusionKit.Data;
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
                            [--animation] [--threads N] [--precision auto|fp32|bf16] [--reword "large=big,small=tiny"]
          --sampler defaults to ddim; --steps to 25 for ddim, 20 for dpm-solver(-sde) and euler-a, T (500) for ddpm.
          Images of prompt p use seed + p; manifest.jsonl lines are {"file", "prompt", "seed"}.
          --reword replaces whole words of every prompt (to test words never seen in training); the manifest then also
          keeps the original as "caption", which eval judges against.
        """;

    internal sealed record Settings(string Checkpoint, string Output, IReadOnlyList<string> Prompts, int PerPrompt, SamplerKind Sampler, int? Steps, double Guidance, long Seed, bool Animation, Precision Precision = Precision.Float32, IReadOnlyDictionary<string, string>? Rewording = null);

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
            ParseRewording(args.String("reword")));
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

    /// <summary>Generates and writes everything; returns the manifest path.</summary>
    internal static string Generate(Settings settings, CancellationToken cancellationToken)
    {
        var inv = CultureInfo.InvariantCulture;
        using var loaded = DiffusionCheckpoint.Load(settings.Checkpoint, MiniLmTextEncoder.FromCheckpointConfig);
        int steps = settings.Steps ?? SchedulerOptions.DefaultInferenceSteps(settings.Sampler, loaded.Schedule.TrainTimesteps);
        using var unconditional = loaded.Encoder.EncodeUnconditional();
        var precision = settings.Precision;
        if (precision == Precision.Auto)
        {
            var measurement = PrecisionProbe.MeasureSampling(loaded.Model, Math.Max(1, settings.PerPrompt) * (settings.Guidance > 0 ? 2 : 1), cancellationToken);
            Console.WriteLine(measurement.ToString());
            precision = measurement.Chosen;
        }

        using var bf16 = precision == Precision.BFloat16 ? new BFloat16Denoiser(loaded.Model) : null;
        IDenoiser denoiser = bf16 is null ? loaded.Model : bf16;

        Directory.CreateDirectory(settings.Output);
        var images = new List<RgbImage>();
        var labels = new List<string?>();
        var manifest = new List<string>();
        var frames = new List<RgbImage>();
        var bar = new ConsoleProgressBar("sample");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        int size = loaded.Model.ImageSize;
        for (int p = 0; p < settings.Prompts.Count; p++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            string caption = settings.Prompts[p];
            string prompt = Reword(caption, settings.Rewording);
            long seed = settings.Seed + p;
            using var scope = NewDisposeScope();
            var context = loaded.Encoder.Encode(Enumerable.Repeat(prompt, settings.PerPrompt).ToList());
            bool capture = settings.Animation && p == 0;
            var progress = new ActionProgress<SamplingProgress>(s =>
            {
                if (s.Intermediate is { } frame)
                {
                    using (frame)
                    {
                        frames.Add(ImageTensors.ToRgbImages(frame)[0].Upscale(Math.Max(1, 128 / size)));
                    }
                }
            });
            var scheduler = loaded.CreateScheduler(settings.Sampler, steps);
            var batch = DiffusionSampler.Instance.Sample(denoiser, scheduler, context, new SamplingOptions { Seed = seed, GuidanceScale = settings.Guidance, CaptureIntermediates = capture, UnconditionalContext = unconditional }, progress, cancellationToken);
            var rgb = ImageTensors.ToRgbImages(batch);
            for (int i = 0; i < rgb.Length; i++)
            {
                string file = string.Create(inv, $"{images.Count:D4}-{Slug(prompt)}.png");
                PngEncoder.Save(rgb[i], Path.Combine(settings.Output, file));
                manifest.Add(JsonSerializer.Serialize(new ManifestLine(file, prompt, seed, prompt == caption ? null : caption)));
                images.Add(rgb[i]);
                labels.Add(i == 0 ? prompt : null);
            }

            double fraction = (p + 1) / (double)settings.Prompts.Count;
            bar.Update(fraction, string.Create(inv, $"{images.Count} images {ConsoleProgressBar.FormatEta(clock.Elapsed, fraction)}"));
        }

        bar.Complete(string.Create(inv, $"{images.Count} images in {clock.Elapsed.TotalSeconds:F1} s"));
        var grid = ImageGrid.Compose(images, new ImageGridOptions { Columns = settings.PerPrompt * Math.Max(1, 8 / settings.PerPrompt), Scale = Math.Max(1, 64 / size), Padding = 2 }, labels.Select(l => l ?? string.Empty).ToList<string?>());
        PngEncoder.Save(grid, Path.Combine(settings.Output, "grid.png"));
        string manifestPath = Path.Combine(settings.Output, "manifest.jsonl");
        string temp = manifestPath + ".tmp";
        File.WriteAllLines(temp, manifest);
        File.Move(temp, manifestPath, overwrite: true);
        if (frames.Count > 0)
        {
            GifAnimation.FromImages(frames, delayCentiseconds: 8, lastFrameDelayCentiseconds: 150).Save(Path.Combine(settings.Output, "denoising.gif"));
        }

        Console.WriteLine($"Wrote {images.Count} PNGs, grid.png and manifest.jsonl to {Path.GetFullPath(settings.Output)}");
        return manifestPath;
    }

    private static string Slug(string prompt)
    {
        var chars = prompt.ToLowerInvariant().Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '-').ToArray();
        string slug = string.Join('-', new string(chars).Split('-', StringSplitOptions.RemoveEmptyEntries));
        return slug.Length == 0 ? "unconditional" : slug.Length > 60 ? slug[..60] : slug;
    }
}
