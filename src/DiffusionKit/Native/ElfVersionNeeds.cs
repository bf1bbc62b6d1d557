using System.Buffers.Binary;
using System.Text;

namespace DiffusionKit.Native;

/// <summary>
/// Reads and edits the symbol-version requirements (<c>.gnu.version_r</c>, <c>Elf64_Verneed</c>/<c>Elf64_Vernaux</c>)
/// of a little-endian ELF64 shared library held in memory.
/// </summary>
internal static class ElfVersionNeeds
{
    private const uint ShtGnuVerneed = 0x6ffffffe;
    private const ushort VerFlgWeak = 0x2;

    /// <summary>One required symbol version.</summary>
    /// <param name="File">The library the version is required from (e.g. <c>libstdc++.so.6</c>).</param>
    /// <param name="Version">The version name (e.g. <c>GLIBCXX_3.4.32</c>).</param>
    /// <param name="Weak">Whether the requirement is weak (the loader only warns when it is missing).</param>
    /// <param name="FlagsOffset">File offset of the entry's <c>vna_flags</c> field.</param>
    internal readonly record struct Requirement(string File, string Version, bool Weak, int FlagsOffset);

    /// <summary>Lists every version requirement of the image.</summary>
    /// <exception cref="InvalidDataException">When the bytes are not a well-formed little-endian ELF64 image.</exception>
    internal static IReadOnlyList<Requirement> Read(ReadOnlySpan<byte> image)
    {
        if (image.Length < 64 || image[0] != 0x7f || image[1] != (byte)'E' || image[2] != (byte)'L' || image[3] != (byte)'F')
        {
            throw new InvalidDataException("Not an ELF file.");
        }

        if (image[4] != 2 || image[5] != 1)
        {
            throw new InvalidDataException("Only little-endian ELF64 images are supported.");
        }

        long shoff = checked((long)BinaryPrimitives.ReadUInt64LittleEndian(image[0x28..]));
        int shentsize = BinaryPrimitives.ReadUInt16LittleEndian(image[0x3A..]);
        int shnum = BinaryPrimitives.ReadUInt16LittleEndian(image[0x3C..]);
        if (shentsize < 64 || shoff <= 0 || shoff + ((long)shnum * shentsize) > image.Length)
        {
            throw new InvalidDataException("Section header table lies outside the file.");
        }

        var result = new List<Requirement>();
        for (int i = 0; i < shnum; i++)
        {
            var sh = image.Slice(checked((int)(shoff + ((long)i * shentsize))), shentsize);
            if (BinaryPrimitives.ReadUInt32LittleEndian(sh[4..]) != ShtGnuVerneed)
            {
                continue;
            }

            int offset = CheckedOffset(BinaryPrimitives.ReadUInt64LittleEndian(sh[24..]), image.Length);
            int size = CheckedOffset(BinaryPrimitives.ReadUInt64LittleEndian(sh[32..]), image.Length - offset);
            int link = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(sh[40..]));
            int count = checked((int)BinaryPrimitives.ReadUInt32LittleEndian(sh[44..]));
            if (link >= shnum)
            {
                throw new InvalidDataException("Version-needs section links to a missing string table.");
            }

            var strtabHeader = image.Slice(checked((int)(shoff + ((long)link * shentsize))), shentsize);
            int strOffset = CheckedOffset(BinaryPrimitives.ReadUInt64LittleEndian(strtabHeader[24..]), image.Length);
            int strSize = CheckedOffset(BinaryPrimitives.ReadUInt64LittleEndian(strtabHeader[32..]), image.Length - strOffset);
            var strtab = image.Slice(strOffset, strSize);
            var section = image.Slice(offset, size);

            int need = 0;
            for (int n = 0; n < count; n++)
            {
                EnsureRange(need, 16, section.Length);
                int auxCount = BinaryPrimitives.ReadUInt16LittleEndian(section[(need + 2)..]);
                string file = ReadString(strtab, BinaryPrimitives.ReadUInt32LittleEndian(section[(need + 4)..]));
                int aux = need + checked((int)BinaryPrimitives.ReadUInt32LittleEndian(section[(need + 8)..]));
                for (int a = 0; a < auxCount; a++)
                {
                    EnsureRange(aux, 16, section.Length);
                    ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(section[(aux + 4)..]);
                    string version = ReadString(strtab, BinaryPrimitives.ReadUInt32LittleEndian(section[(aux + 8)..]));
                    result.Add(new Requirement(file, version, (flags & VerFlgWeak) != 0, offset + aux + 4));
                    aux += checked((int)BinaryPrimitives.ReadUInt32LittleEndian(section[(aux + 12)..]));
                }

                need += checked((int)BinaryPrimitives.ReadUInt32LittleEndian(section[(need + 12)..]));
            }
        }

        return result;
    }

    /// <summary>Marks one requirement weak in place.</summary>
    internal static void MarkWeak(Span<byte> image, Requirement requirement)
    {
        ushort flags = BinaryPrimitives.ReadUInt16LittleEndian(image[requirement.FlagsOffset..]);
        BinaryPrimitives.WriteUInt16LittleEndian(image[requirement.FlagsOffset..], (ushort)(flags | VerFlgWeak));
    }

    private static int CheckedOffset(ulong value, int limit)
    {
        if (value > (ulong)limit)
        {
            throw new InvalidDataException("A section lies outside the file.");
        }

        return (int)value;
    }

    private static void EnsureRange(int start, int length, int limit)
    {
        if (start < 0 || start + length > limit)
        {
            throw new InvalidDataException("A version-needs entry lies outside its section.");
        }
    }

    private static string ReadString(ReadOnlySpan<byte> strtab, uint index)
    {
        if (index >= strtab.Length)
        {
            throw new InvalidDataException("A string index lies outside the string table.");
        }

        var rest = strtab[(int)index..];
        int end = rest.IndexOf((byte)0);
        return Encoding.ASCII.GetString(end < 0 ? rest : rest[..end]);
    }
}
