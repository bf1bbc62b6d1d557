using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionKit.Checkpoints;

/// <summary>
/// Reads and writes the <a href="https://github.com/huggingface/safetensors">safetensors</a> format: an 8-byte
/// little-endian header length, a JSON header mapping each tensor name to its dtype, shape and byte range, then the
/// raw little-endian tensor data.
/// </summary>
/// <remarks>
/// <para>Supported dtypes: F64, F32, F16, BF16, I64, I32, I16, I8, U8 and BOOL.</para>
/// <para>
/// Reading treats the file as untrusted: the header length is checked against the file size before anything is
/// allocated, and every tensor's dtype, shape and byte range is checked (inside the data section, contiguous,
/// non-overlapping, covering it exactly, and of size <c>prod(shape) × element size</c>); any violation throws
/// <see cref="InvalidDataException"/> naming the file and the tensor.
/// </para>
/// <para>Writing is atomic: the file is written beside the target under a temporary name and moved over it.</para>
/// </remarks>
public static class SafeTensorsFile
{
    /// <summary>The header key under which safetensors stores free-form string metadata.</summary>
    public const string MetadataKey = "__metadata__";

    /// <summary>
    /// The metadata key of DiffusionKit's content digest (SHA-256 over each tensor's name, dtype, shape and bytes).
    /// Checkpoints DiffusionKit saves carry it; when a file has it, reading verifies it, so tensors whose offsets were
    /// swapped or whose bytes changed are refused. Files without it (for example from PyTorch) read as before.
    /// </summary>
    public const string DigestMetadataKey = "diffusionkit.sha256";

    /// <summary>Largest header accepted when reading (100 MB, the reference implementation's limit).</summary>
    public const long MaxHeaderLength = 100_000_000;

    /// <summary>Most dimensions a tensor may have when reading (libtorch's own limit is 64; real weights have at most 4 or 5).</summary>
    public const int MaxRank = 32;

    /// <summary>Writes <paramref name="tensors"/> (and optional metadata) to <paramref name="path"/> atomically.</summary>
    /// <param name="path">The file to create or replace.</param>
    /// <param name="tensors">Tensors by name, on any device; written in ordinal name order. Not modified or disposed.</param>
    /// <param name="metadata">Optional string metadata stored under <see cref="MetadataKey"/>.</param>
    /// <exception cref="ArgumentException">A name is empty or reserved, or a tensor's dtype is not supported.</exception>
    /// <exception cref="IOException">The file cannot be written.</exception>
    public static void Write(string path, IReadOnlyDictionary<string, Tensor> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(tensors);
        EnsureLittleEndian();

        var names = tensors.Keys.OrderBy(k => k, StringComparer.Ordinal).ToList();
        var entries = new List<(string Name, string DType, long[] Shape, long Begin, long End)>(names.Count);
        long offset = 0;
        foreach (var name in names)
        {
            if (string.IsNullOrEmpty(name) || name == MetadataKey)
            {
                throw new ArgumentException($"Tensor name '{name}' is empty or reserved; rename the tensor.", nameof(tensors));
            }

            var tensor = tensors[name] ?? throw new ArgumentException($"Tensor '{name}' is null.", nameof(tensors));
            if (!SafeTensorsDType.TryFromType(tensor.dtype, out var dtypeName, out var size))
            {
                throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors files here do not support; convert it to one of {SafeTensorsDType.SupportedNames}.", nameof(tensors));
            }

            var byteCount = checked(tensor.numel() * size);
            entries.Add((name, dtypeName, tensor.shape, offset, offset + byteCount));
            offset += byteCount;
        }

        var header = BuildHeader(entries, metadata);
        var fullPath = Path.GetFullPath(path);
        var directory = Path.GetDirectoryName(fullPath) ?? throw new ArgumentException($"'{path}' has no directory.", nameof(path));
        var temporary = Path.Combine(directory, $".{Path.GetFileName(fullPath)}.{Guid.NewGuid():N}.tmp");
        try
        {
            using (var stream = new FileStream(temporary, FileMode.CreateNew, FileAccess.Write, FileShare.None))
            {
                Span<byte> lengthBytes = stackalloc byte[8];
                BinaryPrimitives.WriteUInt64LittleEndian(lengthBytes, (ulong)header.Length);
                stream.Write(lengthBytes);
                stream.Write(header);
                foreach (var entry in entries)
                {
                    using var scope = torch.NewDisposeScope();
                    var cpu = tensors[entry.Name].detach().cpu().contiguous();
                    stream.Write(cpu.bytes);
                }

                stream.Flush(flushToDisk: true);
            }

            File.Move(temporary, fullPath, overwrite: true);
        }
        catch
        {
            TryDelete(temporary);
            throw;
        }
    }

