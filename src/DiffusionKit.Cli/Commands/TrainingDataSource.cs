using System.CommandLine;
using System.Globalization;
using DiffusionKit.Data;
using DiffusionKit.Demo.Shapes;
using DiffusionKit.Demo.Sprites;
using DiffusionKit.Imaging;
using DiffusionKit.Text;

namespace DiffusionKit.Cli.Commands;

/// <summary>
/// What <c>train --data</c> names: the built-in <c>shapes</c>, the course's <c>npy</c> files, or any other value, a
/// folder of your own images (<see cref="ImageFolderDataset"/>), with the bag-of-words encoder that fits it.
/// </summary>
/// <param name="Dataset">The training pairs.</param>
/// <param name="Encoder">The bag-of-words encoder for the data (the shapes or sprite words, or a vocabulary built from the folder's captions).</param>
/// <param name="Name">The data's name for logs and the checkpoint's <c>training.data</c>.</param>
/// <param name="IsFolder">True for an image folder (whose training defaults differ, see <see cref="ApplyFolderDefaults"/>).</param>
internal sealed record TrainingDataSource(IImageCaptionDataset Dataset, BagOfWordsEncoder Encoder, string Name, bool IsFolder)
{
    /// <summary>
    /// Training compute of the default folder budget, in multiply-adds of the U-Net's forward pass summed over every
    /// image of every step (training costs about 3× that). 813 steps of batch 100 at 28×28 and n_feat 32: about 4 minutes
    /// on a 2-core AMD EPYC where a user's 542-step run of a 7,000-photo folder took 152 s, and about 7 minutes in fp32 on
    /// a 2-core machine where bf16 does not pay, so the default run, sampling included, fits in 10 minutes
    /// (docs/training.md, "Your own images"). 1.5× the budget of 0.1.0's pre-releases, which left real photos under-trained.
    /// </summary>
    internal const double FolderBudgetForwardFlops = 1.875e13;

    /// <summary>The most passes over a folder the default budget makes: small folders stop here instead of training toward copies of their images.</summary>
    internal const int MaxDefaultEpochs = 100;

    /// <summary>The fewest steps the default budget gives (twice the folder warm-up), however small the folder.</summary>
    internal const int MinDefaultSteps = 200;

    /// <summary>Forward FLOPs of the context U-Net per 16×16 image at n_feat 64 (docs/reference.md).</summary>
    private const double ForwardFlopsAt16By64 = 301e6;

    /// <summary>Resolves <c>--data</c> (default <c>shapes</c>) and reads the options of that source.</summary>
    public static TrainingDataSource Create(ParseResult parse, DataOptions options, TrainingOptions training)
    {
        string data = parse.GetValue(options.Data)!;
        if (data is "shapes" or "npy" && parse.IsGiven(options.ImageMode))
        {
            throw new CliUsageException($"--image-mode applies to image folders; --data {data} is RGB.");
        }

        switch (data)
        {
            case "shapes":
                var shapes = new ShapesDataset(new ShapesDatasetOptions
                {
                    Count = parse.GetValue(training.Count),
                    ImageSize = parse.GetValue(options.ImageSize),
                    Seed = (int)parse.GetValue(training.Seed),
                    HeldOut = parse.ReadHeldOut(training.HoldOut),
                });
                return new TrainingDataSource(shapes, ShapesCatalog.CreateEncoder(), data, IsFolder: false);
            case "npy":
                var sprites = SpriteNpyDataset.Load(
                    parse.GetValue(options.Images) ?? throw new CliUsageException("--data npy needs --images <file>: the course's sprites .npy file (N, H, W, 3) uint8."),
                    parse.GetValue(options.Labels) ?? throw new CliUsageException("--data npy needs --labels <file>: the course's labels .npy file (N, 5) one-hot."));
                return new TrainingDataSource(sprites, SpriteNpyDataset.CreateEncoder(), data, IsFolder: false);
            default:
                if (!Directory.Exists(data))
                {
                    throw new CliUsageException($"--data must be 'shapes', 'npy' or an image folder, but '{data}' is none of these (no such folder).");
                }

                var folder = OpenFolder(parse, options, data);
                return new TrainingDataSource(folder, BagOfWordsEncoder.FromCaptions(folder.DistinctCaptions), Path.GetFileName(folder.Folder), IsFolder: true);
        }
    }

