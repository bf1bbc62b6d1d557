using System.Globalization;
using DiffusionKit.Data;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Demo.Sprites;
using DiffusionKit.Text;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// What <c>train --data</c> names: the built-in <c>shapes</c>, the course's <c>npy</c> files, or any other value, a
/// folder of your own images (<see cref="ImageFolderDataset"/>), with the bag-of-words encoder that fits it.
/// </summary>
/// <param name="Dataset">The training pairs.</param>
/// <param name="Encoder">The bag-of-words encoder for the data (the shapes or sprite words, or a vocabulary built from the folder's captions).</param>
/// <param name="Name">The data's name for logs and the checkpoint's <c>training.data</c>.</param>
/// <param name="IsFolder">True for an image folder (whose training defaults differ, see <see cref="FolderDefaults"/>).</param>
internal sealed record TrainingDataSource(IImageCaptionDataset Dataset, BagOfWordsEncoder Encoder, string Name, bool IsFolder)
{
    /// <summary>The usage lines of the folder options.</summary>
    public const string Usage = """
        diffusionkit train --data <folder> --out <checkpoint-folder> [--size N] [--caption-column text] [--strict] [--random-flip] [--random-crop]
          Captions: metadata.jsonl ({"file_name", "text"} lines) if present, else a .txt beside each image, else the class folder's name.
          Size: the images' own when all are square and the same (else give --size, a multiple of 4); resize shorter side + centre crop.
          Bad files are skipped and listed at the start (--strict fails on the first). Defaults for folders: see docs/training.md.
        """;

    /// <summary>
    /// Training compute of the default folder budget, in multiply-adds of the U-Net's forward pass summed over every
    /// image of every step (training costs about 3× that). Chosen so the default run, sampling included, fits in 10
    /// minutes on a 2-core machine 0.6× as fast as the one it was measured on (docs/training.md, "Your own images").
    /// </summary>
    internal const double FolderBudgetForwardFlops = 1.25e13;

    /// <summary>Forward FLOPs of the context U-Net per 16×16 image at n_feat 64 (docs/reference.md).</summary>
    private const double ForwardFlopsAt16By64 = 301e6;

    /// <summary>Resolves <c>--data</c> (default <c>shapes</c>) and reads the options of that source.</summary>
    public static TrainingDataSource Create(CliArguments args, long seed)
    {
        string data = args.String("data") ?? "shapes";
        switch (data)
        {
            case "shapes":
                var heldOut = TrainCommand.ParseHeldOut(args.String("hold-out"));
                var shapes = new ShapesDataset(new ShapesDatasetOptions
                {
                    Count = args.Int("count", 24000, 1),
                    ImageSize = args.Int("image-size", 16, 16, 64),
                    Seed = (int)seed,
                    HeldOut = heldOut,
                });
                return new TrainingDataSource(shapes, ShapesCatalog.CreateEncoder(), data, IsFolder: false);
            case "npy":
                var sprites = SpriteNpyDataset.Load(
                    args.Required("images", "the course's sprites .npy file (N, H, W, 3) uint8"),
                    args.Required("labels", "the course's labels .npy file (N, 5) one-hot"));
                return new TrainingDataSource(sprites, SpriteNpyDataset.CreateEncoder(), data, IsFolder: false);
            default:
                if (!Directory.Exists(data))
                {
                    throw new CliUsageException($"--data must be 'shapes', 'npy' or an image folder, but '{data}' is none of these (no such folder).");
                }

                var folder = OpenFolder(args, data);
                return new TrainingDataSource(folder, BagOfWordsEncoder.FromCaptions(folder.DistinctCaptions), Path.GetFileName(folder.Folder), IsFolder: true);
        }
    }

    /// <summary>
    /// The defaults of <c>train --data &lt;folder&gt;</c> for options the user did not give (measured on the digits
    /// proxy, build/research/digits_bar.py; docs/training.md).
    /// </summary>
    /// <remarks>The width (<c>--features</c>) is not here: it depends on the image size, see <see cref="DefaultFeatures"/>.</remarks>
    public static IReadOnlyDictionary<string, string> FolderDefaults { get; } = new Dictionary<string, string>
    {
        ["batch"] = "100",
        ["lr"] = "2e-3",
        ["lr-schedule"] = "cosine",
        ["warmup"] = "100",
        ["prediction"] = "v_prediction",
        ["snr-gamma"] = "5",
        ["ema"] = "0.995",
    };