    /// <summary>Reads every tensor of a safetensors file onto the CPU.</summary>
    /// <param name="path">The file to read.</param>
    /// <returns>New CPU tensors by name, owned by the caller.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message says why.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Dictionary<string, Tensor> Read(string path) => Read(path, out _);

    /// <summary>Reads every tensor of a safetensors file onto the CPU, and its metadata.</summary>
    /// <param name="path">The file to read.</param>
    /// <param name="metadata">The <see cref="MetadataKey"/> entries; empty when the file has none.</param>
    /// <returns>New CPU tensors by name, owned by the caller.</returns>
    /// <exception cref="InvalidDataException">The file is not a valid safetensors file; the message says why.</exception>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public static Dictionary<string, Tensor> Read(string path, out IReadOnlyDictionary<string, string> metadata)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = CheckpointFileGuard.OpenRegular(path, long.MaxValue, "a safetensors file");
        var header = ReadHeader(stream, path);
        metadata = header.Metadata;
        return ReadTensors(stream, path, header, rejectNonFinite: false);
    }

    /// <summary>
    /// Reads and checks the length field and the JSON header of an open safetensors file, without reading tensor data:
    /// the header must be valid UTF-8 JSON starting with <c>{</c>, at most <see cref="MaxHeaderLength"/> bytes, and
    /// describe tensors that tile the data section exactly.
    /// </summary>
    internal static SafeTensorsHeader ReadHeader(FileStream stream, string path)
    {
        EnsureLittleEndian();
        var fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw Invalid(path, $"it is {fileLength} bytes long, shorter than the 8-byte header length");
        }

        Span<byte> lengthBytes = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(lengthBytes);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(lengthBytes);
        if (headerLength > (ulong)(fileLength - 8))
        {
            throw Invalid(path, $"the header claims {headerLength} bytes but only {fileLength - 8} bytes follow the length field (truncated or not a safetensors file)");
        }

        if (headerLength > MaxHeaderLength)
        {
            throw Invalid(path, $"the header is {headerLength} bytes, more than the {MaxHeaderLength}-byte limit");
        }

        var header = new byte[headerLength];
        stream.ReadExactly(header);
        if (header.Length == 0 || header[0] != (byte)'{')
        {
            throw Invalid(path, "the header is not an object (the format requires a JSON object starting with '{')");
        }

        if (!System.Text.Unicode.Utf8.IsValid(header))
        {
            throw Invalid(path, $"the header is not valid UTF-8 (first bad byte at header offset {FirstInvalidUtf8(header)})");
        }

        var dataLength = fileLength - 8 - (long)headerLength;
        var entries = ParseHeader(path, header, dataLength, out var metadata);
        return new SafeTensorsHeader(entries, metadata, 8 + (long)headerLength, dataLength);
    }

    /// <summary>Reads every tensor <paramref name="header"/> lists onto the CPU; with <paramref name="rejectNonFinite"/>, a floating-point tensor holding NaN or infinity is an error.</summary>
    internal static Dictionary<string, Tensor> ReadTensors(FileStream stream, string path, SafeTensorsHeader header, bool rejectNonFinite)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        header.Metadata.TryGetValue(DigestMetadataKey, out var expectedDigest);
        var digest = expectedDigest is null ? null : new SafeTensorsDigest();
        try
        {
            foreach (var entry in header.Entries)
            {
                var byteCount = entry.End - entry.Begin;
                if (byteCount > Array.MaxLength)
                {
                    throw Invalid(path, $"tensor '{entry.Name}' is {byteCount} bytes, larger than one .NET array can hold");
                }

                var buffer = new byte[byteCount];
                stream.Position = header.DataStart + entry.Begin;
                stream.ReadExactly(buffer);
                digest?.Add(entry.Name, entry.DTypeName, entry.Shape, buffer);
                var tensor = torch.empty(entry.Shape, dtype: entry.Type);
                result.Add(entry.Name, tensor);
                if (byteCount > 0)
                {
                    tensor.bytes = buffer;
                }

                if (rejectNonFinite && byteCount > 0 && tensor.is_floating_point())
                {
                    using var finite = tensor.isfinite();
                    using var all = finite.all();
                    if (!all.item<bool>())
                    {
                        throw new InvalidDataException($"'{path}': tensor '{entry.Name}' holds NaN or infinite values; the weights are corrupt (or were saved from a diverged run) and cannot be sampled from.");
                    }
                }
            }

            if (digest is not null && !string.Equals(digest.Finish(), expectedDigest, StringComparison.Ordinal))
            {
                throw Invalid(path, $"its content does not match its '{DigestMetadataKey}' digest: tensors were swapped, renamed or altered after it was saved");
            }
        }
        catch
        {
            foreach (var tensor in result.Values)
            {
                tensor.Dispose();
            }

            throw;
        }

        return result;
    }

    private static int FirstInvalidUtf8(byte[] bytes)
    {
        var span = bytes.AsSpan();
        var offset = 0;
        while (!span.IsEmpty)
        {
            var status = System.Text.Rune.DecodeFromUtf8(span, out _, out var consumed);
            if (status != System.Buffers.OperationStatus.Done)
            {
                return offset;
            }

            span = span[consumed..];
            offset += consumed;
        }

        return offset;
    }

    /// <summary>The <see cref="DigestMetadataKey"/> value for <paramref name="tensors"/> (as <see cref="Write"/> would store them).</summary>
    /// <exception cref="ArgumentException">A tensor's dtype is not supported.</exception>
    internal static string ComputeDigest(IReadOnlyDictionary<string, Tensor> tensors)
    {
        var digest = new SafeTensorsDigest();
        foreach (var (name, tensor) in tensors)
        {
            if (!SafeTensorsDType.TryFromType(tensor.dtype, out var dtypeName, out _))
            {
                throw new ArgumentException($"Tensor '{name}' has dtype {tensor.dtype}, which safetensors files here do not support.", nameof(tensors));
            }

            using var scope = torch.NewDisposeScope();
            var cpu = tensor.detach().cpu().contiguous();
            digest.Add(name, dtypeName, cpu.shape, cpu.numel() == 0 ? [] : cpu.bytes);
        }

        return digest.Finish();
    }

    private static byte[] BuildHeader(List<(string Name, string DType, long[] Shape, long Begin, long End)> entries, IReadOnlyDictionary<string, string>? metadata)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                writer.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WriteString(key, value);
                }

                writer.WriteEndObject();
            }

            foreach (var entry in entries)
            {
                writer.WriteStartObject(entry.Name);
                writer.WriteString("dtype", entry.DType);
                writer.WriteStartArray("shape");
                foreach (var dim in entry.Shape)
                {
                    writer.WriteNumberValue(dim);
                }

                writer.WriteEndArray();
                writer.WriteStartArray("data_offsets");
                writer.WriteNumberValue(entry.Begin);
                writer.WriteNumberValue(entry.End);
                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndObject();
        }

        // Pad with spaces so the data section starts 8-byte aligned (8 + header length is a multiple of 8).
        var json = buffer.ToArray();
        var padded = (json.Length + 7) / 8 * 8;
        var header = new byte[padded];
        json.CopyTo(header, 0);
        header.AsSpan(json.Length).Fill((byte)' ');
        return header;
    }

    private static List<SafeTensorsEntry> ParseHeader(
        string path, byte[] header, long dataLength, out IReadOnlyDictionary<string, string> metadata)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw Invalid(path, $"the header is not well-formed JSON ({e.Message})", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw Invalid(path, $"the header is a JSON {document.RootElement.ValueKind}, not an object");
            }

            var meta = new Dictionary<string, string>(StringComparer.Ordinal);
            var entries = new List<SafeTensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in document.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                {
                    throw Invalid(path, $"the header lists '{property.Name}' twice");
                }

                if (property.Name == MetadataKey)
                {
                    ReadMetadata(path, property.Value, meta);
                    continue;
                }

                entries.Add(ParseEntry(path, property.Name, property.Value));
            }

            CheckLayout(path, entries, dataLength);
            metadata = meta;
            return entries;
        }
    }

    /// <summary>
    /// The digest check is on when the digest key is present, so a damaged key must not turn it off silently: a key in
    /// DiffusionKit's namespace that is not the digest key, or a key one byte away from it, is an error.
    /// </summary>
    private static void CheckIntegrityKey(string path, string key)
    {
        if (key == DigestMetadataKey)
        {
            return; // Its value is compared with the content's digest when the tensors are read.
        }

        bool oneByteAway = key.Length == DigestMetadataKey.Length && key.Where((c, i) => c != DigestMetadataKey[i]).Count() == 1;
        if (oneByteAway || key.StartsWith("diffusionkit.", StringComparison.Ordinal))
        {
            throw Invalid(path, $"metadata key '{Shorten(key)}' is not one DiffusionKit writes (its integrity key is '{DigestMetadataKey}'): the key is damaged or from an unknown version, so the content cannot be verified");
        }
    }

    private static string Shorten(string text) => text.Length <= 80 ? text : text[..80] + "…";

    private static void ReadMetadata(string path, JsonElement element, Dictionary<string, string> metadata)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, $"'{MetadataKey}' must be an object of strings");
        }

        foreach (var item in element.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
            {
                throw Invalid(path, $"metadata entry '{item.Name}' is a JSON {item.Value.ValueKind}, not a string");
            }

            metadata[item.Name] = item.Value.GetString()!;
            CheckIntegrityKey(path, item.Name);
        }
    }

    private static SafeTensorsEntry ParseEntry(string path, string name, JsonElement element)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw Invalid(path, $"tensor '{name}' is described by a JSON {element.ValueKind}, not an object");
        }

        if (!element.TryGetProperty("dtype", out var dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Invalid(path, $"tensor '{name}' has no string 'dtype'");
        }

        var dtypeName = dtypeElement.GetString()!;
        if (!SafeTensorsDType.TryFromName(dtypeName, out var type, out var elementSize))
        {
            throw Invalid(path, $"tensor '{name}' has unknown or unsupported dtype '{dtypeName}'; supported: {SafeTensorsDType.SupportedNames}");
        }

        var shape = ReadIntegers(path, name, element, "shape", expectedCount: null);
        if (shape.Length > MaxRank)
        {
            throw Invalid(path, $"tensor '{name}' has {shape.Length} dimensions, more than the {MaxRank} this reader accepts");
        }

        var offsets = ReadIntegers(path, name, element, "data_offsets", expectedCount: 2);
        if (offsets[1] < offsets[0])
        {
            throw Invalid(path, $"tensor '{name}' has data_offsets [{offsets[0]}, {offsets[1]}] that end before they begin");
        }

        long expectedBytes;
        try
        {
            expectedBytes = shape.Aggregate((long)elementSize, (product, dim) => checked(product * dim));
        }
        catch (OverflowException e)
        {
            throw Invalid(path, $"tensor '{name}' has shape [{string.Join(", ", shape)}], too large to address", e);
        }

        if (offsets[1] - offsets[0] != expectedBytes)
        {
            throw Invalid(path, $"tensor '{name}' ({dtypeName} [{string.Join(", ", shape)}]) needs {expectedBytes} bytes but its data_offsets [{offsets[0]}, {offsets[1]}] span {offsets[1] - offsets[0]}");
        }

        return new SafeTensorsEntry(name, type, dtypeName, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(string path, string name, JsonElement element, string field, int? expectedCount)
    {
        if (!element.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(path, $"tensor '{name}' has no '{field}' array");
        }

        var values = new List<long>();
        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out var value) || value < 0)
            {
                throw Invalid(path, $"tensor '{name}' has a '{field}' entry that is not a non-negative integer ({item.GetRawText()})");
            }

            values.Add(value);
        }

        if (expectedCount is { } count && values.Count != count)
        {
            throw Invalid(path, $"tensor '{name}' has {values.Count} '{field}' entries instead of {count}");
        }

        return values.ToArray();
    }

    private static void CheckLayout(string path, List<SafeTensorsEntry> entries, long dataLength)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expectedBegin = 0;
        foreach (var entry in entries)
        {
            if (entry.End > dataLength)
            {
                throw Invalid(path, $"tensor '{entry.Name}' has data_offsets [{entry.Begin}, {entry.End}] beyond the {dataLength}-byte data section (truncated file?)");
            }

            if (entry.Begin != expectedBegin)
            {
                var problem = entry.Begin < expectedBegin ? "overlaps the previous tensor" : "leaves a gap after the previous tensor";
                throw Invalid(path, $"tensor '{entry.Name}' starts at byte {entry.Begin} of the data section and {problem} (expected {expectedBegin})");
            }

            expectedBegin = entry.End;
        }

        if (expectedBegin != dataLength)
        {
            throw Invalid(path, $"the tensors cover {expectedBegin} bytes but the data section is {dataLength} bytes");
        }
    }

    private static InvalidDataException Invalid(string path, string reason, Exception? inner = null) =>
        new($"'{path}' is not a valid safetensors file: {reason}.", inner);

    private static void EnsureLittleEndian()
    {
        if (!BitConverter.IsLittleEndian)
        {
            throw new PlatformNotSupportedException("safetensors IO here assumes a little-endian machine.");
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
            // Best effort: the temporary file is hidden and named uniquely.
        }
        catch (UnauthorizedAccessException)
        {
            // Best effort, as above.
        }
    }
}
