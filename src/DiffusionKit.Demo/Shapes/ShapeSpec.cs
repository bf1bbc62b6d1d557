namespace DiffusionKit.Demo.Shapes;

/// <summary>One of the 48 (size, colour, shape) combinations of the "shapes" data set.</summary>
/// <param name="Size">Small or large.</param>
/// <param name="Color">One of the six catalogue colours.</param>
/// <param name="Kind">Circle, square, triangle or cross.</param>
public readonly record struct ShapeSpec(ShapeSize Size, ShapeColor Color, ShapeKind Kind)
{
    /// <summary>The caption <c>a {size} {color} {shape}</c> in lowercase, e.g. "a large red circle".</summary>
    public string Caption => ShapesCatalog.Caption(Size, Color, Kind);

    /// <summary>Returns <see cref="Caption"/>.</summary>
    /// <returns>The caption.</returns>
    public override string ToString() => Caption;
}
