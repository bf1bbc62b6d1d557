using DiffusionKit.Imaging;

namespace DiffusionKit.Demo.Imaging;

/// <summary>Layout of an <see cref="ImageGrid"/>. Checked by <see cref="Validate"/> when a grid is composed.</summary>
public sealed class ImageGridOptions
{
    /// <summary>Cells per row; 1 or more. A grid with fewer images uses only as many columns as it has images. Default 8.</summary>
    public int Columns { get; set; } = 8;

    /// <summary>Background pixels around and between cells (and their label bands); 0 or more. Default 2.</summary>
    public int Padding { get; set; } = 2;

    /// <summary>Integer nearest-neighbour upscaling applied to every cell (each image pixel becomes a Scale x Scale square); 1 or more. Default 1.</summary>
    public int Scale { get; set; } = 1;

    /// <summary>Pixels per font pixel for labels (glyphs are 5x7 font pixels, see <see cref="BitmapFont"/>); 1 or more. Default 1.</summary>
    public int FontScale { get; set; } = 1;

    /// <summary>Colour of the padding and label bands. Default black.</summary>
    public RgbColor Background { get; set; } = RgbColor.Black;

    /// <summary>Colour of label text. Default white.</summary>
    public RgbColor TextColor { get; set; } = RgbColor.White;

    /// <summary>Whether cell labels go under or above their cells. Default <see cref="LabelPlacement.Below"/>.</summary>
    public LabelPlacement LabelPlacement { get; set; } = LabelPlacement.Below;

    /// <summary>Throws when a setting is out of range; the message names the setting.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        if (Columns < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Columns), Columns, $"{nameof(ImageGridOptions)}.{nameof(Columns)} must be at least 1.");
        }

        if (Padding < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(Padding), Padding, $"{nameof(ImageGridOptions)}.{nameof(Padding)} must not be negative.");
        }

        if (Scale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(Scale), Scale, $"{nameof(ImageGridOptions)}.{nameof(Scale)} must be at least 1.");
        }

        if (FontScale < 1)
        {
            throw new ArgumentOutOfRangeException(nameof(FontScale), FontScale, $"{nameof(ImageGridOptions)}.{nameof(FontScale)} must be at least 1.");
        }

        if (!Enum.IsDefined(LabelPlacement))
        {
            throw new ArgumentOutOfRangeException(nameof(LabelPlacement), LabelPlacement, $"{nameof(ImageGridOptions)}.{nameof(LabelPlacement)} is not a defined value.");
        }
    }
}
