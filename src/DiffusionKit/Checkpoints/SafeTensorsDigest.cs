using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// DiffusionKit's content digest of a safetensors file, stored as the metadata string
/// <see cref="SafeTensorsFile.DigestMetadataKey"/>: SHA-256 over every tensor's name, dtype, shape and bytes, in ordinal
/// name order. It ties each name to its bytes, so a header whose offsets were swapped between two same-shape tensors
/// (a layout the format itself accepts) or a flipped data bit is detected; other readers ignore the metadata string.
/// </summary>
internal sealed class SafeTensorsDigest
{
    private readonly SortedDictionary<string, byte[]> _tensors = new(StringComparer.Ordinal);

    /// <summary>Adds one tensor.</summary>
    public void Add(string name, string dtype, long[] shape, ReadOnlySpan<byte> bytes)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        AppendString(hash, name);
        AppendString(hash, dtype);
        Span<byte> number = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(number, shape.Length);
        hash.AppendData(number);
        foreach (var dim in shape)
        {
            BinaryPrimitives.WriteInt64LittleEndian(number, dim);
            hash.AppendData(number);
        }

        hash.AppendData(bytes);
        _tensors[name] = hash.GetHashAndReset();
    }

    /// <summary>The digest of every tensor added, as lowercase hex prefixed with the scheme (<c>v1:</c>).</summary>
    public string Finish()
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var (name, tensorHash) in _tensors)
        {
            AppendString(hash, name);
            hash.AppendData(tensorHash);
        }

        return "v1:" + Convert.ToHexString(hash.GetHashAndReset()).ToLowerInvariant();
    }

    private static void AppendString(IncrementalHash hash, string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(length, bytes.Length);
        hash.AppendData(length);
        hash.AppendData(bytes);
    }
}
