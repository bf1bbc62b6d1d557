namespace DiffusionKit.Demo.Imaging;

/// <summary>Where <see cref="ImageGrid"/> draws a cell's caption.</summary>
public enum LabelPlacement
{
    /// <summary>In a band under the cell.</summary>
    Below,

    /// <summary>In a band above the cell.</summary>
    Above,
}
