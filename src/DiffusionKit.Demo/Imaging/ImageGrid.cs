using DiffusionKit.Imaging;

namespace DiffusionKit.Demo.Imaging;

/// <summary>
/// Lays equally sized images out in a grid, optionally with a caption per cell and a label per row, drawn with
/// <see cref="BitmapFont"/>.
/// </summary>
/// <remarks>
/// <para>Layout, with <c>S</c> = <see cref="ImageGridOptions.Scale"/>, <c>F</c> = <see cref="ImageGridOptions.FontScale"/>,
/// <c>P</c> = <see cref="ImageGridOptions.Padding"/>, <c>n</c> images of <c>w x h</c>:</para>
/// <list type="bullet">
/// <item><description>columns <c>c = min(Columns, n)</c>, rows <c>r = ceil(n / c)</c>, filled row by row; cells are <c>w*S x h*S</c>.</description></item>
/// <item><description>Cell captions are word-wrapped to the cell width (<see cref="BitmapFont.Wrap"/>); the caption band is
/// <c>L * 9 * F</c> pixels high, where <c>L</c> is the most lines any caption needs, and sits under (or above) every cell of
/// every row. Each line is 9 font pixels: 1 blank, 7 glyph, 1 blank. Lines are centred. Without captions there is no band.</description></item>
/// <item><description>Row labels sit in a column left of the first cell, <c>MeasureWidth(widest label, F) + 2 * F</c> pixels wide
/// (<see cref="BitmapFont.MeasureWidth"/> plus one font pixel each side), vertically centred on the cell. Without row labels there is no column.</description></item>
/// <item><description>Width <c>= P + rowLabelWidth + c * (w*S + P)</c>; height <c>= P + r * (h*S + band + P)</c>.</description></item>
/// </list>
/// </remarks>
public static class ImageGrid
{
    /// <summary>Composes a grid.</summary>
    /// <param name="images">The cells, row by row; at least one, all the same size.</param>
    /// <param name="options">The layout; null for the defaults.</param>
    /// <param name="labels">One caption per image (null or empty for none), or null for no captions at all.</param>
    /// <param name="rowLabels">One label per row (null or empty for none), or null for no row labels at all.</param>
    /// <returns>The grid image: <see cref="ImageMode.Grayscale"/> when every cell is and the background and text colours are grey, else RGB.</returns>
    /// <exception cref="ArgumentException">No images, images of different sizes, or a label list of the wrong length.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An option is out of range (see <see cref="ImageGridOptions.Validate"/>).</exception>
    public static RgbImage Compose(
        IReadOnlyList<RgbImage> images,
        ImageGridOptions? options = null,
        IReadOnlyList<string?>? labels = null,
        IReadOnlyList<string?>? rowLabels = null)
    {
        ArgumentNullException.ThrowIfNull(images);
        options ??= new ImageGridOptions();
        options.Validate();
        if (images.Count == 0)
        {
            throw new ArgumentException("A grid needs at least one image.", nameof(images));
        }

        int w = images[0].Width, h = images[0].Height;
        for (int i = 0; i < images.Count; i++)
        {
            ArgumentNullException.ThrowIfNull(images[i], $"{nameof(images)}[{i}]");
            if (images[i].Width != w || images[i].Height != h)
            {
                throw new ArgumentException(
                    $"All grid cells must be the same size: image 0 is {w}x{h}, image {i} is {images[i].Width}x{images[i].Height}.", nameof(images));
            }
        }

        int columns = Math.Min(options.Columns, images.Count);
        int rows = (images.Count + columns - 1) / columns;
        if (labels is not null && labels.Count != images.Count)
        {
            throw new ArgumentException($"There are {images.Count} images but {labels.Count} labels.", nameof(labels));
        }

        if (rowLabels is not null && rowLabels.Count != rows)
        {
            throw new ArgumentException($"The grid has {rows} rows but {rowLabels.Count} row labels were given.", nameof(rowLabels));
        }

        int s = options.Scale, f = options.FontScale, p = options.Padding;
        int cellW = checked(w * s), cellH = checked(h * s);
        int lineH = (BitmapFont.GlyphHeight + 2) * f;

        var wrapped = labels?.Select(l => BitmapFont.Wrap(l ?? string.Empty, cellW, f)).ToList();
        int bandH = wrapped is null ? 0 : wrapped.Max(l => l.Count) * lineH;
        // One font pixel of margin each side of the widest row label.
        int rowLabelW = rowLabels is null ? 0 : rowLabels.Max(l => BitmapFont.MeasureWidth(l ?? string.Empty, f)) + (2 * f);

        int width = checked(p + rowLabelW + (columns * (cellW + p)));
        int height = checked(p + (rows * (cellH + bandH + p)));
        RgbImage grid = RgbImage.Filled(width, height, options.Background);

        for (int i = 0; i < images.Count; i++)
        {
            int row = i / columns, col = i % columns;
            int x0 = p + rowLabelW + (col * (cellW + p));
            int rowTop = p + (row * (cellH + bandH + p));
            bool above = options.LabelPlacement == LabelPlacement.Above;
            int cellY = above ? rowTop + bandH : rowTop;
            int bandY = above ? rowTop : rowTop + cellH;
            Blit(s == 1 ? images[i] : images[i].Upscale(s), grid, x0, cellY);

            if (wrapped is not null)
            {
                IReadOnlyList<string> lines = wrapped[i];
                for (int line = 0; line < lines.Count; line++)
                {
                    int textW = BitmapFont.MeasureWidth(lines[line], f);
                    int tx = x0 + ((cellW - textW) / 2);
                    int ty = bandY + (line * lineH) + f;
                    BitmapFont.Draw(grid, lines[line], tx, ty, options.TextColor, f, (x0, bandY, cellW, bandH));
                }
            }
        }

        if (rowLabels is not null)
        {
            for (int row = 0; row < rows; row++)
            {
                string text = rowLabels[row] ?? string.Empty;
                int rowTop = p + (row * (cellH + bandH + p));
                int cellY = options.LabelPlacement == LabelPlacement.Above ? rowTop + bandH : rowTop;
                int ty = cellY + ((cellH - (BitmapFont.GlyphHeight * f)) / 2);
                BitmapFont.Draw(grid, text, p + f, ty, options.TextColor, f);
            }
        }

        // Grey cells on a grey background with grey text make a grayscale grid (a grayscale PNG).
        bool grey = images.All(i => i.Mode == ImageMode.Grayscale) && IsGrey(options.Background) && IsGrey(options.TextColor);
        return grey ? new RgbImage(grid.Width, grid.Height, grid.Pixels, ImageMode.Grayscale) : grid;
    }

    private static bool IsGrey(RgbColor color) => color.R == color.G && color.G == color.B;

    private static void Blit(RgbImage source, RgbImage target, int x, int y)
    {
        int rowBytes = source.Width * 3;
        for (int row = 0; row < source.Height; row++)
        {
            Array.Copy(source.Pixels, row * rowBytes, target.Pixels, (((y + row) * target.Width) + x) * 3, rowBytes);
        }
    }
}
