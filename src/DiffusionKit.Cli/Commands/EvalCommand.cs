using System.Globalization;
using System.Text.Json;
using DiffusionKit.Demo.Evaluation;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Demo.Shapes;

namespace DiffusionKit.Cli.Commands;

/// <summary><c>diffusionkit eval</c>: prompt adherence of a manifest's images against the shapes rules.</summary>
internal static class EvalCommand
{
    public const string Usage = """
        diffusionkit eval --manifest <folder/manifest.jsonl> [--per-prompt] [--hold-out "blue triangle,yellow cross"]
          Prints colour, shape, size and all-three accuracy (fractions of images). Images are judged against the line's
          "caption" when present (reworded prompts), else its "prompt". --hold-out also reports the held-out
          combinations and the seen ones separately.
        """;

    public static int Run(CliArguments args)
    {
        string manifest = args.Required("manifest", "the manifest.jsonl written by 'diffusionkit sample'");
        bool perPrompt = args.Flag("per-prompt");
        var heldOut = TrainCommand.ParseHeldOut(args.String("hold-out"));
        args.EnsureAllUsed();
        var (samples, size) = Load(manifest);
        Print(ShapesJudge.Score(samples, size), perPrompt);
        PrintHeldOutSplit(samples, size, heldOut);
        return 0;
    }

    /// <summary>With held-out combinations given, prints the adherence of the held-out and of the seen images separately.</summary>
    internal static void PrintHeldOutSplit(IReadOnlyList<(string Caption, byte[] Rgb)> samples, int size, IReadOnlyCollection<(ShapeColor, ShapeKind)> heldOut)
    {
        if (heldOut.Count == 0)
        {
            return;
        }

        bool IsHeldOut(string caption) => ShapesCatalog.TryParse(caption, out var spec) && heldOut.Contains((spec.Color, spec.Kind));
        var held = samples.Where(s => IsHeldOut(s.Caption)).ToList();
        var seen = samples.Where(s => !IsHeldOut(s.Caption)).ToList();
        if (held.Count == 0 || seen.Count == 0)
        {
            throw new CliUsageException($"--hold-out leaves {held.Count} held-out and {seen.Count} seen images in this manifest; both must be present.");
        }

        Console.Write("held out: ");
        Print(ShapesJudge.Score(held, size), perPrompt: false);
        Console.Write("seen:     ");
        Print(ShapesJudge.Score(seen, size), perPrompt: false);
    }

    internal static AdherenceReport Score(string manifestPath)
    {
        var (samples, size) = Load(manifestPath);
        return ShapesJudge.Score(samples, size);
    }

    /// <summary>Reads a manifest's (caption, pixels) pairs: the caption is the line's "caption" when present, else its "prompt".</summary>
    internal static (List<(string Caption, byte[] Rgb)> Samples, int Size) Load(string manifestPath)
    {
        if (!File.Exists(manifestPath))
        {
            throw new FileNotFoundException($"Manifest '{manifestPath}' not found; 'diffusionkit sample' writes one next to the images.", manifestPath);
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var samples = new List<(string Caption, byte[] Rgb)>();
        int size = -1;
        int lineNumber = 0;
        foreach (string line in File.ReadLines(manifestPath))
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }

            ManifestLine? entry;
            try
            {
                entry = JsonSerializer.Deserialize<ManifestLine>(line);
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{manifestPath}:{lineNumber}: not a JSON object with file, prompt and seed ({ex.Message}).", ex);
            }

            if (entry?.File is null || entry.Prompt is null)
            {
                throw new InvalidDataException($"{manifestPath}:{lineNumber}: 'file' and 'prompt' are required.");
            }

            var image = PngDecoder.Load(Path.Combine(folder, entry.File));
            if (image.Width != image.Height || (size >= 0 && image.Width != size))
            {
                throw new InvalidDataException($"{manifestPath}:{lineNumber}: '{entry.File}' is {image.Width}x{image.Height}; all images must be square and the same size.");
            }

            size = image.Width;
            samples.Add((entry.Caption ?? entry.Prompt, image.Pixels));
        }

        if (samples.Count == 0)
        {
            throw new InvalidDataException($"{manifestPath} lists no images.");
        }

        return (samples, size);
    }

    internal static void Print(AdherenceReport report, bool perPrompt)
    {
        var inv = CultureInfo.InvariantCulture;
        if (perPrompt)
        {
            foreach (var p in report.PerPrompt)
            {
                Console.WriteLine(string.Create(inv, $"  {p.Prompt,-26} colour {p.ColorAccuracy:F2} shape {p.KindAccuracy:F2} size {p.SizeAccuracy:F2} all {p.AllAccuracy:F2} (n={p.Count})"));
            }
        }

        Console.WriteLine(string.Create(inv, $"adherence over {report.Count} images: colour {report.ColorAccuracy:F3}, shape {report.KindAccuracy:F3}, size {report.SizeAccuracy:F3}, all three {report.AllAccuracy:F3}"));
    }
}
