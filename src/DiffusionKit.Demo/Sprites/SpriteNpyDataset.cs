using DiffusionKit.Data;
using DiffusionKit.Text;

namespace DiffusionKit.Demo.Sprites;

/// <summary>
/// The course's 16×16 sprite data ("How Diffusion Models Work"): an images file, uint8 <c>(N, H, W, 3)</c>, and a
/// labels file, <c>(N, 5)</c> one-hot (float64 in the course; float32, int64 and uint8 are accepted too).
/// </summary>
/// <remarks>
/// <para>The caption of a sprite is the name of its class (<see cref="ClassNames"/>[argmax of its label row]).</para>
/// <para>
/// Label rows must be exactly one-hot: one entry 1, the rest 0 (within 1e-6). A row of all zeros is rejected too, not
/// read as "unconditional": the course's files have none, and turning a damaged row into an empty caption would
/// silently train the unconditional case on it. Drop context for classifier-free guidance in the training loop
/// instead. Any other row is an <see cref="InvalidDataException"/> naming the file and the row.
/// </para>
/// <para>Thread-safety: immutable after loading; safe to read from several threads.</para>
/// </remarks>
public sealed class SpriteNpyDataset : IImageCaptionDataset
{
    private const double OneHotTolerance = 1e-6;

    private readonly byte[] _pixels;
    private readonly byte[] _labels;
    private readonly int _imageBytes;

    private SpriteNpyDataset(byte[] pixels, byte[] labels, int imageSize)
    {
        _pixels = pixels;
        _labels = labels;
        ImageSize = imageSize;
        _imageBytes = imageSize * imageSize * 3;
    }

    /// <summary>The five class names, in label-column order: hero, non-hero, food, spell, side-facing.</summary>
    public static IReadOnlyList<string> ClassNames { get; } = new[] { "hero", "non-hero", "food", "spell", "side-facing" };

    /// <summary>The prompt encoder of the course's sprites: a <see cref="BagOfWordsEncoder"/> over hero, non-hero, food, spell, side-facing (<see cref="ClassNames"/> order).</summary>
    /// <returns>A new encoder with <see cref="BagOfWordsEncoder.ContextSize"/> 5.</returns>
    public static BagOfWordsEncoder CreateEncoder() => new(ClassNames);

    /// <inheritdoc />
    public int Count => _labels.Length;

    /// <inheritdoc />
    public int ImageSize { get; }

    /// <inheritdoc />
    public int Channels => 3;

    /// <summary>Loads and checks the two files, e.g. <c>sprites_1788_16x16.npy</c> and <c>sprite_labels_nc_1788_16x16.npy</c>.</summary>
    /// <param name="imagesPath">uint8 array of shape (N, H, W, 3) with H = W.</param>
    /// <param name="labelsPath">Array of shape (N, 5), one-hot rows in <see cref="ClassNames"/> order.</param>
    /// <returns>The data set.</returns>
    /// <exception cref="FileNotFoundException">When a file does not exist.</exception>
    /// <exception cref="InvalidDataException">When a file is not a valid .npy array, has the wrong dtype or shape, the counts differ, or a label row is not one-hot; the message names the file (and the row).</exception>
    public static SpriteNpyDataset Load(string imagesPath, string labelsPath)
    {
        ArgumentException.ThrowIfNullOrEmpty(imagesPath);
        ArgumentException.ThrowIfNullOrEmpty(labelsPath);

        NpyArray images = NpyReader.Read(imagesPath);
        if (images.DataType != NpyDataType.UInt8 || images.Shape.Count != 4 || images.Shape[3] != 3
            || images.Shape[1] != images.Shape[2] || images.Shape[1] == 0)
        {
            throw new InvalidDataException(
                $"'{imagesPath}' must hold uint8 images of shape (N, H, W, 3) with H = W > 0, but holds {images.DataType} ({string.Join(", ", images.Shape)}).");
        }

        NpyArray labels = NpyReader.Read(labelsPath);
        if (labels.Shape.Count != 2 || labels.Shape[1] != ClassNames.Count)
        {
            throw new InvalidDataException(
                $"'{labelsPath}' must hold labels of shape (N, {ClassNames.Count}) ({string.Join(", ", ClassNames)}), but holds ({string.Join(", ", labels.Shape)}).");
        }

        if (labels.Shape[0] != images.Shape[0])
        {
            throw new InvalidDataException(
                $"'{imagesPath}' holds {images.Shape[0]} images but '{labelsPath}' holds {labels.Shape[0]} label rows; the counts must match.");
        }

        int n = labels.Shape[0];
        byte[] classes = new byte[n];
        for (int row = 0; row < n; row++)
        {
            int hot = -1;
            for (int c = 0; c < ClassNames.Count; c++)
            {
                double v = labels.GetDouble(((long)row * ClassNames.Count) + c);
                if (Math.Abs(v - 1) <= OneHotTolerance && hot < 0)
                {
                    hot = c;
                }
                else if (!(Math.Abs(v) <= OneHotTolerance))
                {
                    hot = -2;
                    break;
                }
            }

            if (hot < 0)
            {
                string values = string.Join(
                    ", ", Enumerable.Range(0, ClassNames.Count).Select(c => labels.GetDouble(((long)row * ClassNames.Count) + c).ToString("R", System.Globalization.CultureInfo.InvariantCulture)));
                throw new InvalidDataException(
                    $"'{labelsPath}' row {row} is [{values}], which is not one-hot; every row needs exactly one 1 and zeros elsewhere.");
            }

            classes[row] = (byte)hot;
        }

        return new SpriteNpyDataset(images.Data, classes, images.Shape[1]);
    }

    /// <summary>The class index (into <see cref="ClassNames"/>) of sprite <paramref name="index"/>.</summary>
    /// <param name="index">0..Count-1.</param>
    /// <returns>0..4.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="index"/> is out of range.</exception>
    public int GetLabel(int index)
    {
        CheckIndex(index);
        return _labels[index];
    }

    /// <inheritdoc />
    public string GetCaption(int index) => ClassNames[GetLabel(index)];

    /// <inheritdoc />
    public void CopyImage(int index, Span<byte> destination) => PackedImages.Copy(_pixels, _labels.Length, ImageSize, index, destination);

    private void CheckIndex(int index) => PackedImages.CheckIndex(index, _labels.Length);
}
