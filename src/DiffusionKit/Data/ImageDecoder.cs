// Decoding goes through SkiaSharp (MIT, maintained by Microsoft and the .NET Foundation), not a hand-written decoder.
// Why SkiaSharp over the other served choices: Skia's codecs (libpng, libjpeg-turbo, libwebp, giflib-derived GIF, BMP,
// ICO) are the ones Chrome and Android decode untrusted web images with, continuously fuzzed by OSS-Fuzz, and they
// report truncated input as a result code rather than returning half an image; SixLabors.ImageSharp 2.1.x has published
// security advisories for crafted images (and 3.x is a paid licence); StbImageSharp is a port of stb_image, whose
// authors say it is not meant for untrusted input. The Linux native library comes from
// SkiaSharp.NativeAssets.Linux.NoDependencies (no fontconfig/freetype needed, glibc 2.27+).
using DiffusionKit.Imaging;
using SkiaSharp;

namespace DiffusionKit.Data;

/// <summary>
/// Decodes image files to 8-bit RGB and fits them to a square training size (resize the shorter side, then crop).
/// </summary>
/// <remarks>
/// <para>Formats: whatever Skia decodes: PNG, JPEG, GIF (first frame), BMP, WebP, ICO, WBMP.</para>
/// <para>Colour: grayscale and palette images become RGB (gray g becomes (g, g, g)); an alpha channel is composited
/// onto black (each channel times alpha/255, i.e. premultiplied alpha), so transparent pixels are black, like the
/// black background of the built-in data. <see cref="ReadHeader"/> tells a grayscale file (PNG colour type 0 or 4,
/// or whatever Skia decodes as 8-bit grey, such as a grayscale JPEG) from a colour one, for the folder's
/// <see cref="ImageMode"/>.</para>
/// <para>Errors: a zero-byte, unreadable, non-image or truncated file is an <see cref="InvalidDataException"/> whose
/// message names the file and the reason. Stateless and thread-safe.</para>
/// </remarks>
internal static class ImageDecoder
{
    /// <summary>The file extensions the folder scan treats as images (lowercase, with the dot).</summary>
    public static IReadOnlySet<string> Extensions { get; } = new HashSet<string>(StringComparer.OrdinalIgnoreCase)
    {
        ".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp", ".ico", ".wbmp",
    };

    /// <summary>
    /// Reads the width, height and source mode from the file's header only: <see cref="ImageMode.Grayscale"/> for a
    /// PNG of colour type 0 (grey) or 4 (grey with alpha; the header says so, Skia's decoder info does not) and any
    /// other file Skia decodes as 8-bit grey (a grayscale JPEG); <see cref="ImageMode.Rgb"/> for everything else,
    /// palette PNGs included.
    /// </summary>
    /// <exception cref="InvalidDataException">When the file is empty or not an image Skia knows.</exception>
    public static (int Width, int Height, ImageMode Mode) ReadHeader(string path)
    {
        using var codec = OpenCodec(path);
        ImageMode mode = codec.Info.ColorType == SKColorType.Gray8 ? ImageMode.Grayscale : ImageMode.Rgb;
        if (codec.EncodedFormat == SKEncodedImageFormat.Png && PngColourType(path) is { } colourType)
        {
            mode = colourType is PngFormat.ColourTypeGrayscale or PngFormat.ColourTypeGrayscaleAlpha ? ImageMode.Grayscale : ImageMode.Rgb;
        }

        return (codec.Info.Width, codec.Info.Height, mode);
    }

    /// <summary>Decodes a whole file to RGB, alpha composited onto black.</summary>
    /// <exception cref="InvalidDataException">When the file is empty, not an image, truncated or corrupt; names the file.</exception>
    public static RgbImage Decode(string path)
    {
        using var codec = OpenCodec(path);
        int width = codec.Info.Width;
        int height = codec.Info.Height;
        if (width < 1 || height < 1)
        {
            throw new InvalidDataException($"'{path}': the image has no pixels ({width}x{height}).");
        }

        // Premultiplied RGBA: every colour channel is already multiplied by alpha, which is compositing onto black.
        var info = new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul);
        byte[] rgba = new byte[info.BytesSize];
        SKCodecResult result = codec.GetPixels(info, rgba);
        if (result != SKCodecResult.Success)
        {
            string reason = result == SKCodecResult.IncompleteInput ? "the file is truncated" : $"the image data is corrupt (the decoder reported {result})";
            throw new InvalidDataException($"'{path}': {reason}.");
        }

        byte[] rgb = new byte[width * height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }

