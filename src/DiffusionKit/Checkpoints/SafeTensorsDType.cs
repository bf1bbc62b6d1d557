using static TorchSharp.torch;

namespace DiffusionKit.Checkpoints;

/// <summary>Maps safetensors dtype names to TorchSharp scalar types and element sizes.</summary>
internal static class SafeTensorsDType
{
    private static readonly (string Name, ScalarType Type, int Size)[] Table =
    {
        ("F64", ScalarType.Float64, 8),
        ("F32", ScalarType.Float32, 4),
        ("F16", ScalarType.Float16, 2),
        ("BF16", ScalarType.BFloat16, 2),
        ("I64", ScalarType.Int64, 8),
        ("I32", ScalarType.Int32, 4),
        ("I16", ScalarType.Int16, 2),
        ("I8", ScalarType.Int8, 1),
        ("U8", ScalarType.Byte, 1),
        ("BOOL", ScalarType.Bool, 1),
    };

    /// <summary>The supported dtype names, for error messages.</summary>
    public static string SupportedNames => string.Join(", ", Table.Select(e => e.Name));

    /// <summary>Finds the scalar type and element size for a safetensors dtype name (case-sensitive, as the format requires).</summary>
    public static bool TryFromName(string name, out ScalarType type, out int size)
    {
        foreach (var entry in Table)
        {
            if (string.Equals(entry.Name, name, StringComparison.Ordinal))
            {
                type = entry.Type;
                size = entry.Size;
                return true;
            }
        }

        type = default;
        size = 0;
        return false;
    }

    /// <summary>Finds the safetensors dtype name and element size for a scalar type.</summary>
    public static bool TryFromType(ScalarType type, out string name, out int size)
    {
        foreach (var entry in Table)
        {
            if (entry.Type == type)
            {
                name = entry.Name;
                size = entry.Size;
                return true;
            }
        }

        name = string.Empty;
        size = 0;
        return false;
    }
}
