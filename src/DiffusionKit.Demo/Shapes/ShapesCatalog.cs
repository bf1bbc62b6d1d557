using DiffusionKit.Text;

namespace DiffusionKit.Demo.Shapes;

/// <summary>
/// The fixed vocabulary of the built-in "shapes" data set: exact colours, size ranges, captions and the 48 prompts.
/// </summary>
/// <remarks>
/// <para>
/// Catalogue order (used by <see cref="AllSpecs"/> and <see cref="AllPrompts"/>): size outermost (small, large), then
/// colour (red, green, blue, yellow, magenta, cyan), then shape innermost (circle, square, triangle, cross). The index
/// of a combination is therefore <c>(size·6 + colour)·4 + shape</c>; index 0 is "a small red circle" and index 47 is
/// "a large cyan cross".
/// </para>
/// <para>All members are pure and thread-safe.</para>
/// </remarks>
public static class ShapesCatalog
{
    /// <summary>The reference resolution at which the size ranges are defined (16 px).</summary>
    public const int ReferenceImageSize = 16;

    /// <summary>The image sizes the data set supports: 16, 32 and 64.</summary>
    public static IReadOnlyList<int> SupportedImageSizes { get; } = new[] { 16, 32, 64 };

    /// <summary>All 48 combinations in catalogue order.</summary>
    public static IReadOnlyList<ShapeSpec> AllSpecs { get; } = BuildSpecs();

    /// <summary>All 48 captions in catalogue order (the caption of <see cref="AllSpecs"/>[i] is at index i).</summary>
    public static IReadOnlyList<string> AllPrompts { get; } = AllSpecs.Select(s => s.Caption).ToArray();

    /// <summary>The six colour words in catalogue order.</summary>
    public static IReadOnlyList<string> ColorWords { get; } = Enum.GetValues<ShapeColor>().Select(Word).ToArray();

    /// <summary>The four shape words in catalogue order.</summary>
    public static IReadOnlyList<string> KindWords { get; } = Enum.GetValues<ShapeKind>().Select(Word).ToArray();

    /// <summary>The two size words in catalogue order.</summary>
    public static IReadOnlyList<string> SizeWords { get; } = Enum.GetValues<ShapeSize>().Select(Word).ToArray();

    /// <summary>
    /// The prompt encoder of the "shapes" data set: a <see cref="BagOfWordsEncoder"/> over 12 words, the six colours
    /// (red, green, blue, yellow, magenta, cyan), then the four shapes (circle, square, triangle, cross), then the two
    /// sizes (small, large) — <see cref="ColorWords"/>, <see cref="KindWords"/>, <see cref="SizeWords"/>.
    /// </summary>
    /// <returns>A new encoder with <see cref="BagOfWordsEncoder.ContextSize"/> 12.</returns>
    public static BagOfWordsEncoder CreateEncoder() => new(ColorWords.Concat(KindWords).Concat(SizeWords));

    /// <summary>The exact RGB of a catalogue colour.</summary>
    /// <param name="color">The colour.</param>
    /// <returns>Red (255,0,0), green (0,255,0), blue (0,0,255), yellow (255,255,0), magenta (255,0,255) or cyan (0,255,255).</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="color"/> is not a defined value.</exception>
    public static Rgb GetRgb(ShapeColor color) => color switch
    {
        ShapeColor.Red => new Rgb(255, 0, 0),
        ShapeColor.Green => new Rgb(0, 255, 0),
        ShapeColor.Blue => new Rgb(0, 0, 255),
        ShapeColor.Yellow => new Rgb(255, 255, 0),
        ShapeColor.Magenta => new Rgb(255, 0, 255),
        ShapeColor.Cyan => new Rgb(0, 255, 255),
        _ => throw new ArgumentOutOfRangeException(nameof(color), color, "Use one of the six ShapeColor values."),
    };

    /// <summary>The lowercase caption word of a colour ("red", …).</summary>
    /// <param name="color">The colour.</param>
    /// <returns>The word.</returns>
    public static string Word(ShapeColor color) =>
        Enum.IsDefined(color)
            ? color.ToString().ToLowerInvariant()
            : throw new ArgumentOutOfRangeException(nameof(color), color, "Use one of the six ShapeColor values.");

    /// <summary>The lowercase caption word of a shape ("circle", …).</summary>
    /// <param name="kind">The shape.</param>
    /// <returns>The word.</returns>
    public static string Word(ShapeKind kind) =>
        Enum.IsDefined(kind)
            ? kind.ToString().ToLowerInvariant()
            : throw new ArgumentOutOfRangeException(nameof(kind), kind, "Use one of the four ShapeKind values.");

    /// <summary>The lowercase caption word of a size ("small" or "large").</summary>
    /// <param name="size">The size.</param>
    /// <returns>The word.</returns>
    public static string Word(ShapeSize size) =>
        Enum.IsDefined(size)
            ? size.ToString().ToLowerInvariant()
            : throw new ArgumentOutOfRangeException(nameof(size), size, "Use ShapeSize.Small or ShapeSize.Large.");

