using System.Globalization;
using System.Text;

namespace DiffusionKit.Demo.Sprites;

/// <summary>Reads NumPy <c>.npy</c> files (format versions 1.0, 2.0 and 3.0).</summary>
/// <remarks>
/// <para>
/// Supported: dtypes <c>|u1</c> (also <c>&lt;u1</c>, <c>=u1</c>), <c>&lt;f4</c>, <c>&lt;f8</c>, <c>&lt;i8</c>, with
/// <c>fortran_order: False</c>. Everything else — bad magic, an unknown version, a truncated or malformed header, an
/// unsupported dtype (big-endian, objects, structured), Fortran order, a data section shorter or longer than the shape
/// says — is an <see cref="InvalidDataException"/> whose message names the file and the problem.
/// </para>
/// <para>
/// The reader never trusts sizes in the file: the header length and the data size are checked against the bytes that
/// are actually there before anything of that size is allocated. Thread-safe (no shared state).
/// </para>
/// </remarks>
public static class NpyReader
{
    private static readonly byte[] Magic = { 0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y' };

    /// <summary>Reads a whole <c>.npy</c> file.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The array.</returns>
    /// <exception cref="FileNotFoundException">When the file does not exist.</exception>
    /// <exception cref="InvalidDataException">When the file is not a supported, intact <c>.npy</c> file.</exception>
    public static NpyArray Read(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(stream, path);
    }

    /// <summary>Reads one <c>.npy</c> array from the current position of a stream.</summary>
    /// <param name="stream">A readable stream; a seekable one lets the reader check sizes before reading.</param>
    /// <param name="sourceName">The name used in error messages (usually the file path).</param>
    /// <returns>The array.</returns>
    /// <exception cref="InvalidDataException">When the bytes are not a supported, intact <c>.npy</c> array.</exception>
    public static NpyArray Read(Stream stream, string sourceName)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(sourceName);

        // 1. Magic string and version.
        Span<byte> preamble = stackalloc byte[8];
        if (ReadUpTo(stream, preamble) < 8)
        {
            throw Invalid(sourceName, "the file is truncated: it is shorter than the 8-byte .npy preamble");
        }

        if (!preamble[..6].SequenceEqual(Magic))
        {
            throw Invalid(sourceName, "bad magic: it does not start with \\x93NUMPY, so it is not a .npy file");
        }

        byte major = preamble[6];
        if (major is < 1 or > 3)
        {
            throw Invalid(sourceName, $"unsupported .npy format version {major}.{preamble[7]} (1.0, 2.0 and 3.0 are supported)");
        }

        // 2. Header length: uint16 in version 1, uint32 in versions 2 and 3 (little-endian).
        int lengthBytes = major == 1 ? 2 : 4;
        Span<byte> lengthField = stackalloc byte[4];
        lengthField.Clear();
        if (ReadUpTo(stream, lengthField[..lengthBytes]) < lengthBytes)
        {
            throw Invalid(sourceName, "the file is truncated inside the header length field");
        }

        long headerLength = BitConverter.ToUInt32(lengthField);
        long? remaining = stream.CanSeek ? stream.Length - stream.Position : null;
        if (remaining is { } left && headerLength > left)
        {
            throw Invalid(sourceName, $"the file is truncated: the header claims {headerLength} bytes but only {left} remain");
        }

        // 3. The header itself: a Python dict literal (latin-1 in versions 1-2, UTF-8 in version 3).
        byte[] headerBytes = ReadExactlyOrNull(stream, headerLength, remaining)
            ?? throw Invalid(sourceName, $"the file is truncated inside the {headerLength}-byte header");
        string header = (major == 3 ? Encoding.UTF8 : Encoding.Latin1).GetString(headerBytes);
        (NpyDataType dataType, int[] shape) = ParseHeader(header, sourceName);

        // 4. Data: exactly product(shape) · itemsize bytes, checked before allocating.
        long expected;
        try
        {
            long count = 1;
            foreach (int dim in shape)
            {
                count = checked(count * dim);
            }

            expected = checked(count * NpyArray.ElementSize(dataType));
        }
        catch (OverflowException)
        {
            throw Invalid(sourceName, $"the shape ({string.Join(", ", shape)}) is too large");
        }

        if (expected > Array.MaxLength)
        {
            throw Invalid(sourceName, $"the shape ({string.Join(", ", shape)}) needs {expected} bytes, more than one .NET array can hold");
        }

        if (remaining is { } afterHeader)
        {
            afterHeader -= headerLength;
            if (afterHeader != expected)
            {
                throw Invalid(
                    sourceName,
                    $"size mismatch: shape ({string.Join(", ", shape)}) of {Describe(dataType)} needs {expected} data bytes but the file holds {afterHeader}"
                    + (afterHeader < expected ? " (truncated)" : " (trailing bytes)"));
            }
        }

        byte[] data = ReadExactlyOrNull(stream, expected, remaining is null ? null : expected)
            ?? throw Invalid(sourceName, $"size mismatch: shape ({string.Join(", ", shape)}) of {Describe(dataType)} needs {expected} data bytes but the file ends early (truncated)");
        if (remaining is null && stream.ReadByte() >= 0)
        {
            throw Invalid(sourceName, $"size mismatch: shape ({string.Join(", ", shape)}) of {Describe(dataType)} needs {expected} data bytes but more follow (trailing bytes)");
        }

        return new NpyArray(dataType, shape, data);
    }

