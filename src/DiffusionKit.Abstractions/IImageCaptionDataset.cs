namespace DiffusionKit;

/// <summary>A read-only collection of (image, caption) pairs for training.</summary>
/// <remarks>
/// Images are square, 8-bit, channel-last (HWC) RGB or grayscale. Implementations are immutable and safe to read
/// from several threads.
/// </remarks>
public interface IImageCaptionDataset
{
    /// <summary>Number of pairs.</summary>
    int Count { get; }

    /// <summary>Height and width of every image, in pixels.</summary>
    int ImageSize { get; }

    /// <summary>Channels per pixel (3 for RGB).</summary>
    int Channels { get; }

    /// <summary>The caption (prompt) of pair <paramref name="index"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="index"/> is outside 0..Count-1.</exception>
    string GetCaption(int index);

    /// <summary>Copies image <paramref name="index"/> as HWC bytes into <paramref name="destination"/>.</summary>
    /// <param name="index">0..Count-1.</param>
    /// <param name="destination">At least ImageSize·ImageSize·Channels bytes.</param>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="index"/> is out of range.</exception>
    /// <exception cref="ArgumentException">When <paramref name="destination"/> is too small.</exception>
    void CopyImage(int index, Span<byte> destination);
}
