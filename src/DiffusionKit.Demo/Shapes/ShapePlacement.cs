namespace DiffusionKit.Demo.Shapes;

/// <summary>The bounding box of a generated shape: a square of side <paramref name="Side"/> at (<paramref name="Left"/>, <paramref name="Top"/>).</summary>
/// <param name="Left">Column of the box's left edge, in pixels.</param>
/// <param name="Top">Row of the box's top edge, in pixels.</param>
/// <param name="Side">Width and height of the box, in pixels; the shape touches all four sides.</param>
public readonly record struct ShapePlacement(int Left, int Top, int Side);
