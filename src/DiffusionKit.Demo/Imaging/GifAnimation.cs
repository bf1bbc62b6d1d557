using System.Buffers.Binary;
using System.Text;
using DiffusionKit.Imaging;
using DiffusionKit.IO;

namespace DiffusionKit.Demo.Imaging;

/// <summary>
/// An animated GIF (GIF89a) of equally sized frames, for example the denoising steps of one sampling run.
/// The file has a NETSCAPE2.0 application extension for looping, a graphic control extension per frame
/// (its delay; disposal "do not dispose"; no transparency) and full-size frames, LZW-compressed.
/// Colours are reduced to at most 256 as <see cref="PaletteMode"/> says, except that when every frame is
/// <see cref="ImageMode.Grayscale"/> the global palette is the 256 grey levels (exact).
/// </summary>
/// <remarks>Immutable once built, and so thread-safe, as long as no one writes to the frames' pixel arrays.</remarks>
public sealed class GifAnimation
{
    /// <summary>Builds an animation.</summary>
    /// <param name="frames">The frames in order; at least one, all the same size, at most 65535 pixels on a side.</param>
    /// <param name="paletteMode">How colours are reduced; default <see cref="GifPaletteMode.Uniform"/>.</param>
    /// <param name="loopCount">How many times viewers repeat the animation, 0 to 65535; 0 (the default) means forever.</param>
    /// <exception cref="ArgumentException">No frames, frames of different sizes, or an out-of-range size or delay.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="loopCount"/> or <paramref name="paletteMode"/> is out of range.</exception>
    public GifAnimation(IReadOnlyList<GifFrame> frames, GifPaletteMode paletteMode = GifPaletteMode.Uniform, int loopCount = 0)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentOutOfRangeException.ThrowIfNegative(loopCount);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(loopCount, ushort.MaxValue);
        if (!Enum.IsDefined(paletteMode))
        {
            throw new ArgumentOutOfRangeException(nameof(paletteMode), paletteMode, "Not a defined palette mode.");
        }

        if (frames.Count == 0)
        {
            throw new ArgumentException("An animation needs at least one frame.", nameof(frames));
        }

        for (int i = 0; i < frames.Count; i++)
        {
            GifFrame frame = frames[i] ?? throw new ArgumentException($"Frame {i} is null.", nameof(frames));
            ArgumentNullException.ThrowIfNull(frame.Image, $"{nameof(frames)}[{i}].{nameof(GifFrame.Image)}");
            if (frame.Image.Width != frames[0].Image.Width || frame.Image.Height != frames[0].Image.Height)
            {
                throw new ArgumentException(
                    $"All frames must be the same size: frame 0 is {frames[0].Image.Width}x{frames[0].Image.Height}, frame {i} is {frame.Image.Width}x{frame.Image.Height}.",
                    nameof(frames));
            }

            if (frame.DelayCentiseconds is < 0 or > ushort.MaxValue)
            {
                throw new ArgumentException($"Frame {i} has delay {frame.DelayCentiseconds} cs; GIF delays are 0 to 65535 hundredths of a second.", nameof(frames));
            }
        }

        if (frames[0].Image.Width > ushort.MaxValue || frames[0].Image.Height > ushort.MaxValue)
        {
            throw new ArgumentException($"GIF images are at most 65535 pixels on a side; the frames are {frames[0].Image.Width}x{frames[0].Image.Height}.", nameof(frames));
        }

