using System.Buffers.Binary;

namespace DiffusionKit.Demo.Sprites;

/// <summary>An array read from a <c>.npy</c> file: element type, C-order shape and the raw little-endian bytes.</summary>
/// <remarks>Immutable; safe to read from several threads.</remarks>
public sealed class NpyArray
{
    private readonly byte[] _data;

    internal NpyArray(NpyDataType dataType, int[] shape, byte[] data)
    {
        DataType = dataType;
        Shape = shape;
        _data = data;
    }

    /// <summary>The element type.</summary>
    public NpyDataType DataType { get; }

    /// <summary>The shape, outermost dimension first (C order); empty for a scalar.</summary>
    public IReadOnlyList<int> Shape { get; }

    /// <summary>Number of elements (the product of <see cref="Shape"/>).</summary>
    public long Length => _data.LongLength / ElementSize(DataType);

    /// <summary>The elements' bytes exactly as stored in the file (little-endian, C order).</summary>
    public ReadOnlyMemory<byte> RawData => _data;

    /// <summary>The backing array, for callers in this assembly that take ownership of a freshly read array.</summary>
    internal byte[] Data => _data;

    /// <summary>The size in bytes of one element of <paramref name="dataType"/>.</summary>
    /// <param name="dataType">The element type.</param>
    /// <returns>1, 4 or 8.</returns>
    public static int ElementSize(NpyDataType dataType) => dataType switch
    {
        NpyDataType.UInt8 => 1,
        NpyDataType.Float32 => 4,
        NpyDataType.Float64 => 8,
        NpyDataType.Int64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dataType), dataType, "Use a defined NpyDataType."),
    };

    /// <summary>Element <paramref name="index"/> (flat, C order) converted to double.</summary>
    /// <param name="index">0..Length-1.</param>
    /// <returns>The value; Int64 values beyond 2^53 lose precision.</returns>
    /// <exception cref="ArgumentOutOfRangeException">When <paramref name="index"/> is out of range.</exception>
    public double GetDouble(long index)
    {
        if ((ulong)index >= (ulong)Length)
        {
            throw new ArgumentOutOfRangeException(nameof(index), index, $"{nameof(index)} must be in 0..{Length - 1}.");
        }

        int size = ElementSize(DataType);
        ReadOnlySpan<byte> bytes = _data.AsSpan(checked((int)(index * size)), size);
        return DataType switch
        {
            NpyDataType.UInt8 => bytes[0],
            NpyDataType.Float32 => BinaryPrimitives.ReadSingleLittleEndian(bytes),
            NpyDataType.Float64 => BinaryPrimitives.ReadDoubleLittleEndian(bytes),
            _ => BinaryPrimitives.ReadInt64LittleEndian(bytes),
        };
    }
}