    /// <summary>
    /// The defaults of <c>train --data &lt;folder&gt;</c> for options the user did not give (measured on the digits
    /// and real-photo proxies, build/research/digits_bar.py and photos_bar.py; docs/training.md): the recipe
    /// (v-prediction, Min-SNR-5, cosine learning-rate decay, EMA; the course's linear noise schedule), the width for this
    /// image size and, without <c>--steps</c>/<c>--epochs</c>/<c>--time</c>, the step budget for this size, width, batch
    /// and folder size.
    /// </summary>
    /// <returns>
    /// The parse result with the defaults applied; one line for the log that names each default applied and, for the
    /// width and the step budget, the rule that gave it (null when the user gave every option); and whether the step
    /// budget is the default one (no <c>--steps</c>, <c>--epochs</c> or <c>--time</c> given).
    /// </returns>
    public static (ParseResult Parse, string? Applied, bool DefaultBudget) ApplyFolderDefaults(ParseResult parse, TrainingOptions training, int imageSize, int imageCount)
    {
        var folder = TrainingDefaults.Folder;
        var inv = CultureInfo.InvariantCulture;
        int features = DefaultFeatures(imageSize);
        (Option Option, string Value, string? Why)[] defaults =
        [
            (training.Model, TrainableNetworks.Format(folder.Network), null),
            (training.Features, features.ToString(inv), string.Create(inv, $"{(imageSize <= 16 ? "images up to 16 px" : "images above 16 px")}: n_feat {DefaultFeatures(16)} up to 16 px, {DefaultFeatures(17)} above")),
            (training.Batch, folder.Batch.ToString(inv), null),
            (training.LearningRate, folder.LearningRate.ToString("R", inv), null),
            (training.LearningRateSchedule, TrainingOptions.Format(folder.LearningRateSchedule), null),
            (training.Warmup, folder.Warmup.ToString(inv), null),
            (training.Prediction, Scheduling.SchedulerNames.Format(folder.Prediction), null),
            (training.SnrGamma, folder.SnrGamma!.Value.ToString("R", inv), null),
            (training.Ema, folder.Ema.ToString("R", inv), null),
        ];
        var applied = defaults.Where(d => !parse.IsGiven(d.Option)).Select(d => $"{d.Option.Name} {d.Value}{(d.Why is null ? string.Empty : $" ({d.Why})")}").ToList();
        parse = parse.WithDefaults(defaults.Select(d => (d.Option, d.Value)), "image folder defaults");
        bool defaultBudget = !(parse.IsGiven(training.Steps) || parse.IsGiven(training.Epochs) || parse.IsGiven(training.Time));
        if (defaultBudget)
        {
            var budget = DefaultBudget(training.Model.Read(parse), imageSize, parse.GetValue(training.Features), parse.GetValue(training.Batch), imageCount);
            parse = parse.WithDefaults([(training.Steps, budget.Steps.ToString(inv))], "image folder defaults");
            applied.Add($"{training.Steps.Name} {budget.Steps.ToString(inv)} ({budget.Rule})");
        }

        return (parse, applied.Count == 0 ? null : $"Image folder defaults (docs/training.md, \"Your own images\"; give an option to override it): {string.Join(", ", applied)}.", defaultBudget);
    }

    /// <summary>
    /// The guidance scale a model trained on a folder recommends for sampling (recorded in its checkpoint): 1. On the
    /// digits proxy (real 8×8 scans at 16 px, docs/training.md) guidance 3 made 99.75% of samples recognisable but only
    /// 0.68 as varied as the folder's images of their class; 1 kept 98.75% recognisable at 0.85 (at 28 px: 97% at
    /// about 0.92).
    /// </summary>
    internal const double DefaultGuidance = 1;