        Frames = frames.ToArray();
        PaletteMode = paletteMode;
        LoopCount = loopCount;
    }

    /// <summary>The frames, in order.</summary>
    public IReadOnlyList<GifFrame> Frames { get; }

    /// <summary>How colours are reduced to a palette.</summary>
    public GifPaletteMode PaletteMode { get; }

    /// <summary>Repetitions, 0 for forever.</summary>
    public int LoopCount { get; }

    /// <summary>Width of every frame in pixels.</summary>
    public int Width => Frames[0].Image.Width;

    /// <summary>Height of every frame in pixels.</summary>
    public int Height => Frames[0].Image.Height;

    /// <summary>Builds an animation in which every image shows for the same time.</summary>
    /// <param name="images">The frames in order.</param>
    /// <param name="delayCentiseconds">How long each frame shows, in hundredths of a second; default 10 (10 frames a second).</param>
    /// <param name="lastFrameDelayCentiseconds">How long the last frame shows (say, to hold the finished sample), or null for <paramref name="delayCentiseconds"/>.</param>
    /// <param name="paletteMode">How colours are reduced.</param>
    /// <param name="loopCount">Repetitions, 0 for forever.</param>
    /// <returns>The animation.</returns>
    public static GifAnimation FromImages(
        IReadOnlyList<RgbImage> images,
        int delayCentiseconds = 10,
        int? lastFrameDelayCentiseconds = null,
        GifPaletteMode paletteMode = GifPaletteMode.Uniform,
        int loopCount = 0)
    {
        ArgumentNullException.ThrowIfNull(images);
        var frames = images
            .Select((image, i) => new GifFrame(image, i == images.Count - 1 ? lastFrameDelayCentiseconds ?? delayCentiseconds : delayCentiseconds))
            .ToArray();
        return new GifAnimation(frames, paletteMode, loopCount);
    }

    /// <summary>Encodes the animation as a complete GIF file.</summary>
    /// <returns>The file's bytes.</returns>
    public byte[] Encode()
    {
        // Grayscale frames (a one-channel model's) get the exact palette of all 256 grey levels, whatever the mode.
        GifPalette? global = Frames.All(f => f.Image.Mode == ImageMode.Grayscale) ? GifPalette.Grey() : PaletteMode switch
        {
            GifPaletteMode.Uniform => GifPalette.Uniform(),
            GifPaletteMode.MedianCutGlobal => GifPalette.MedianCut(Frames.Select(f => f.Image)),
            _ => null,
        };

        using var file = new MemoryStream();
        file.Write("GIF89a"u8);

        // Logical screen descriptor.
        WriteUInt16(file, Width);
        WriteUInt16(file, Height);
        int screenBits = global?.TableBits ?? 8;
        byte packed = (byte)(((screenBits - 1) << 4) | (global is null ? 0 : 0x80 | (global.TableBits - 1)));
        file.WriteByte(packed);
        file.WriteByte(0); // background colour index
        file.WriteByte(0); // pixel aspect ratio: not given
        if (global is not null)
        {
            WriteColorTable(file, global);
        }

        // NETSCAPE2.0 application extension: sub-block 1 holds the loop count.
        file.Write([0x21, 0xFF, 0x0B]);
        file.Write(Encoding.ASCII.GetBytes("NETSCAPE2.0"));
        file.Write([0x03, 0x01]);
        WriteUInt16(file, LoopCount);
        file.WriteByte(0);

        foreach (GifFrame frame in Frames)
        {
            GifPalette palette = global ?? GifPalette.MedianCut([frame.Image]);

            // Graphic control extension: disposal method 1 (do not dispose), no user input, no transparency.
            file.Write([0x21, 0xF9, 0x04, 0x04]);
            WriteUInt16(file, frame.DelayCentiseconds);
            file.Write([0x00, 0x00]);

            // Image descriptor, full frame.
            file.WriteByte(0x2C);
            WriteUInt16(file, 0);
            WriteUInt16(file, 0);
            WriteUInt16(file, Width);
            WriteUInt16(file, Height);
            file.WriteByte(global is null ? (byte)(0x80 | (palette.TableBits - 1)) : (byte)0);
            if (global is null)
            {
                WriteColorTable(file, palette);
            }

            int minCodeSize = Math.Max(2, palette.TableBits);
            file.WriteByte((byte)minCodeSize);
            byte[] data = GifLzwEncoder.Encode(palette.Map(frame.Image), minCodeSize);
            for (int offset = 0; offset < data.Length; offset += 255)
            {
                int n = Math.Min(255, data.Length - offset);
                file.WriteByte((byte)n);
                file.Write(data, offset, n);
            }

            file.WriteByte(0); // block terminator
        }

        file.WriteByte(0x3B); // trailer
        return file.ToArray();
    }

    /// <summary>Encodes the animation and writes it to <paramref name="path"/> atomically (a temporary file in the same folder, then a move).</summary>
    /// <param name="path">The destination; its folder must exist. An existing file is replaced.</param>
    public void Save(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        AtomicFile.WriteAllBytes(path, Encode());
    }

    private static void WriteColorTable(Stream file, GifPalette palette)
    {
        int size = 1 << palette.TableBits;
        var table = new byte[size * 3];
        for (int i = 0; i < palette.Colors.Length; i++)
        {
            table[i * 3] = palette.Colors[i].R;
            table[(i * 3) + 1] = palette.Colors[i].G;
            table[(i * 3) + 2] = palette.Colors[i].B;
        }

        file.Write(table);
    }

    private static void WriteUInt16(Stream file, int value)
    {
        Span<byte> bytes = stackalloc byte[2];
        BinaryPrimitives.WriteUInt16LittleEndian(bytes, checked((ushort)value));
        file.Write(bytes);
    }
}
