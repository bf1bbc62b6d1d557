namespace DiffusionKit.Imaging;

/// <summary>
/// An 8-bit RGB image held as plain bytes: row-major, channels last (HWC), three bytes per pixel,
/// so the byte for channel <c>c</c> of pixel (<c>x</c>, <c>y</c>) is at <c>(y * Width + x) * 3 + c</c>.
/// </summary>
/// <remarks>
/// <para>The pixel array is shared, not copied: the image is as mutable as the array passed in.</para>
/// <para>A <see cref="ImageMode.Grayscale"/> image (<see cref="Mode"/>) holds grey pixels, R = G = B, in the same
/// layout; encoders write it with one channel (a grayscale PNG), the <see cref="Luma"/> of each pixel.</para>
/// </remarks>
public sealed class RgbImage
{
    /// <summary>Creates an image over existing pixel bytes.</summary>
    /// <param name="width">Width in pixels; positive.</param>
    /// <param name="height">Height in pixels; positive.</param>
    /// <param name="pixels">RGB bytes, row-major HWC, exactly <c>width * height * 3</c> long. Not copied.</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> or <paramref name="height"/> is not positive.</exception>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> has the wrong length.</exception>
    public RgbImage(int width, int height, byte[] pixels)
        : this(width, height, pixels, ImageMode.Rgb)
    {
    }

    /// <summary>Creates an image over existing pixel bytes, in a given mode.</summary>
    /// <param name="width">Width in pixels; positive.</param>
    /// <param name="height">Height in pixels; positive.</param>
    /// <param name="pixels">RGB bytes, row-major HWC, exactly <c>width * height * 3</c> long; grey (R = G = B) for <see cref="ImageMode.Grayscale"/>. Not copied.</param>
    /// <param name="mode">The image's mode (<see cref="Mode"/>).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="width"/> or <paramref name="height"/> is not positive, or <paramref name="mode"/> is not defined.</exception>
    /// <exception cref="ArgumentException"><paramref name="pixels"/> has the wrong length, or a pixel of a grayscale image is not grey.</exception>
    public RgbImage(int width, int height, byte[] pixels, ImageMode mode)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentNullException.ThrowIfNull(pixels);
        long expected = (long)width * height * 3;
        if (pixels.LongLength != expected)
        {
            throw new ArgumentException(
                $"A {width}x{height} RGB image needs {expected} bytes, but {pixels.LongLength} were given.", nameof(pixels));
        }

