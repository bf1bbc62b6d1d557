namespace DiffusionKit.Demo;

/// <summary>Index checks and copies for the demo's data sets that keep all images in one packed HWC RGB byte array (shapes, sprites).</summary>
internal static class PackedImages
{
    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> unless 0 &lt;= <paramref name="index"/> &lt; <paramref name="count"/>.</summary>
    public static void CheckIndex(int index, int count)
    {
        if ((uint)index >= (uint)count)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{nameof(index)} must be in 0..{count - 1}.");
        }
    }

    /// <summary>Copies image <paramref name="index"/> of <paramref name="pixels"/> into <paramref name="destination"/>, checked.</summary>
    public static void Copy(byte[] pixels, int count, int imageSize, int index, Span<byte> destination)
    {
        CheckIndex(index, count);
        int imageBytes = imageSize * imageSize * 3;
        if (destination.Length < imageBytes)
        {
            throw new ArgumentException(
                $"{nameof(destination)} holds {destination.Length} bytes but one {imageSize}×{imageSize} RGB image needs {imageBytes}; pass a larger span.",
                nameof(destination));
        }

        pixels.AsSpan(index * imageBytes, imageBytes).CopyTo(destination);
    }
}
