using System.Globalization;
using System.Text;

namespace DiffusionKit.Tests.Data;

/// <summary>Emits .npy bytes (any version, any header) so tests can build valid and corrupt files.</summary>
internal static class NpyTestWriter
{
    public static byte[] Build(string descr, int[] shape, byte[] data, int major = 1, bool fortran = false, string? headerOverride = null)
    {
        string shapeText = shape.Length == 1 ? $"({shape[0]},)" : "(" + string.Join(", ", shape.Select(d => d.ToString(CultureInfo.InvariantCulture))) + ")";
        string dict = headerOverride ?? $"{{'descr': '{descr}', 'fortran_order': {(fortran ? "True" : "False")}, 'shape': {shapeText}, }}";
        int prefix = 6 + 2 + (major == 1 ? 2 : 4);
        int total = prefix + dict.Length + 1;
        int pad = (64 - (total % 64)) % 64;
        string header = dict + new string(' ', pad) + "\n";
        using var ms = new MemoryStream();
        ms.Write(new byte[] { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', (byte)major, 0 });
        byte[] headerBytes = Encoding.Latin1.GetBytes(header);
        if (major == 1)
        {
            ms.Write(BitConverter.GetBytes((ushort)headerBytes.Length));
        }
        else
        {
            ms.Write(BitConverter.GetBytes((uint)headerBytes.Length));
        }

        ms.Write(headerBytes);
        ms.Write(data);
        return ms.ToArray();
    }

    public static byte[] Doubles(params double[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    public static byte[] Floats(params float[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();

    public static byte[] Longs(params long[] values) => values.SelectMany(BitConverter.GetBytes).ToArray();
}
