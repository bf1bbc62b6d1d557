namespace DiffusionKit.Demo.Shapes;

/// <summary>
/// The pixel rule shared by <see cref="ShapesDataset"/> (which draws shapes) and the evaluation judge (which uses the
/// same rule as its templates).
/// </summary>
/// <remarks>
/// A shape fills a <c>width × height</c> box; pixel (column <c>x</c>, row <c>y</c>) is inside when its centre
/// <c>u = (x + ½)/width</c>, <c>v = (y + ½)/height</c> satisfies:
/// circle <c>(u-½)² + (v-½)² ≤ ¼</c> (an ellipse for a non-square box);
/// square always; triangle (apex up) <c>|u-½| ≤ (y + 1)/(2·height)</c>, i.e. the half-width grows with the bottom
/// edge of the row so that the top row holds the one or two centre pixels and the bottom row is full;
/// cross <c>|u-½| ≤ ⅙</c> or <c>|v-½| ≤ ⅙</c> (arms about side/3 thick, centred).
/// Every test is done in exact integer arithmetic, so the result is the same on every machine, and for a square box
/// each shape touches all four sides of the box (its bounding side is the box side).
/// </remarks>
internal static class ShapeRaster
{
    /// <summary>Whether pixel (<paramref name="x"/>, <paramref name="y"/>) of a <paramref name="width"/>×<paramref name="height"/> box is inside the shape.</summary>
    public static bool Contains(ShapeKind kind, int x, int y, int width, int height)
    {
        long dx = (2L * x) + 1 - width;   // 2·width·(u - ½)
        long dy = (2L * y) + 1 - height;  // 2·height·(v - ½)
        long w = width;
        long h = height;
        return kind switch
        {
            ShapeKind.Circle => (dx * dx * h * h) + (dy * dy * w * w) <= w * w * h * h,
            ShapeKind.Square => true,
            ShapeKind.Triangle => Math.Abs(dx) * h <= (y + 1L) * w,
            ShapeKind.Cross => 3 * Math.Abs(dx) <= w || 3 * Math.Abs(dy) <= h,
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, "Use one of the four ShapeKind values."),
        };
    }

    /// <summary>Paints a shape of side <paramref name="side"/> with its box's top-left corner at (<paramref name="left"/>, <paramref name="top"/>) into an HWC RGB image.</summary>
    public static void Draw(Span<byte> image, int imageSize, ShapeKind kind, Rgb color, int left, int top, int side)
    {
        for (int y = 0; y < side; y++)
        {
            for (int x = 0; x < side; x++)
            {
                if (Contains(kind, x, y, side, side))
                {
                    int offset = (((top + y) * imageSize) + left + x) * 3;
                    image[offset] = color.R;
                    image[offset + 1] = color.G;
                    image[offset + 2] = color.B;
                }
            }
        }
    }
}