    /// <summary>The default width for a folder: n_feat 64 up to 16×16 images, 32 above (a quarter of the cost per image, so four times the steps fit the budget).</summary>
    internal static int DefaultFeatures(int imageSize) => imageSize <= 16 ? 64 : 32;

    /// <summary>
    /// The default step count: <see cref="FolderBudgetForwardFlops"/> divided by the forward cost of one batch, which
    /// grows with the square of the image side and of the width (n_feat) (for the context U-Net, scaled from its 16×16
    /// n_feat 64 cost; for the attention U-Net, counted by <see cref="NetworkFlops"/>), but no more than
    /// <see cref="MaxDefaultEpochs"/> passes over the folder's <paramref name="imageCount"/> images and no fewer than
    /// <see cref="MinDefaultSteps"/>. Depends only on the network and the data's size and resolution, never on the
    /// machine, so the same folder trains the same weights everywhere.
    /// </summary>
    internal static int DefaultSteps(TrainableNetwork network, int imageSize, int features, int batch, int imageCount) =>
        DefaultBudget(network, imageSize, features, batch, imageCount).Steps;

    /// <summary><see cref="DefaultSteps"/> with the rule's figures in words, for the log.</summary>
    internal static (int Steps, string Rule) DefaultBudget(TrainableNetwork network, int imageSize, int features, int batch, int imageCount)
    {
        double perImage = network == TrainableNetwork.AttentionUnet
            ? NetworkFlops.Forward(new Models.AttentionUnetOptions { InChannels = 1, Features = features, ContextSize = 1, ImageSize = imageSize })
            : ForwardFlopsAt16By64 * Math.Pow(imageSize / 16.0, 2) * Math.Pow(features / 64.0, 2);
        double byCompute = Math.Round(FolderBudgetForwardFlops / (perImage * batch));
        double byEpochs = Math.Ceiling((double)MaxDefaultEpochs * imageCount / batch);
        int steps = (int)Math.Max(MinDefaultSteps, Math.Min(byCompute, byEpochs));
        string binding = Math.Min(byCompute, byEpochs) < MinDefaultSteps ? "the floor applies"
            : byEpochs < byCompute ? "the pass cap applies"
            : "the compute budget applies";
        string rule = string.Create(
            CultureInfo.InvariantCulture,
            $"a compute budget of {FolderBudgetForwardFlops:0.###e0} forward multiply-adds / ({perImage / 1e6:F0} M per {imageSize}x{imageSize} image at n_feat {features} x batch {batch}) = {byCompute:F0} steps, at most {MaxDefaultEpochs} passes over the {imageCount} images ({byEpochs:F0} steps), at least {MinDefaultSteps}: {binding}");
        return (steps, rule);
    }

    private static ImageFolderDataset OpenFolder(ParseResult parse, DataOptions data, string path)
    {
        var options = new ImageFolderOptions
        {
            Size = parse.GetValue(data.Size),
            CaptionColumn = parse.GetValue(data.CaptionColumn)!,
            Strict = parse.GetValue(data.Strict),
            RandomFlip = parse.GetValue(data.RandomFlip),
            RandomCrop = parse.GetValue(data.RandomCrop),
            ImageMode = data.ReadImageMode(parse),
        };

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
        Console.WriteLine(string.Create(inv, $"Image folder {folder.Folder}: {folder.Count} images, {folder.DistinctCaptions.Count} distinct captions ({string.Join(", ", sources)}), {folder.ImageSize}x{folder.ImageSize} ({(options.Size is null ? "the images' size" : "--size")}), {(folder.ImageMode == ImageMode.Grayscale ? "grayscale (L), one channel" : "RGB")}, {(folder.IsStreaming ? "streamed from disk" : "decoded once and kept in memory")}."));
        if (folder.ImageModeNote is { } note)
        {
            Console.Error.WriteLine($"note: {note}");
        }

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
