namespace DiffusionKit.Imaging;

/// <summary>An 8-bit-per-channel sRGB colour.</summary>
/// <param name="R">Red, 0 to 255.</param>
/// <param name="G">Green, 0 to 255.</param>
/// <param name="B">Blue, 0 to 255.</param>
public readonly record struct RgbColor(byte R, byte G, byte B)
{
    /// <summary>Black, (0, 0, 0).</summary>
    public static RgbColor Black => new(0, 0, 0);

    /// <summary>White, (255, 255, 255).</summary>
    public static RgbColor White => new(255, 255, 255);
}
