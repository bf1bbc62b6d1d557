using System.CommandLine;
using DiffusionKit.Data;
using DiffusionKit.Imaging;

namespace DiffusionKit.Cli.Commands;

/// <summary><c>train</c>'s options that choose and read the training data (<see cref="TrainingDataSource"/>).</summary>
internal sealed class DataOptions
{
    /// <summary>Creates the options.</summary>
    public DataOptions()
    {
        Size.Validators.Add(result =>
        {
            if (!result.Errors.Any() && result.GetValueOrDefault<int?>() is { } size && size % 4 != 0)
            {
                result.AddError($"--size must be a multiple of 4 (the U-Net halves the image twice), not {size}.");
            }
        });
        ImageMode.Validators.Add(result =>
        {
            string? text = result.Tokens.Count > 0 ? result.Tokens[^1].Value : null;
            if (text is not null && !IsAuto(text) && !ImageModeNames.TryParse(text, out _))
            {
                result.AddError($"--image-mode must be one of {AutoImageMode}, {ImageModeNames.Allowed}, not '{text}'.");
            }
        });
    }

    /// <summary>The <c>--image-mode</c> value that lets the folder's majority decide.</summary>
    public const string AutoImageMode = "auto";

    /// <summary><c>--data shapes|npy|&lt;folder&gt;</c>.</summary>
    public Option<string?> Data { get; } = CliOptions.Text(
        "--data", "shapes|npy|folder", "shapes (built in), npy (the course's files: --images, --labels) or a folder of your own images", "shapes");

    /// <summary><c>--images sprites.npy</c>.</summary>
    public Option<string?> Images { get; } = CliOptions.Text("--images", "file", "--data npy: the course's sprites .npy file (N, H, W, 3) uint8");

    /// <summary><c>--labels labels.npy</c>.</summary>
    public Option<string?> Labels { get; } = CliOptions.Text("--labels", "file", "--data npy: the course's labels .npy file (N, 5) one-hot");

    /// <summary><c>--image-size N</c> (built-in shapes).</summary>
    public Option<int> ImageSize { get; } = CliOptions.Integer("--image-size", "--data shapes: the images' size in pixels", 16, 16, 64);

    /// <summary><c>--size N</c> (image folder).</summary>
    public Option<int?> Size { get; } = CliOptions.OptionalInteger(
        "--size", "image folder: resize (shorter side) and centre-crop to N pixels, a multiple of 4 [default: the images' own size when all are square and the same]", 8, 512);

    /// <summary><c>--caption-column text</c> (image folder).</summary>
    public Option<string?> CaptionColumn { get; } = CliOptions.Text(
        "--caption-column", "name", "image folder: the " + ImageFolderDataset.MetadataFileName + " field that holds the caption", "text");

    /// <summary><c>--strict</c> (image folder).</summary>
    public Option<bool> Strict { get; } = CliOptions.Flag("--strict", "image folder: fail on the first bad file instead of skipping it");

    /// <summary><c>--random-flip</c> (image folder).</summary>
    public Option<bool> RandomFlip { get; } = CliOptions.Flag("--random-flip", "image folder: flip images horizontally at random (augmentation)");

    /// <summary><c>--random-crop</c> (image folder).</summary>
    public Option<bool> RandomCrop { get; } = CliOptions.Flag("--random-crop", "image folder: crop at a random place instead of the centre (augmentation)");

    /// <summary><c>--image-mode auto|L|RGB</c> (image folder).</summary>
    public Option<string?> ImageMode { get; } = CliOptions.Text(
        "--image-mode", "auto|L|RGB", "image folder: train in grayscale (L, one channel) or RGB, converting the images in the other mode (RGB to ITU-R 601 luma); auto: the mode most images have, a tie RGB", AutoImageMode);

    /// <summary>Every option, in the order <c>--help</c> lists them.</summary>
    public IEnumerable<Option> All => [Data, Images, Labels, ImageSize, Size, CaptionColumn, Strict, RandomFlip, RandomCrop, ImageMode];

    /// <summary>The <c>--image-mode</c> given: null for <c>auto</c> (the folder's majority).</summary>
    /// <param name="parse">A parse result without errors.</param>
    /// <returns>The mode, or null.</returns>
    public ImageMode? ReadImageMode(ParseResult parse)
    {
        string text = parse.GetValue(ImageMode) ?? AutoImageMode;
        return IsAuto(text) ? null : ImageModeNames.Parse(text, "--image-mode");
    }

    private static bool IsAuto(string text) => text.Trim().Equals(AutoImageMode, StringComparison.OrdinalIgnoreCase);
}
