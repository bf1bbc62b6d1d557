using DiffusionKit.Demo.Shapes;

namespace DiffusionKit.Demo.Evaluation;

/// <summary>
/// A rule-based judge of prompt adherence for images of the "shapes" data set: it reads colour, shape and size back
/// from an RGB image, so generated samples can be scored against their prompts.
/// </summary>
/// <remarks>
/// <para>The rules, built to tolerate noisy, blurry generated images:</para>
/// <list type="number">
/// <item>Foreground: pixels whose largest channel is at least <see cref="ForegroundThreshold"/> (128, half of the
/// catalogue's full-on 255). A half-maximum threshold puts a blurred edge back where the hard edge was, so sizes are
/// not inflated by blur, and Gaussian noise of σ = 0.1 (25.5 levels) needs a 5σ excursion to flip a pixel.</item>
/// <item>The shape is the largest 8-connected foreground component; stray specks are ignored. No foreground means an
/// all-null verdict.</item>
/// <item>Size: the bounding side (the larger of the component's width and height) against the midpoint between the
/// small maximum and the large minimum (7 and 9 px at 16 px, so 8 px; 16 at 32; 32 at 64): at least the midpoint is
/// large, below is small.</item>
/// <item>Colour: the mean RGB of the component, rescaled so its largest channel is 255 (so a dim generated shape
/// keeps its hue), then the nearest catalogue colour by Euclidean distance.</item>
/// <item>Shape: the component is compared, pixel by pixel inside its bounding box, with the data set's own
/// rasterisation of each of the four shapes stretched to that box (circle, square, triangle apex up, cross with
/// arms of a third); the shape whose template agrees on the most pixels wins (ties go to the earlier
/// <see cref="ShapeKind"/> value). Template matching uses all the geometry at once — fill ratio (square 1, circle
/// ≈ π/4, cross ≈ 5/9, triangle ≈ ½), empty corners, a narrow top — rather than one brittle ratio.</item>
/// </list>
/// <para>Pure and thread-safe.</para>
/// </remarks>
public static class ShapesJudge
{
    /// <summary>The foreground threshold on the largest channel (0–255): 128.</summary>
    public const int ForegroundThreshold = 128;

    private static readonly ShapeKind[] Kinds = Enum.GetValues<ShapeKind>();
    private static readonly ShapeColor[] Colors = Enum.GetValues<ShapeColor>();

    /// <summary>Reads colour, shape and size from one image.</summary>
    /// <param name="rgb">HWC RGB bytes, <c>size·size·3</c> of them.</param>
    /// <param name="size">Height and width in pixels (16, 32 and 64 are the data set's sizes; any size of at least 4 works, with thresholds scaled by size/16).</param>
    /// <returns>The verdict; attributes are null when the image holds no foreground.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="size"/> is below 4.</exception>
    /// <exception cref="ArgumentException">When <paramref name="rgb"/> does not hold exactly size·size·3 bytes.</exception>
    public static ShapeVerdict Judge(ReadOnlySpan<byte> rgb, int size)
    {
        CheckImage(rgb.Length, size, nameof(rgb));
        int pixels = size * size;

        // 1. Foreground mask.
        bool[] foreground = new bool[pixels];
        for (int p = 0; p < pixels; p++)
        {
            int o = p * 3;
            foreground[p] = Math.Max(rgb[o], Math.Max(rgb[o + 1], rgb[o + 2])) >= ForegroundThreshold;
        }

        // 2. Largest 8-connected component.
        int[] label = new int[pixels];
        int[] stack = new int[pixels];
        int best = 0, bestCount = 0, next = 0;
        for (int seed = 0; seed < pixels; seed++)
        {
            if (!foreground[seed] || label[seed] != 0)
            {
                continue;
            }

            int id = ++next, count = 0, top = 0;
            stack[top++] = seed;
            label[seed] = id;
            while (top > 0)
            {
                int p = stack[--top];
                count++;
                int py = p / size, px = p % size;
                for (int dy = -1; dy <= 1; dy++)
                {
                    for (int dx = -1; dx <= 1; dx++)
                    {
                        int y = py + dy, x = px + dx;
                        if ((uint)y < (uint)size && (uint)x < (uint)size)
                        {
                            int q = (y * size) + x;
                            if (foreground[q] && label[q] == 0)
                            {
                                label[q] = id;
                                stack[top++] = q;
                            }
                        }
                    }
                }
            }

            if (count > bestCount)
            {
                best = id;
                bestCount = count;
            }
        }

        if (bestCount == 0)
        {
            return new ShapeVerdict(null, null, null);
        }

        // 3. Bounding box and mean colour of the component.
        int left = size, right = -1, topRow = size, bottom = -1;
        double sumR = 0, sumG = 0, sumB = 0;
        for (int p = 0; p < pixels; p++)
        {
            if (label[p] != best)
            {
                continue;
            }

            int y = p / size, x = p % size;
            left = Math.Min(left, x);
            right = Math.Max(right, x);
            topRow = Math.Min(topRow, y);
            bottom = Math.Max(bottom, y);
            sumR += rgb[p * 3];
            sumG += rgb[(p * 3) + 1];
            sumB += rgb[(p * 3) + 2];
        }

        int width = right - left + 1, height = bottom - topRow + 1;

        // 4. Size from the bounding side against the midpoint of the two ranges.
        double scale = size / (double)ShapesCatalog.ReferenceImageSize;
        double midpoint = (7 + 9) / 2.0 * scale;
        ShapeSize shapeSize = Math.Max(width, height) >= midpoint ? ShapeSize.Large : ShapeSize.Small;

        // 5. Colour: brightness-normalised mean, nearest catalogue colour.
        double peak = Math.Max(sumR, Math.Max(sumG, sumB));
        double r = sumR / peak * 255, g = sumG / peak * 255, b = sumB / peak * 255;
        ShapeColor color = Colors.MinBy(c =>
        {
            Rgb reference = ShapesCatalog.GetRgb(c);
            return Square(r - reference.R) + Square(g - reference.G) + Square(b - reference.B);
        });

        // 6. Shape: the template that agrees on the most pixels of the bounding box.
        ShapeKind kind = Kinds[0];
        int bestAgreement = -1;
        foreach (ShapeKind candidate in Kinds)
        {
            int agreement = 0;
            for (int y = 0; y < height; y++)
            {
                for (int x = 0; x < width; x++)
                {
                    bool inside = label[((topRow + y) * size) + left + x] == best;
                    if (inside == ShapeRaster.Contains(candidate, x, y, width, height))
                    {
                        agreement++;
                    }
                }
            }

            if (agreement > bestAgreement)
            {
                bestAgreement = agreement;
                kind = candidate;
            }
        }

        return new ShapeVerdict(color, kind, shapeSize);
    }

