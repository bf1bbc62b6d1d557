namespace DiffusionKit.Demo.Shapes;

/// <summary>An 8-bit RGB colour.</summary>
/// <param name="R">Red channel, 0–255.</param>
/// <param name="G">Green channel, 0–255.</param>
/// <param name="B">Blue channel, 0–255.</param>
public readonly record struct Rgb(byte R, byte G, byte B);
