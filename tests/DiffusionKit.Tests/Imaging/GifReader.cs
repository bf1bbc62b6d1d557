using System.Text;

namespace DiffusionKit.Tests.Imaging;

/// <summary>
/// A small GIF89a parser for tests, written from the specification independently of the encoder: it walks every
/// block (extensions, image descriptors, colour tables, sub-blocks) and LZW-decodes each frame.
/// </summary>
internal sealed class GifReader
{
    public sealed record Frame(int Left, int Top, int Width, int Height, byte[]? LocalTable, int DelayCentiseconds, int MinCodeSize, byte[] LzwData);

    public string Version { get; private set; } = "";

    public int Width { get; private set; }

    public int Height { get; private set; }

    public byte[]? GlobalTable { get; private set; }

    public int? LoopCount { get; private set; }

    public List<Frame> Frames { get; } = [];

    public bool SawTrailer { get; private set; }

    public static GifReader Parse(byte[] gif)
    {
        var reader = new GifReader();
        int p = 0;
        reader.Version = Encoding.ASCII.GetString(gif, 0, 6);
        p = 6;
        reader.Width = gif[p] | (gif[p + 1] << 8);
        reader.Height = gif[p + 2] | (gif[p + 3] << 8);
        byte packed = gif[p + 4];
        p += 7;
        if ((packed & 0x80) != 0)
        {
            int size = 3 * (1 << ((packed & 7) + 1));
            reader.GlobalTable = gif[p..(p + size)];
            p += size;
        }

        int pendingDelay = -1;
        while (true)
        {
            byte introducer = gif[p++];
            if (introducer == 0x3B)
            {
                reader.SawTrailer = true;
                if (p != gif.Length)
                {
                    throw new InvalidDataException($"{gif.Length - p} bytes after the trailer.");
                }

                return reader;
            }

            if (introducer == 0x21)
            {
                byte label = gif[p++];
                List<byte[]> blocks = ReadSubBlocks(gif, ref p);
                if (label == 0xF9)
                {
                    pendingDelay = blocks[0][1] | (blocks[0][2] << 8);
                }
                else if (label == 0xFF && Encoding.ASCII.GetString(blocks[0]) == "NETSCAPE2.0")
                {
                    reader.LoopCount = blocks[1][1] | (blocks[1][2] << 8);
                }

                continue;
            }

            if (introducer != 0x2C)
            {
                throw new InvalidDataException($"Unexpected block introducer 0x{introducer:X2} at byte {p - 1}.");
            }

            int left = gif[p] | (gif[p + 1] << 8), top = gif[p + 2] | (gif[p + 3] << 8);
            int width = gif[p + 4] | (gif[p + 5] << 8), height = gif[p + 6] | (gif[p + 7] << 8);
            byte imagePacked = gif[p + 8];
            p += 9;
            byte[]? local = null;
            if ((imagePacked & 0x80) != 0)
            {
                int size = 3 * (1 << ((imagePacked & 7) + 1));
                local = gif[p..(p + size)];
                p += size;
            }

            int minCodeSize = gif[p++];
            byte[] data = ReadSubBlocks(gif, ref p).SelectMany(b => b).ToArray();
            reader.Frames.Add(new Frame(left, top, width, height, local, pendingDelay, minCodeSize, data));
            pendingDelay = -1;
        }
    }

    /// <summary>The standard GIF LZW decoder (appendix F of the GIF89a specification).</summary>
    public static byte[] DecodeLzw(byte[] data, int minCodeSize, int pixelCount)
    {
        int clear = 1 << minCodeSize, end = clear + 1;
        var prefix = new int[4096];
        var suffix = new byte[4096];
        var length = new int[4096];
        for (int i = 0; i < clear; i++)
        {
            prefix[i] = -1;
            suffix[i] = (byte)i;
            length[i] = 1;
        }

        var output = new List<byte>(pixelCount);
        int codeSize = minCodeSize + 1, next = end + 1, previous = -1;
        int bitPosition = 0;
        bool sawEnd = false;
        while (true)
        {
            if (bitPosition + codeSize > data.Length * 8)
            {
                break;
            }

            int code = 0;
            for (int b = 0; b < codeSize; b++, bitPosition++)
            {
                if ((data[bitPosition >> 3] & (1 << (bitPosition & 7))) != 0)
                {
                    code |= 1 << b;
                }
            }

            if (code == clear)
            {
                codeSize = minCodeSize + 1;
                next = end + 1;
                previous = -1;
                continue;
            }

            if (code == end)
            {
                sawEnd = true;
                break;
            }

            if (previous == -1)
            {
                if (code >= clear)
                {
                    throw new InvalidDataException($"First code after clear is {code}, not a literal.");
                }

                output.Add((byte)code);
                previous = code;
                continue;
            }

            byte first;
            if (code < next)
            {
                byte[] s = Expand(code, prefix, suffix, length);
                output.AddRange(s);
                first = s[0];
            }
            else if (code == next)
            {
                byte[] s = Expand(previous, prefix, suffix, length);
                first = s[0];
                output.AddRange(s);
                output.Add(first);
            }
            else
            {
                throw new InvalidDataException($"Code {code} is beyond the next free code {next} (code size {codeSize}).");
            }

            if (next < 4096)
            {
                prefix[next] = previous;
                suffix[next] = first;
                length[next] = length[previous] + 1;
                next++;
                if (next == (1 << codeSize) && codeSize < 12)
                {
                    codeSize++;
                }
            }

            previous = code;
        }

        if (!sawEnd)
        {
            throw new InvalidDataException("The LZW stream has no end-of-information code.");
        }

        if (output.Count != pixelCount)
        {
            throw new InvalidDataException($"Decoded {output.Count} pixels, expected {pixelCount}.");
        }

        return [.. output];
    }

    private static byte[] Expand(int code, int[] prefix, byte[] suffix, int[] length)
    {
        var s = new byte[length[code]];
        for (int i = s.Length - 1; i >= 0; i--)
        {
            s[i] = suffix[code];
            code = prefix[code];
        }

        return s;
    }

    private static List<byte[]> ReadSubBlocks(byte[] gif, ref int p)
    {
        var blocks = new List<byte[]>();
        while (true)
        {
            int size = gif[p++];
            if (size == 0)
            {
                return blocks;
            }

            blocks.Add(gif[p..(p + size)]);
            p += size;
        }
    }
}