    /// <summary>Judges every image against its prompt and reports per-attribute and all-three accuracy, overall and per prompt.</summary>
    /// <param name="samples">(prompt, image) pairs; prompts are shapes captions (<c>a {size} {color} {shape}</c>), images HWC RGB of <paramref name="imageSize"/>².</param>
    /// <param name="imageSize">Height and width of every image.</param>
    /// <returns>The report.</returns>
    /// <exception cref="ArgumentNullException">When <paramref name="samples"/> or an image is null.</exception>
    /// <exception cref="ArgumentException">When there are no samples, a prompt is not a shapes caption, or an image has the wrong length.</exception>
    public static AdherenceReport Score(IEnumerable<(string Prompt, byte[] Rgb)> samples, int imageSize)
    {
        ArgumentNullException.ThrowIfNull(samples);
        var tallies = new SortedDictionary<int, Tally>();
        var total = new Tally();
        foreach ((string prompt, byte[] image) in samples)
        {
            if (!ShapesCatalog.TryParse(prompt, out ShapeSpec spec))
            {
                throw new ArgumentException(
                    $"Prompt '{prompt}' is not a shapes caption; the judge only scores captions like 'a large red circle' (see ShapesCatalog.AllPrompts).",
                    nameof(samples));
            }

            if (image is null)
            {
                throw new ArgumentNullException(nameof(samples), $"The image for prompt '{prompt}' is null.");
            }

            CheckImage(image.Length, imageSize, nameof(samples));
            ShapeVerdict verdict = Judge(image, imageSize);
            int key = ShapesCatalog.IndexOf(spec);
            if (!tallies.TryGetValue(key, out Tally? tally))
            {
                tallies[key] = tally = new Tally();
            }

            tally.Add(verdict, spec);
            total.Add(verdict, spec);
        }

        if (total.Count == 0)
        {
            throw new ArgumentException("There are no samples to score; pass at least one (prompt, image) pair.", nameof(samples));
        }

        var perPrompt = tallies
            .Select(kv => kv.Value.ToPrompt(ShapesCatalog.AllPrompts[kv.Key]))
            .ToArray();
        return new AdherenceReport(
            total.Count,
            total.Color / (double)total.Count,
            total.Kind / (double)total.Count,
            total.Size / (double)total.Count,
            total.All / (double)total.Count,
            perPrompt);
    }

    private static double Square(double v) => v * v;

    private static void CheckImage(int length, int size, string paramName)
    {
        if (size < 4)
        {
            throw new ArgumentOutOfRangeException(nameof(size), size, "The image size must be at least 4 pixels (the data set uses 16, 32 or 64).");
        }

        long expected = 3L * size * size;
        if (length != expected)
        {
            throw new ArgumentException(
                $"An image of {size}×{size} RGB (HWC) needs {expected} bytes but {length} were given; pass the right size or image.",
                paramName);
        }
    }

    private sealed class Tally
    {
        public int Count { get; private set; }

        public int Color { get; private set; }

        public int Kind { get; private set; }

        public int Size { get; private set; }

        public int All { get; private set; }

        public void Add(ShapeVerdict verdict, ShapeSpec spec)
        {
            Count++;
            Color += verdict.Color == spec.Color ? 1 : 0;
            Kind += verdict.Kind == spec.Kind ? 1 : 0;
            Size += verdict.Size == spec.Size ? 1 : 0;
            All += verdict.Matches(spec) ? 1 : 0;
        }

        public PromptAdherence ToPrompt(string prompt) =>
            new(prompt, Count, Color / (double)Count, Kind / (double)Count, Size / (double)Count, All / (double)Count);
    }
}
