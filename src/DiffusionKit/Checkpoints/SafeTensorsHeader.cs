using static TorchSharp.torch;

namespace DiffusionKit.Checkpoints;

/// <summary>One tensor a safetensors header describes: its name, dtype, shape and byte range in the data section.</summary>
/// <param name="Name">The tensor's name.</param>
/// <param name="Type">The TorchSharp scalar type.</param>
/// <param name="DTypeName">The safetensors dtype name (<c>F32</c>, <c>BF16</c>, ...).</param>
/// <param name="Shape">The shape.</param>
/// <param name="Begin">First byte, relative to the data section.</param>
/// <param name="End">One past the last byte, relative to the data section.</param>
internal sealed record SafeTensorsEntry(string Name, ScalarType Type, string DTypeName, long[] Shape, long Begin, long End);

/// <summary>A checked safetensors header: entries in data order (they tile the data section exactly) and the metadata.</summary>
/// <param name="Entries">The tensors, sorted by offset.</param>
/// <param name="Metadata">The <c>__metadata__</c> strings; empty when absent.</param>
/// <param name="DataStart">Offset of the data section in the file.</param>
/// <param name="DataLength">Length of the data section.</param>
internal sealed record SafeTensorsHeader(IReadOnlyList<SafeTensorsEntry> Entries, IReadOnlyDictionary<string, string> Metadata, long DataStart, long DataLength);
