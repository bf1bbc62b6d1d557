namespace DiffusionKit.Demo.Shapes;

/// <summary>Settings of a generated <see cref="ShapesDataset"/>.</summary>
public sealed class ShapesDatasetOptions
{
    /// <summary>Number of images to generate. Default 1000. Must be at least 1, and all images must fit in one array.</summary>
    public int Count { get; init; } = 1000;

    /// <summary>Height and width in pixels. Default 16; 32 and 64 are also allowed (shape sizes scale with it).</summary>
    public int ImageSize { get; init; } = 16;

    /// <summary>Seed of the generator (<see cref="System.Random(int)"/>); the same seed gives the same bytes on every machine. Default 0.</summary>
    public int Seed { get; init; }

    /// <summary>
    /// (colour, shape) pairs that never appear, in either size, for testing generalisation to unseen combinations.
    /// Default empty. At most 23 distinct pairs (at least one of the 24 must remain).
    /// </summary>
    public IReadOnlyCollection<(ShapeColor Color, ShapeKind Kind)> HeldOut { get; init; } =
        Array.Empty<(ShapeColor, ShapeKind)>();

    /// <summary>Checks every setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">When <see cref="Count"/> or <see cref="ImageSize"/> is out of range, or <see cref="HeldOut"/> holds an undefined enum value; the message names the setting.</exception>
    /// <exception cref="ArgumentException">When <see cref="HeldOut"/> is null or holds every pair.</exception>
    public void Validate()
    {
        ShapesCatalog.ValidateImageSize(ImageSize, nameof(ImageSize));
        long bytesPerImage = (long)ImageSize * ImageSize * 3;
        if (Count < 1 || Count * bytesPerImage > Array.MaxLength)
        {
            throw new ArgumentOutOfRangeException(
                nameof(Count),
                Count,
                $"{nameof(Count)} must be between 1 and {Array.MaxLength / bytesPerImage} at {ImageSize}×{ImageSize} "
                + "(all images are held in one byte array).");
        }

        if (HeldOut is null)
        {
            throw new ArgumentException($"{nameof(HeldOut)} must not be null; use an empty collection to hold nothing out.", nameof(HeldOut));
        }

        foreach ((ShapeColor color, ShapeKind kind) in HeldOut)
        {
            if (!Enum.IsDefined(color) || !Enum.IsDefined(kind))
            {
                throw new ArgumentOutOfRangeException(
                    nameof(HeldOut), (color, kind), $"{nameof(HeldOut)} holds an undefined ShapeColor or ShapeKind; use the enum's named values.");
            }
        }

        int total = Enum.GetValues<ShapeColor>().Length * Enum.GetValues<ShapeKind>().Length;
        if (HeldOut.Distinct().Count() >= total)
        {
            throw new ArgumentException(
                $"{nameof(HeldOut)} holds all {total} (colour, shape) pairs, so nothing is left to generate; hold out fewer pairs.",
                nameof(HeldOut));
        }
    }
}