    /// <summary>Fills in the folder defaults and, without --steps/--epochs/--time, the step budget for this image size.</summary>
    public static void ApplyFolderDefaults(CliArguments args, int imageSize)
    {
        foreach (var (name, value) in FolderDefaults)
        {
            args.SetDefault(name, value);
        }

        args.SetDefault("features", DefaultFeatures(imageSize).ToString(CultureInfo.InvariantCulture));

        if (!args.Has("steps") && !args.Has("epochs") && !args.Has("time"))
        {
            int features = args.Int("features", 64, 8);
            int batch = args.Int("batch", 100, 1);
            args.SetDefault("steps", DefaultSteps(imageSize, features, batch).ToString(CultureInfo.InvariantCulture));
        }
    }

    /// <summary>The default width for a folder: n_feat 64 up to 16×16 images, 32 above (a quarter of the cost per image, so four times the steps fit the budget).</summary>
    internal static int DefaultFeatures(int imageSize) => imageSize <= 16 ? 64 : 32;

    /// <summary>
    /// The default step count: <see cref="FolderBudgetForwardFlops"/> divided by the forward cost of one batch, which
    /// grows with the square of the image side and of the width (n_feat). Depends only on the sizes, never on the
    /// machine, so the same folder trains the same weights everywhere.
    /// </summary>
    internal static int DefaultSteps(int imageSize, int features, int batch)
    {
        double perImage = ForwardFlopsAt16By64 * Math.Pow(imageSize / 16.0, 2) * Math.Pow(features / 64.0, 2);
        return (int)Math.Max(1, Math.Round(FolderBudgetForwardFlops / (perImage * batch)));
    }

    private static ImageFolderDataset OpenFolder(CliArguments args, string path)
    {
        var options = new ImageFolderOptions
        {
            Size = args.OptionalInt("size", 8, 512),
            CaptionColumn = args.String("caption-column") ?? "text",
            Strict = args.Flag("strict"),
            RandomFlip = args.Flag("random-flip"),
            RandomCrop = args.Flag("random-crop"),
        };
        if (options.Size is { } size && size % 4 != 0)
        {
            throw new CliUsageException($"--size must be a multiple of 4 (the U-Net halves the image twice), not {size}.");
        }

        ImageFolderDataset folder;
        try
        {
            folder = ImageFolderDataset.Open(path, options);
        }
        catch (InvalidDataException ex)
        {
            throw new CliUsageException(ex.Message);
        }

        var inv = CultureInfo.InvariantCulture;
        var sources = Enumerable.Range(0, folder.Count).GroupBy(folder.GetCaptionSource).OrderBy(g => g.Key)
            .Select(g => string.Create(inv, $"{g.Count()} from {SourceName(g.Key)}"));
        Console.WriteLine(string.Create(inv, $"Image folder {folder.Folder}: {folder.Count} images, {folder.DistinctCaptions.Count} distinct captions ({string.Join(", ", sources)}), {folder.ImageSize}x{folder.ImageSize} ({(options.Size is null ? "the images' size" : "--size")}), {(folder.IsStreaming ? "streamed from disk" : "decoded once and kept in memory")}."));
        if (folder.Skipped.Count > 0)
        {
            Console.WriteLine(string.Create(inv, $"Skipped {folder.Skipped.Count} bad file(s) (use --strict to stop at the first instead):"));
            foreach (var skipped in folder.Skipped.Take(20))
            {
                Console.WriteLine($"  {skipped}");
            }

            if (folder.Skipped.Count > 20)
            {
                Console.WriteLine(string.Create(inv, $"  ... and {folder.Skipped.Count - 20} more"));
            }
        }

        if (folder.Ignored.Count > 0)
        {
            Console.WriteLine(string.Create(inv, $"Ignored {folder.Ignored.Count} file(s) that are not images or captions, e.g. {folder.Ignored[0]}."));
        }

        return folder;
    }

    private static string SourceName(CaptionSource source) => source switch
    {
        CaptionSource.MetadataJsonl => ImageFolderDataset.MetadataFileName,
        CaptionSource.TextFile => ".txt files",
        CaptionSource.ClassFolder => "folder names",
        _ => source.ToString(),
    };
}