    private static (NpyDataType DataType, int[] Shape) ParseHeader(string header, string sourceName)
    {
        var parser = new HeaderParser(header, sourceName);
        Dictionary<string, object> dict = parser.ParseDict();
        if (!dict.TryGetValue("descr", out object? descrValue) || descrValue is not string descr)
        {
            throw Invalid(sourceName, "the header has no string 'descr' (dtype) entry");
        }

        if (!dict.TryGetValue("fortran_order", out object? fortranValue) || fortranValue is not bool fortran)
        {
            throw Invalid(sourceName, "the header has no boolean 'fortran_order' entry");
        }

        if (!dict.TryGetValue("shape", out object? shapeValue) || shapeValue is not int[] shape)
        {
            throw Invalid(sourceName, "the header has no 'shape' tuple");
        }

        NpyDataType dataType = descr switch
        {
            "|u1" or "<u1" or "=u1" or "u1" => NpyDataType.UInt8,
            "<f4" => NpyDataType.Float32,
            "<f8" => NpyDataType.Float64,
            "<i8" => NpyDataType.Int64,
            _ => throw Invalid(sourceName, $"unsupported dtype '{descr}' (supported: '|u1', '<f4', '<f8', '<i8'); save the array with one of these, e.g. arr.astype('<f8')"),
        };

        if (fortran)
        {
            throw Invalid(sourceName, "fortran_order is True; only C-order arrays are supported (save np.ascontiguousarray(arr))");
        }

        return (dataType, shape);
    }