    /// <summary>Builds the caption <c>a {size} {color} {shape}</c>, e.g. "a large red circle".</summary>
    /// <param name="size">The size.</param>
    /// <param name="color">The colour.</param>
    /// <param name="kind">The shape.</param>
    /// <returns>The lowercase caption.</returns>
    public static string Caption(ShapeSize size, ShapeColor color, ShapeKind kind) =>
        $"a {Word(size)} {Word(color)} {Word(kind)}";

    /// <summary>
    /// Parses a caption of the form <c>a {size} {color} {shape}</c>. Case and surrounding or repeated whitespace are
    /// ignored; nothing else is (no missing article, no extra words, no reordering).
    /// </summary>
    /// <param name="caption">The caption, e.g. "a large red circle".</param>
    /// <param name="spec">The parsed combination, or default when parsing fails.</param>
    /// <returns>True when <paramref name="caption"/> is one of the 48 captions.</returns>
    public static bool TryParse(string? caption, out ShapeSpec spec)
    {
        spec = default;
        if (caption is null)
        {
            return false;
        }

        string[] words = caption.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (words.Length != 4 || !string.Equals(words[0], "a", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        int size = IndexOf(SizeWords, words[1]);
        int color = IndexOf(ColorWords, words[2]);
        int kind = IndexOf(KindWords, words[3]);
        if (size < 0 || color < 0 || kind < 0)
        {
            return false;
        }

        spec = new ShapeSpec((ShapeSize)size, (ShapeColor)color, (ShapeKind)kind);
        return true;
    }

    /// <summary>Parses a caption like <see cref="TryParse"/> but throws when it is not one of the 48 captions.</summary>
    /// <param name="caption">The caption.</param>
    /// <returns>The combination.</returns>
    /// <exception cref="ArgumentException">When <paramref name="caption"/> is not of the form <c>a {size} {color} {shape}</c>.</exception>
    public static ShapeSpec Parse(string caption)
    {
        ArgumentNullException.ThrowIfNull(caption);
        return TryParse(caption, out ShapeSpec spec)
            ? spec
            : throw new ArgumentException(
                $"'{caption}' is not a shapes caption. Use 'a {{size}} {{color}} {{shape}}' with size in "
                + $"[{string.Join(", ", SizeWords)}], color in [{string.Join(", ", ColorWords)}] and shape in "
                + $"[{string.Join(", ", KindWords)}], e.g. 'a large red circle'.",
                nameof(caption));
    }

    /// <summary>The position of a combination in catalogue order, <c>(size·6 + colour)·4 + shape</c>.</summary>
    /// <param name="spec">The combination.</param>
    /// <returns>0..47.</returns>
    public static int IndexOf(ShapeSpec spec) =>
        (((int)spec.Size * ColorWords.Count) + (int)spec.Color) * KindWords.Count + (int)spec.Kind;

    /// <summary>The smallest bounding side of a size class at a resolution: small 5, large 9 at 16 px, times ImageSize/16.</summary>
    /// <param name="size">The size class.</param>
    /// <param name="imageSize">16, 32 or 64.</param>
    /// <returns>The minimum side in pixels.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="imageSize"/> is not 16, 32 or 64.</exception>
    public static int MinSide(ShapeSize size, int imageSize) => (size == ShapeSize.Small ? 5 : 9) * Scale(imageSize);

    /// <summary>The largest bounding side of a size class at a resolution: small 7, large 12 at 16 px, times ImageSize/16.</summary>
    /// <param name="size">The size class.</param>
    /// <param name="imageSize">16, 32 or 64.</param>
    /// <returns>The maximum side in pixels.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="imageSize"/> is not 16, 32 or 64.</exception>
    public static int MaxSide(ShapeSize size, int imageSize) => (size == ShapeSize.Small ? 7 : 12) * Scale(imageSize);

    /// <summary>Throws unless <paramref name="imageSize"/> is 16, 32 or 64.</summary>
    /// <param name="imageSize">The value to check.</param>
    /// <param name="paramName">The name reported in the exception.</param>
    /// <exception cref="ArgumentOutOfRangeException">When the value is not supported.</exception>
    internal static void ValidateImageSize(int imageSize, string paramName)
    {
        if (imageSize is not (16 or 32 or 64))
        {
            throw new ArgumentOutOfRangeException(
                paramName, imageSize, $"{paramName} must be 16, 32 or 64 (the shapes data set's supported resolutions).");
        }
    }

    private static int Scale(int imageSize)
    {
        ValidateImageSize(imageSize, nameof(imageSize));
        return imageSize / ReferenceImageSize;
    }

    private static int IndexOf(IReadOnlyList<string> words, string word)
    {
        for (int i = 0; i < words.Count; i++)
        {
            if (string.Equals(words[i], word, StringComparison.OrdinalIgnoreCase))
            {
                return i;
            }
        }

        return -1;
    }

    private static ShapeSpec[] BuildSpecs()
    {
        var specs = new List<ShapeSpec>(48);
        foreach (ShapeSize size in Enum.GetValues<ShapeSize>())
        {
            foreach (ShapeColor color in Enum.GetValues<ShapeColor>())
            {
                foreach (ShapeKind kind in Enum.GetValues<ShapeKind>())
                {
                    specs.Add(new ShapeSpec(size, color, kind));
                }
            }
        }

        return specs.ToArray();
    }
}
