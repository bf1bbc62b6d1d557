namespace DiffusionKit.Demo.Shapes;

/// <summary>The six colours of the built-in "shapes" data set; <see cref="ShapesCatalog.GetRgb"/> gives the exact RGB.</summary>
/// <remarks>The declaration order is the catalogue order used by <see cref="ShapesCatalog.AllSpecs"/>.</remarks>
public enum ShapeColor
{
    /// <summary>(255, 0, 0), caption word "red".</summary>
    Red,

    /// <summary>(0, 255, 0), caption word "green".</summary>
    Green,

    /// <summary>(0, 0, 255), caption word "blue".</summary>
    Blue,

    /// <summary>(255, 255, 0), caption word "yellow".</summary>
    Yellow,

    /// <summary>(255, 0, 255), caption word "magenta".</summary>
    Magenta,

    /// <summary>(0, 255, 255), caption word "cyan".</summary>
    Cyan,
}