        if (mode is not (ImageMode.Grayscale or ImageMode.Rgb))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "Not an image mode.");
        }

        if (mode == ImageMode.Grayscale)
        {
            for (int i = 0; i < pixels.Length; i += 3)
            {
                if (pixels[i] != pixels[i + 1] || pixels[i] != pixels[i + 2])
                {
                    int p = i / 3;
                    throw new ArgumentException(
                        $"A grayscale image needs grey pixels (R = G = B), but pixel ({p % width}, {p / width}) is ({pixels[i]}, {pixels[i + 1]}, {pixels[i + 2]}); convert it with {nameof(ToGrayscale)}.", nameof(pixels));
                }
            }
        }

        Width = width;
        Height = height;
        Pixels = pixels;
        Mode = mode;
    }

    /// <summary>Creates an image of one colour.</summary>
    /// <param name="width">Width in pixels; positive.</param>
    /// <param name="height">Height in pixels; positive.</param>
    /// <param name="fill">The colour of every pixel.</param>
    /// <returns>A new image.</returns>
    public static RgbImage Filled(int width, int height, RgbColor fill)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        long length = (long)width * height * 3;
        if (length > Array.MaxLength)
        {
            throw new ArgumentException($"A {width}x{height} RGB image does not fit in one array.", nameof(width));
        }

        var pixels = new byte[length];
        for (int i = 0; i < pixels.Length; i += 3)
        {
            pixels[i] = fill.R;
            pixels[i + 1] = fill.G;
            pixels[i + 2] = fill.B;
        }

        return new RgbImage(width, height, pixels);
    }

    /// <summary>Width in pixels.</summary>
    public int Width { get; }

    /// <summary>Height in pixels.</summary>
    public int Height { get; }

    /// <summary>RGB bytes, row-major HWC, <c>Width * Height * 3</c> long.</summary>
    public byte[] Pixels { get; }

    /// <summary>
    /// <see cref="ImageMode.Rgb"/> (the default), or <see cref="ImageMode.Grayscale"/> for grey pixels that encoders
    /// write with one channel (<see cref="PngEncoder"/> as an 8-bit grayscale PNG, colour type 0).
    /// </summary>
    public ImageMode Mode { get; }

    /// <summary>
    /// The ITU-R BT.601 luma of a colour (the weights of Pillow's <c>convert("L")</c>): <c>(299 R + 587 G + 114 B) / 1000</c>,
    /// rounded to the nearest integer. A grey colour (R = G = B) keeps its value exactly.
    /// </summary>
    /// <param name="r">Red.</param>
    /// <param name="g">Green.</param>
    /// <param name="b">Blue.</param>
    /// <returns>The grey value.</returns>
    public static byte Luma(byte r, byte g, byte b) => (byte)(((299 * r) + (587 * g) + (114 * b) + 500) / 1000);

    /// <summary>
    /// This image in <see cref="ImageMode.Grayscale"/>: every pixel becomes its <see cref="Luma"/> in all three
    /// channels. A grayscale image is returned as it is.
    /// </summary>
    /// <returns>A grayscale image (a new one unless this one is already grayscale).</returns>
    public RgbImage ToGrayscale()
    {
        if (Mode == ImageMode.Grayscale)
        {
            return this;
        }

        var pixels = new byte[Pixels.Length];
        for (int i = 0; i < pixels.Length; i += 3)
        {
            byte y = Luma(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
            pixels[i] = y;
            pixels[i + 1] = y;
            pixels[i + 2] = y;
        }

        return new RgbImage(Width, Height, pixels, ImageMode.Grayscale);
    }

    /// <summary>
    /// Converts a float image in [0, 1], channels first (CHW, as a sampler returns one batch element), to bytes:
    /// each value is clamped to [0, 1], scaled by 255 and rounded to the nearest integer (halves away from zero).
    /// Clamping is deliberate: samplers end in [0, 1] with a small overshoot. One channel is read as grey,
    /// copied to R, G and B, and makes an <see cref="ImageMode.Grayscale"/> image.
    /// </summary>
    /// <param name="chw">The values, <c>channels * height * width</c> long, channel-major.</param>
    /// <param name="channels">1 (grey) or 3 (RGB).</param>
    /// <param name="height">Height in pixels; positive.</param>
    /// <param name="width">Width in pixels; positive.</param>
    /// <returns>A new image.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A size is not positive, or <paramref name="channels"/> is neither 1 nor 3.</exception>
    /// <exception cref="ArgumentException"><paramref name="chw"/> has the wrong length or holds NaN or an infinity (a diverged sample, which clamping would hide).</exception>
    public static RgbImage FromChannelsFirst(ReadOnlySpan<float> chw, int channels, int height, int width)
    {
        if (channels is not (1 or 3))
        {
            throw new ArgumentOutOfRangeException(nameof(channels), channels, "Only 1 (grey) or 3 (RGB) channels can be converted.");
        }

        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        long plane = (long)height * width;
        if (chw.Length != plane * channels)
        {
            throw new ArgumentException(
                $"A {channels}x{height}x{width} CHW image needs {plane * channels} values, but {chw.Length} were given.", nameof(chw));
        }

        for (int i = 0; i < chw.Length; i++)
        {
            if (!float.IsFinite(chw[i]))
            {
                throw new ArgumentException(
                    $"Value {i} (channel {i / plane}, y {i % plane / width}, x {i % width}) is {chw[i]}; the sample diverged.", nameof(chw));
            }
        }

        int count = (int)plane;
        var pixels = new byte[count * 3];
        for (int p = 0; p < count; p++)
        {
            for (int c = 0; c < 3; c++)
            {
                float v = chw[(channels == 1 ? 0 : c * count) + p];
                pixels[p * 3 + c] = ToByte(v);
            }
        }

        return new RgbImage(width, height, pixels, ImageModeNames.FromChannels(channels));
    }

    /// <summary>Reads one pixel.</summary>
    /// <param name="x">Column, 0 to <see cref="Width"/> - 1.</param>
    /// <param name="y">Row, 0 to <see cref="Height"/> - 1.</param>
    /// <returns>The pixel's colour.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The position is outside the image.</exception>
    public RgbColor GetPixel(int x, int y)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(x);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(x, Width);
        ArgumentOutOfRangeException.ThrowIfNegative(y);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(y, Height);
        int i = (y * Width + x) * 3;
        return new RgbColor(Pixels[i], Pixels[i + 1], Pixels[i + 2]);
    }

    /// <summary>Enlarges the image by an integer factor with nearest-neighbour sampling (each pixel becomes a <paramref name="factor"/> square).</summary>
    /// <param name="factor">The scale; 1 or more. 1 returns a copy.</param>
    /// <returns>A new image of <c>Width * factor</c> by <c>Height * factor</c>, in this image's <see cref="Mode"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="factor"/> is below 1.</exception>
    public RgbImage Upscale(int factor)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(factor, 1);
        int w = checked(Width * factor);
        int h = checked(Height * factor);
        var pixels = new byte[checked(w * h * 3)];
        for (int y = 0; y < h; y++)
        {
            int src = y / factor * Width * 3;
            int dst = y * w * 3;
            for (int x = 0; x < w; x++)
            {
                int s = src + x / factor * 3;
                pixels[dst++] = Pixels[s];
                pixels[dst++] = Pixels[s + 1];
                pixels[dst++] = Pixels[s + 2];
            }
        }

        return new RgbImage(w, h, pixels, Mode);
    }

    private static byte ToByte(float v) =>
        (byte)MathF.Round(Math.Clamp(v, 0f, 1f) * 255f, MidpointRounding.AwayFromZero);
}
