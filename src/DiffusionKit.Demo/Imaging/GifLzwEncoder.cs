namespace DiffusionKit.Demo.Imaging;

/// <summary>
/// The variable-code-size LZW compressor of GIF89a (appendix F): codes are packed least significant bit first;
/// the stream starts with a clear code, codes grow from <c>minCodeSize + 1</c> bits up to 12, the encoder emits a
/// clear code and starts over when all 4096 codes are taken, and the stream ends with the end-of-information code.
/// </summary>
internal static class GifLzwEncoder
{
    private const int MaxCodes = 4096;
    private const int MaxCodeSize = 12;

    /// <summary>Compresses palette indices.</summary>
    /// <param name="indices">One palette index per pixel; each below <c>1 &lt;&lt; minCodeSize</c>.</param>
    /// <param name="minCodeSize">The LZW minimum code size written before the data, 2 to 8.</param>
    /// <returns>The packed code stream, not yet split into sub-blocks.</returns>
    public static byte[] Encode(ReadOnlySpan<byte> indices, int minCodeSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(minCodeSize, 2);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(minCodeSize, 8);
        int clear = 1 << minCodeSize;
        int end = clear + 1;
        var writer = new BitWriter();
        var table = new Dictionary<int, int>(MaxCodes);
        int codeSize = minCodeSize + 1;
        int next = end + 1;

        writer.Write(clear, codeSize);
        if (indices.IsEmpty)
        {
            writer.Write(end, codeSize);
            return writer.ToArray();
        }

        int prefix = Check(indices[0], clear);
        for (int i = 1; i < indices.Length; i++)
        {
            int k = Check(indices[i], clear);
            int key = (prefix << 8) | k;
            if (table.TryGetValue(key, out int code))
            {
                prefix = code;
                continue;
            }

            WriteData(prefix);
            if (next < MaxCodes)
            {
                table[key] = next++;
            }
            else
            {
                // The table is full: start over. The clear code goes out at the current (12-bit) size.
                writer.Write(clear, codeSize);
                table.Clear();
                codeSize = minCodeSize + 1;
                next = end + 1;
            }

            prefix = k;
        }

        WriteData(prefix);
        writer.Write(end, codeSize);
        return writer.ToArray();

        // A decoder adds table entry 'next - 1' only when it reads the code after the one that defined it, and
        // widens its codes as soon as its next free code needs another bit. Widening after writing a code (not
        // after adding an entry) keeps the encoder exactly one entry behind, in step with the decoder; it also
        // applies before the end code, which the decoder reads after adding its last entry.
        void WriteData(int value)
        {
            writer.Write(value, codeSize);
            if (next >= (1 << codeSize) && codeSize < MaxCodeSize)
            {
                codeSize++;
            }
        }
    }

    private static int Check(byte index, int clear) =>
        index < clear ? index : throw new ArgumentOutOfRangeException(nameof(index), index, $"Palette index {index} does not fit the minimum code size (must be below {clear}).");

    private sealed class BitWriter
    {
        private readonly MemoryStream bytes = new();
        private int buffer;
        private int count;

        public void Write(int code, int size)
        {
            buffer |= code << count;
            count += size;
            while (count >= 8)
            {
                bytes.WriteByte((byte)buffer);
                buffer >>= 8;
                count -= 8;
            }
        }

        public byte[] ToArray()
        {
            if (count > 0)
            {
                bytes.WriteByte((byte)buffer);
                buffer = 0;
                count = 0;
            }

            return bytes.ToArray();
        }
    }
}