    private static string Describe(NpyDataType dataType) =>
        $"{dataType} ({NpyArray.ElementSize(dataType)} bytes each)";

    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        int total = 0;
        while (total < buffer.Length)
        {
            int read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>Reads <paramref name="length"/> bytes; allocates them up front only when <paramref name="known"/> proves they exist.</summary>
    private static byte[]? ReadExactlyOrNull(Stream stream, long length, long? known)
    {
        if (known is { } available && available >= length)
        {
            byte[] buffer = new byte[length];
            return ReadUpTo(stream, buffer) == length ? buffer : null;
        }

        // Unknown length (non-seekable stream): grow with what actually arrives.
        using var collected = new MemoryStream();
        byte[] chunk = new byte[(int)Math.Min(length, 1 << 16) + 1];
        long left = length;
        while (left > 0)
        {
            int read = stream.Read(chunk, 0, (int)Math.Min(left, chunk.Length));
            if (read == 0)
            {
                return null;
            }

            collected.Write(chunk, 0, read);
            left -= read;
        }

        return collected.ToArray();
    }

    private static InvalidDataException Invalid(string sourceName, string problem) =>
        new($"'{sourceName}' is not a readable .npy array: {problem}.");

    /// <summary>A minimal parser for the Python literal subset .npy headers use: dict, str, bool, int, tuple.</summary>
    private ref struct HeaderParser
    {
        private readonly string _text;
        private readonly string _sourceName;
        private int _pos;

        public HeaderParser(string text, string sourceName)
        {
            _text = text;
            _sourceName = sourceName;
            _pos = 0;
        }

        public Dictionary<string, object> ParseDict()
        {
            var dict = new Dictionary<string, object>(StringComparer.Ordinal);
            Expect('{');
            while (true)
            {
                SkipSpace();
                if (TryTake('}'))
                {
                    break;
                }

                if (Peek() is not ('\'' or '"'))
                {
                    throw Fail("expected a quoted key");
                }

                string key = ParseString();
                Expect(':');
                object value = ParseValue();
                if (!dict.TryAdd(key, value))
                {
                    throw Fail($"duplicate key '{key}'");
                }

                SkipSpace();
                if (TryTake(','))
                {
                    continue;
                }

                Expect('}');
                break;
            }

            SkipSpace();
            if (_pos != _text.Length)
            {
                throw Fail("unexpected text after the header dict");
            }

            return dict;
        }

        private object ParseValue()
        {
            SkipSpace();
            char c = Peek();
            if (c is '\'' or '"')
            {
                return ParseString();
            }

            if (c == '(')
            {
                return ParseTuple();
            }

            if (Match("True"))
            {
                return true;
            }

            if (Match("False"))
            {
                return false;
            }

            throw Fail($"unsupported value starting at '{c}' (expected a string, True/False or a tuple)");
        }

        private int[] ParseTuple()
        {
            Expect('(');
            var dims = new List<int>();
            while (true)
            {
                SkipSpace();
                if (TryTake(')'))
                {
                    break;
                }

                int start = _pos;
                while (_pos < _text.Length && char.IsAsciiDigit(_text[_pos]))
                {
                    _pos++;
                }

                if (_pos < _text.Length && _text[_pos] == 'L')
                {
                    _pos++; // Python 2 long suffix.
                }

                string digits = _text[start.._pos].TrimEnd('L');
                if (digits.Length == 0
                    || !int.TryParse(digits, NumberStyles.None, CultureInfo.InvariantCulture, out int dim))
                {
                    throw Fail("a shape dimension is not a non-negative integer below 2^31");
                }

                dims.Add(dim);
                SkipSpace();
                if (TryTake(','))
                {
                    continue;
                }

                Expect(')');
                break;
            }

            return dims.ToArray();
        }

        private string ParseString()
        {
            char quote = _text[_pos++];
            int end = _text.IndexOf(quote, _pos);
            if (end < 0)
            {
                throw Fail("unterminated string");
            }

            string value = _text[_pos..end];
            _pos = end + 1;
            return value;
        }

        private bool Match(string word)
        {
            if (string.CompareOrdinal(_text, _pos, word, 0, word.Length) == 0)
            {
                _pos += word.Length;
                return true;
            }

            return false;
        }

        private void SkipSpace()
        {
            while (_pos < _text.Length && char.IsWhiteSpace(_text[_pos]))
            {
                _pos++;
            }
        }

        private char Peek() => _pos < _text.Length ? _text[_pos] : '\0';

        private bool TryTake(char c)
        {
            SkipSpace();
            if (Peek() == c)
            {
                _pos++;
                return true;
            }

            return false;
        }

        private void Expect(char c)
        {
            if (!TryTake(c))
            {
                throw Fail($"expected '{c}'");
            }
        }

        private InvalidDataException Fail(string what) =>
            Invalid(_sourceName, $"malformed header at character {_pos}: {what} in \"{_text.TrimEnd()}\"");
    }
}
