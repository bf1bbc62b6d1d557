using DiffusionKit.Imaging;

namespace DiffusionKit.Demo.Imaging;

/// <summary>One frame of a <see cref="GifAnimation"/>.</summary>
/// <param name="Image">The picture; every frame of an animation has the same size.</param>
/// <param name="DelayCentiseconds">How long the frame shows, in hundredths of a second (the GIF unit); 0 to 65535. Browsers show delays under 2 as 10.</param>
public sealed record GifFrame(RgbImage Image, int DelayCentiseconds);
