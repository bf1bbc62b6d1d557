namespace DiffusionKit.Tests.Pipeline;

/// <summary>The largest per-channel difference between two images, in 1/255 steps.</summary>
internal static class PixelDifference
{
    public static int Max(GeneratedImage a, GeneratedImage b) => Max(a.Pixels.Span, b.Pixels.Span);

    public static int Max(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        if (a.Length != b.Length)
        {
            throw new ArgumentException($"The images differ in size ({a.Length} vs {b.Length} bytes).");
        }

        int max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]));
        }

        return max;
    }
}
