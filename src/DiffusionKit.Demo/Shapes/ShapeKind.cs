namespace DiffusionKit.Demo.Shapes;

/// <summary>The four shapes of the built-in "shapes" data set.</summary>
/// <remarks>The declaration order is the catalogue order used by <see cref="ShapesCatalog.AllSpecs"/>.</remarks>
public enum ShapeKind
{
    /// <summary>A filled disc whose bounding box is the chosen side; caption word "circle".</summary>
    Circle,

    /// <summary>A filled square of the chosen side; caption word "square".</summary>
    Square,

    /// <summary>A filled isosceles triangle, apex up (top centre), base along the bottom row; caption word "triangle".</summary>
    Triangle,

    /// <summary>A plus sign with arms about side/3 thick; caption word "cross".</summary>
    Cross,
}