        return new RgbImage(width, height, rgb);
    }

    /// <summary>
    /// Resizes <paramref name="image"/> so its shorter side is <paramref name="size"/> (aspect ratio kept; the longer
    /// side rounds to the nearest pixel, at least <paramref name="size"/>). Returns the image itself when it already has
    /// that shorter side. Downscaling uses mipmapped linear filtering (no aliasing), upscaling Mitchell cubic.
    /// </summary>
    public static RgbImage ResizeShorterSide(RgbImage image, int size)
    {
        int shorter = Math.Min(image.Width, image.Height);
        if (shorter == size)
        {
            return image;
        }

        double scale = size / (double)shorter;
        int width = image.Width == shorter ? size : Math.Max(size, (int)Math.Round(image.Width * scale));
        int height = image.Height == shorter ? size : Math.Max(size, (int)Math.Round(image.Height * scale));
        var sampling = scale < 1
            ? new SKSamplingOptions(SKFilterMode.Linear, SKMipmapMode.Linear)
            : new SKSamplingOptions(SKCubicResampler.Mitchell);

        using var source = ToBitmap(image);
        using var target = new SKBitmap(new SKImageInfo(width, height, SKColorType.Rgba8888, SKAlphaType.Premul));
        if (!source.ScalePixels(target, sampling))
        {
            throw new InvalidOperationException($"Skia could not resize a {image.Width}x{image.Height} image to {width}x{height}.");
        }

        return FromBitmap(target);
    }

    /// <summary>
    /// Copies the <paramref name="size"/>×<paramref name="size"/> window at (<paramref name="left"/>, <paramref name="top"/>)
    /// as HWC bytes: RGB with 3 <paramref name="channels"/>, the grey (red) byte of each pixel of a grayscale image with 1.
    /// </summary>
    public static void Crop(RgbImage image, int left, int top, int size, Span<byte> destination, int channels = 3)
    {
        if (channels == 1)
        {
            for (int y = 0; y < size; y++)
            {
                int from = (((top + y) * image.Width) + left) * 3;
                Span<byte> target = destination.Slice(y * size, size);
                for (int x = 0; x < size; x++)
                {
                    target[x] = image.Pixels[from + (x * 3)];
                }
            }

            return;
        }

        int row = size * 3;
        for (int y = 0; y < size; y++)
        {
            image.Pixels.AsSpan((((top + y) * image.Width) + left) * 3, row).CopyTo(destination.Slice(y * row, row));
        }
    }

    /// <summary>Resizes the shorter side to <paramref name="size"/> and takes the centred square.</summary>
    public static byte[] FitCentre(RgbImage image, int size)
    {
        RgbImage resized = ResizeShorterSide(image, size);
        byte[] result = new byte[size * size * 3];
        Crop(resized, (resized.Width - size) / 2, (resized.Height - size) / 2, size, result);
        return result;
    }

    private static SKCodec OpenCodec(string path)
    {
        var file = new FileInfo(path);
        if (!file.Exists)
        {
            throw new FileNotFoundException($"'{path}': the file does not exist.", path);
        }

        if (file.Length == 0)
        {
            throw new InvalidDataException($"'{path}': the file is empty (0 bytes).");
        }

        SKCodec? codec = SKCodec.Create(path, out SKCodecResult result);
        if (codec is null)
        {
            string reason = result switch
            {
                SKCodecResult.IncompleteInput when HasImageSignature(path) => "the file is truncated",
                SKCodecResult.IncompleteInput or SKCodecResult.Unimplemented or SKCodecResult.InvalidInput or SKCodecResult.ErrorInInput => "not an image in a format Skia decodes (PNG, JPEG, GIF, BMP, WebP, ICO, WBMP)",
                _ => $"not readable as an image (the decoder reported {result})",
            };
            throw new InvalidDataException($"'{path}': {reason}.");
        }

        return codec;
    }

    /// <summary>The colour type byte of a PNG's IHDR, or null when the file is too short to hold one.</summary>
    private static byte? PngColourType(string path)
    {
        Span<byte> head = stackalloc byte[PngFormat.ColourTypeOffset + 1];
        using var stream = File.OpenRead(path);
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        return read == head.Length && head[12..16].SequenceEqual("IHDR"u8) ? head[PngFormat.ColourTypeOffset] : null;
    }

    /// <summary>Whether the file starts like a PNG, JPEG, GIF, BMP, WebP or ICO (Skia reports a file too short to sniff as incomplete, whatever it holds).</summary>
    private static bool HasImageSignature(string path)
    {
        Span<byte> head = stackalloc byte[12];
        int read;
        using (var stream = File.OpenRead(path))
        {
            read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        }

        ReadOnlySpan<byte> h = head[..read];
        return h.StartsWith(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' })
            || h.StartsWith(new byte[] { 0xFF, 0xD8, 0xFF })
            || h.StartsWith("GIF8"u8)
            || h.StartsWith("BM"u8)
            || (h.StartsWith("RIFF"u8) && h.Length >= 12 && h[8..12].SequenceEqual("WEBP"u8))
            || h.StartsWith(new byte[] { 0, 0, 1, 0 });
    }

    private static SKBitmap ToBitmap(RgbImage image)
    {
        var bitmap = new SKBitmap(new SKImageInfo(image.Width, image.Height, SKColorType.Rgba8888, SKAlphaType.Premul));
        byte[] rgba = new byte[image.Width * image.Height * 4];
        for (int i = 0, j = 0; j < image.Pixels.Length; i += 4, j += 3)
        {
            rgba[i] = image.Pixels[j];
            rgba[i + 1] = image.Pixels[j + 1];
            rgba[i + 2] = image.Pixels[j + 2];
            rgba[i + 3] = 255;
        }

        System.Runtime.InteropServices.Marshal.Copy(rgba, 0, bitmap.GetPixels(), rgba.Length);
        return bitmap;
    }

    private static RgbImage FromBitmap(SKBitmap bitmap)
    {
        byte[] rgba = new byte[bitmap.Width * bitmap.Height * 4];
        System.Runtime.InteropServices.Marshal.Copy(bitmap.GetPixels(), rgba, 0, rgba.Length);
        byte[] rgb = new byte[bitmap.Width * bitmap.Height * 3];
        for (int i = 0, j = 0; j < rgb.Length; i += 4, j += 3)
        {
            rgb[j] = rgba[i];
            rgb[j + 1] = rgba[i + 1];
            rgb[j + 2] = rgba[i + 2];
        }

        return new RgbImage(bitmap.Width, bitmap.Height, rgb);
    }
}
