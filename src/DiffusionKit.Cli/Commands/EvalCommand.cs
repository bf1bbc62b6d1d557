using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using DiffusionKit.Demo.Evaluation;
using DiffusionKit.Demo.Imaging;
using DiffusionKit.Demo.Shapes;

namespace DiffusionKit.Cli.Commands;

/// <summary><c>diffusionkit eval</c>: prompt adherence of a manifest's images against the shapes rules.</summary>
internal sealed class EvalCommand : CliCommand
{
    /// <summary>Creates the command with its options.</summary>
    public EvalCommand()
        : base("eval", "score a manifest.jsonl's images against the shapes rules: colour, shape, size and all-three accuracy", Explanation)
    {
        Add(Manifest);
        Add(PerPrompt);
        Add(HoldOut);
        SetAction(Run);
    }

    /// <summary><c>--manifest &lt;folder/manifest.jsonl&gt;</c>.</summary>
    public Option<string> Manifest { get; } = CliOptions.RequiredText("--manifest", "folder/manifest.jsonl", "the manifest.jsonl written by 'diffusionkit sample'");

    /// <summary><c>--per-prompt</c>.</summary>
    public Option<bool> PerPrompt { get; } = CliOptions.Flag("--per-prompt", "also print each prompt's accuracy");

    /// <summary><c>--hold-out "blue triangle,..."</c>.</summary>
    public Option<IReadOnlyCollection<(ShapeColor Color, ShapeKind Kind)>?> HoldOut { get; } =
        CommonOptions.HoldOut("also report these held-out combinations and the seen ones separately");

    private const string Explanation = """
        Accuracies are fractions of images. Each image is judged against its manifest line's "caption" when present
        (reworded prompts), else its "prompt".
        """;

    private int Run(ParseResult parse)
    {
        var (samples, size) = Load(parse.GetValue(Manifest)!);
        Print(ShapesJudge.Score(samples, size), parse.GetValue(PerPrompt));
        PrintHeldOutSplit(samples, size, parse.ReadHeldOut(HoldOut));
        return ExitCodes.Success;
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
