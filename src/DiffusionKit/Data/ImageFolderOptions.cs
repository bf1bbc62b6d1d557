using DiffusionKit.Imaging;

namespace DiffusionKit.Data;

/// <summary>Settings of an <see cref="ImageFolderDataset"/>. Every default is the documented one.</summary>
public sealed class ImageFolderOptions
{
    /// <summary>The default <see cref="MaxCacheBytes"/>: 1 GiB of decoded pixels (about 350,000 images at 32×32).</summary>
    public const long DefaultMaxCacheBytes = 1L << 30;

    /// <summary>
    /// Side of the square training images, a multiple of 4, at least 8. Null (default): the images' own size when they
    /// are all square and share one side; otherwise opening the folder fails and asks for a size.
    /// </summary>
    public int? Size { get; init; }

    /// <summary>The <c>metadata.jsonl</c> field that holds the caption. Default "text" (the Hugging Face convention).</summary>
    public string CaptionColumn { get; init; } = "text";

    /// <summary>
    /// Fail on the first bad file (unreadable, truncated, zero-size, not an image, a metadata line whose file is missing,
    /// an image without a caption). Default false: bad files are skipped and listed in <see cref="ImageFolderDataset.Skipped"/>.
    /// </summary>
    public bool Strict { get; init; }

    /// <summary>Mirror each image left-right with probability 1/2 every time a trainer reads it. Default false (flipping breaks digits and text).</summary>
    public bool RandomFlip { get; init; }

    /// <summary>
    /// Take a random square window along the longer side (after the shorter side is resized to <see cref="Size"/>)
    /// every time a trainer reads it, instead of the centre one. Square images have only one window. Default false.
    /// </summary>
    public bool RandomCrop { get; init; }

    /// <summary>
    /// Most bytes of decoded pixels kept in memory. When the whole folder fits, every image is decoded once and kept
    /// (cached mode); otherwise the folder is streamed: images are decoded again when read, a prefetching reader works
    /// ahead of the trainer, and at most this many bytes stay resident. Default <see cref="DefaultMaxCacheBytes"/>.
    /// </summary>
    public long MaxCacheBytes { get; init; } = DefaultMaxCacheBytes;

    /// <summary>
    /// The mode to train in: <see cref="Imaging.ImageMode.Grayscale"/> (one channel) or <see cref="Imaging.ImageMode.Rgb"/>
    /// (three), converting the images that differ. Null (default): the mode most of the folder's images have, a tie
    /// taking RGB (see <see cref="ImageFolderDataset"/>).
    /// </summary>
    public ImageMode? ImageMode { get; init; }

    /// <summary>Threads that decode files (the initial scan and the prefetching reader). Default: the processor count.</summary>
    public int DecodeThreads { get; init; } = Environment.ProcessorCount;

    /// <summary>Checks every setting and throws naming the first bad one.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When a number is out of range or <see cref="ImageMode"/> is not a defined mode.</exception>
    /// <exception cref="ArgumentException">When <see cref="CaptionColumn"/> is empty.</exception>
    public void Validate()
    {
        if (Size is { } size && (size < 8 || size % 4 != 0))
        {
            throw new ArgumentOutOfRangeException(nameof(Size), size, "Size must be a multiple of 4 and at least 8 (for example 16, 32 or 64), because the U-Net halves the image twice.");
        }

        if (string.IsNullOrWhiteSpace(CaptionColumn))
        {
            throw new ArgumentException("CaptionColumn must name a metadata.jsonl field, such as \"text\".", nameof(CaptionColumn));
        }

        if (MaxCacheBytes < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxCacheBytes), MaxCacheBytes, "MaxCacheBytes must be 0 (stream everything) or more.");
        }

        if (ImageMode is { } mode && mode is not (Imaging.ImageMode.Grayscale or Imaging.ImageMode.Rgb))
        {
            throw new ArgumentOutOfRangeException(nameof(ImageMode), mode, $"ImageMode must be Grayscale ({ImageModeNames.Grayscale}) or Rgb ({ImageModeNames.Rgb}), or null for the folder's majority.");
        }

        if (DecodeThreads < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(DecodeThreads), DecodeThreads, "DecodeThreads must be at least 1.");
        }
    }
}
