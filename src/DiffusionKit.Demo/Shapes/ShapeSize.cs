namespace DiffusionKit.Demo.Shapes;

/// <summary>The two size classes of the built-in "shapes" data set (bounding side at 16×16: small 5–7 px, large 9–12 px).</summary>
/// <remarks>See <see cref="ShapesCatalog.MinSide"/> and <see cref="ShapesCatalog.MaxSide"/> for other resolutions.</remarks>
public enum ShapeSize
{
    /// <summary>Bounding side 5–7 px at 16×16, scaled by ImageSize/16; caption word "small".</summary>
    Small,

    /// <summary>Bounding side 9–12 px at 16×16, scaled by ImageSize/16; caption word "large".</summary>
    Large,
}
