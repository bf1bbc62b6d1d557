using DiffusionKit.Imaging;

namespace DiffusionKit.Tests.Imaging;

internal static class TestImages
{
    public static RgbImage Noise(int width, int height, int seed)
    {
        var pixels = new byte[width * height * 3];
        new Random(seed).NextBytes(pixels);
        return new RgbImage(width, height, pixels);
    }

    /// <summary>Smooth gradients with a little noise: exercises every PNG filter's arithmetic, including wrap-around.</summary>
    public static RgbImage Gradient(int width, int height, int seed)
    {
        var random = new Random(seed);
        var pixels = new byte[width * height * 3];
        for (int y = 0; y < height; y++)
        {
            for (int x = 0; x < width; x++)
            {
                int i = ((y * width) + x) * 3;
                pixels[i] = (byte)((x * 7) + random.Next(3));
                pixels[i + 1] = (byte)((y * 5) + (x * 3));
                pixels[i + 2] = (byte)(255 - (x * y));
            }
        }

        return new RgbImage(width, height, pixels);
    }
}
