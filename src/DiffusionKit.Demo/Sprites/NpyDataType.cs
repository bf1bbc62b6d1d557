namespace DiffusionKit.Demo.Sprites;

/// <summary>The NumPy element types <see cref="NpyReader"/> understands (little-endian where it matters).</summary>
public enum NpyDataType
{
    /// <summary><c>|u1</c>: unsigned 8-bit integer.</summary>
    UInt8,

    /// <summary><c>&lt;f4</c>: little-endian IEEE 754 single precision.</summary>
    Float32,

    /// <summary><c>&lt;f8</c>: little-endian IEEE 754 double precision.</summary>
    Float64,

    /// <summary><c>&lt;i8</c>: little-endian signed 64-bit integer.</summary>
    Int64,
}
