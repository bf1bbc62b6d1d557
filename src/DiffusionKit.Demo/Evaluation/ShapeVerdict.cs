using DiffusionKit.Demo.Shapes;

namespace DiffusionKit.Demo.Evaluation;

/// <summary>What <see cref="ShapesJudge"/> sees in an image; a null attribute means it could not tell (for example, no shape at all).</summary>
/// <param name="Color">The nearest catalogue colour of the shape, or null.</param>
/// <param name="Kind">The best-matching shape, or null.</param>
/// <param name="Size">The size class from the bounding side, or null.</param>
public sealed record ShapeVerdict(ShapeColor? Color, ShapeKind? Kind, ShapeSize? Size)
{
    /// <summary>True when all three attributes equal those of <paramref name="spec"/>.</summary>
    /// <param name="spec">The intended combination.</param>
    /// <returns>Whether the image adheres to the whole prompt.</returns>
    public bool Matches(ShapeSpec spec) => Color == spec.Color && Kind == spec.Kind && Size == spec.Size;
}
