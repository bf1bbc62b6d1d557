namespace DiffusionKit.Imaging;

/// <summary>The CRC-32 used by PNG (ISO 3309 / ITU-T V.42, reflected polynomial 0xEDB88320).</summary>
internal static class Crc32
{
    private static readonly uint[] Table = BuildTable();

    /// <summary>Computes the CRC of <paramref name="data"/>.</summary>
    /// <param name="data">The bytes to checksum.</param>
    /// <returns>The finished CRC (initial value and final XOR 0xFFFFFFFF applied).</returns>
    public static uint Compute(ReadOnlySpan<byte> data) => Append(0, data);

    /// <summary>Continues a CRC over more bytes: <c>Append(Compute(a), b) == Compute(a + b)</c>.</summary>
    /// <param name="crc">A finished CRC of the preceding bytes (0 for none).</param>
    /// <param name="data">The next bytes.</param>
    /// <returns>The finished CRC of all bytes so far.</returns>
    public static uint Append(uint crc, ReadOnlySpan<byte> data)
    {
        uint c = ~crc;
        foreach (byte b in data)
        {
            c = Table[(c ^ b) & 0xFF] ^ (c >> 8);
        }

        return ~c;
    }

    private static uint[] BuildTable()
    {
        var table = new uint[256];
        for (uint n = 0; n < 256; n++)
        {
            uint c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
            }

            table[n] = c;
        }

        return table;
    }
}
