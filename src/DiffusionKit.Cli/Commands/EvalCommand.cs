using System.Globalization;
using System.Text.Json;
using DiffusionKit.Evaluation;
using DiffusionKit.Imaging;

namespace DiffusionKit.Cli.Commands;

/// <summary><c>diffusionkit eval</c>: prompt adherence of a manifest's images against the shapes rules.</summary>
internal static class EvalCommand
{
    public const string Usage = """
        diffusionkit eval --manifest <folder/manifest.jsonl> [--per-prompt]
          Prints colour, shape, size and all-three accuracy (fractions of images).
        """;

    public static int Run(CliArguments args)
    {
        string manifest = args.Required("manifest", "the manifest.jsonl written by 'diffusionkit sample'");
        bool perPrompt = args.Flag("per-prompt");
        args.EnsureAllUsed();
        var report = Score(manifest);
        Print(report, perPrompt);
        return 0;
    }

    internal static AdherenceReport Score(string manifestPath)
    {
        if (!File.Exists(manifestPath))
        {
            throw new FileNotFoundException($"Manifest '{manifestPath}' not found; 'diffusionkit sample' writes one next to the images.", manifestPath);
        }

        string folder = Path.GetDirectoryName(Path.GetFullPath(manifestPath))!;
        var samples = new List<(string, byte[])>();
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
            samples.Add((entry.Prompt, image.Pixels));
        }

        return ShapesJudge.Score(samples, size);
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
