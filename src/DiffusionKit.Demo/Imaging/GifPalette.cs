using DiffusionKit.Imaging;

namespace DiffusionKit.Demo.Imaging;

/// <summary>A GIF colour table and the mapping of each frame's pixels to indices in it.</summary>
internal sealed class GifPalette
{
    private readonly Func<byte, byte, byte, byte> indexOf;

    private GifPalette(RgbColor[] colors, Func<byte, byte, byte, byte> indexOf)
    {
        Colors = colors;
        this.indexOf = indexOf;
        int bits = 1;
        while ((1 << bits) < colors.Length)
        {
            bits++;
        }

        TableBits = bits;
    }

    /// <summary>The colours in use (at most 256).</summary>
    public RgbColor[] Colors { get; }

    /// <summary>log2 of the table size written to the file: the smallest power of two, at least 2, holding <see cref="Colors"/>.</summary>
    public int TableBits { get; }

    /// <summary>The 6 x 7 x 6 uniform palette: index <c>r * 42 + g * 6 + b</c> for levels r, b in 0..5 and g in 0..6.</summary>
    /// <returns>The palette.</returns>
    public static GifPalette Uniform()
    {
        var colors = new RgbColor[6 * 7 * 6];
        for (int r = 0; r < 6; r++)
        {
            for (int g = 0; g < 7; g++)
            {
                for (int b = 0; b < 6; b++)
                {
                    colors[(r * 42) + (g * 6) + b] = new RgbColor(Level(r, 6), Level(g, 7), Level(b, 6));
                }
            }
        }

        return new GifPalette(colors, static (r, g, b) => (byte)((Nearest(r, 6) * 42) + (Nearest(g, 7) * 6) + Nearest(b, 6)));
    }

    /// <summary>The 256 grey levels: index <c>v</c> is (v, v, v), and a pixel maps to its <see cref="RgbImage.Luma"/> (exact for grey pixels).</summary>
    /// <returns>The palette.</returns>
    public static GifPalette Grey()
    {
        var colors = new RgbColor[256];
        for (int v = 0; v < colors.Length; v++)
        {
            colors[v] = new RgbColor((byte)v, (byte)v, (byte)v);
        }

        return new GifPalette(colors, RgbImage.Luma);
    }

    /// <summary>
    /// Median cut (Heckbert 1982) over the distinct colours of <paramref name="images"/>: start with one box holding
    /// every colour; repeatedly take the box whose widest channel range is largest, sort its colours along that
    /// channel and split it where half of its pixels (by count) lie on each side; stop at 256 boxes or when no box
    /// holds two colours. Each box's colour is the pixel-weighted mean of its colours, and each colour maps to its
    /// box. With 256 or fewer distinct colours the palette is exact.
    /// </summary>
    /// <param name="images">The pixels to fit.</param>
    /// <returns>The palette.</returns>
    public static GifPalette MedianCut(IEnumerable<RgbImage> images)
    {
        var counts = new Dictionary<int, int>();
        foreach (RgbImage image in images)
        {
            byte[] px = image.Pixels;
            for (int i = 0; i < px.Length; i += 3)
            {
                int key = (px[i] << 16) | (px[i + 1] << 8) | px[i + 2];
                counts[key] = counts.GetValueOrDefault(key) + 1;
            }
        }

        var boxes = new List<(int Key, int Count)[]> { counts.Select(kv => (kv.Key, kv.Value)).OrderBy(e => e.Key).ToArray() };
        while (boxes.Count < 256)
        {
            int pick = -1, pickRange = 0, pickShift = 0;
            for (int i = 0; i < boxes.Count; i++)
            {
                if (boxes[i].Length < 2)
                {
                    continue;
                }

                (int range, int shift) = WidestChannel(boxes[i]);
                if (range > pickRange)
                {
                    (pick, pickRange, pickShift) = (i, range, shift);
                }
            }

            if (pick < 0)
            {
                break;
            }

            var box = boxes[pick];
            int sh = pickShift;
            Array.Sort(box, (a, b) => ((a.Key >> sh) & 0xFF).CompareTo((b.Key >> sh) & 0xFF) is var c and not 0 ? c : a.Key.CompareTo(b.Key));
            long total = box.Sum(e => (long)e.Count), running = 0;
            int split = 1;
            for (int i = 0; i < box.Length - 1; i++)
            {
                running += box[i].Count;
                split = i + 1;
                if (running * 2 >= total)
                {
                    break;
                }
            }

            boxes[pick] = box[..split];
            boxes.Add(box[split..]);
        }

        var colors = new RgbColor[boxes.Count];
        var map = new Dictionary<int, byte>(counts.Count);
        for (int i = 0; i < boxes.Count; i++)
        {
            long r = 0, g = 0, b = 0, n = 0;
            foreach (var (key, count) in boxes[i])
            {
                r += (long)((key >> 16) & 0xFF) * count;
                g += (long)((key >> 8) & 0xFF) * count;
                b += (long)(key & 0xFF) * count;
                n += count;
                map[key] = (byte)i;
            }

            colors[i] = new RgbColor((byte)((r + (n / 2)) / n), (byte)((g + (n / 2)) / n), (byte)((b + (n / 2)) / n));
        }

        return new GifPalette(colors, (r, g, b) => map[(r << 16) | (g << 8) | b]);
    }

    /// <summary>Maps every pixel of <paramref name="image"/> to its palette index.</summary>
    /// <param name="image">An image whose colours this palette was built for (any image, for the uniform palette).</param>
    /// <returns>One index per pixel, row-major.</returns>
    public byte[] Map(RgbImage image)
    {
        byte[] px = image.Pixels;
        var indices = new byte[px.Length / 3];
        for (int i = 0; i < indices.Length; i++)
        {
            indices[i] = indexOf(px[i * 3], px[(i * 3) + 1], px[(i * 3) + 2]);
        }

        return indices;
    }

    private static byte Level(int level, int levels) => (byte)(((level * 255) + ((levels - 1) / 2)) / (levels - 1));

    private static int Nearest(byte value, int levels) => ((value * (levels - 1)) + 127) / 255;

    private static (int Range, int Shift) WidestChannel((int Key, int Count)[] box)
    {
        int bestRange = -1, bestShift = 16;
        foreach (int shift in (ReadOnlySpan<int>)[16, 8, 0])
        {
            int min = 255, max = 0;
            foreach (var (key, _) in box)
            {
                int v = (key >> shift) & 0xFF;
                min = Math.Min(min, v);
                max = Math.Max(max, v);
            }

            if (max - min > bestRange)
            {
                (bestRange, bestShift) = (max - min, shift);
            }
        }

        return (bestRange, bestShift);
    }
}
