using System.Buffers.Binary;
using System.Text;
using DiffusionKit.Checkpoints;
using FluentAssertions;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;

namespace DiffusionKit.Tests.Checkpoints;

public sealed class SafeTensorsFileTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Round_trip_is_bit_identical_for_every_supported_dtype()
    {
        using var scope = torch.NewDisposeScope();
        var generator = new torch.Generator(11);
        var floats = torch.randn(new long[] { 3, 4, 5 }, generator: generator);
        floats[0, 0, 0] = torch.tensor(float.NaN);
        floats[0, 0, 1] = torch.tensor(float.NegativeInfinity);
        floats[0, 0, 2] = torch.tensor(-0.0f);
        var tensors = new Dictionary<string, Tensor>
        {
            ["f32"] = floats,
            ["f16"] = torch.randn(new long[] { 7 }, generator: generator).to_type(ScalarType.Float16),
            ["bf16"] = torch.randn(new long[] { 2, 3 }, generator: generator).to_type(ScalarType.BFloat16),
            ["f64"] = torch.randn(new long[] { 2, 2 }, dtype: ScalarType.Float64, generator: generator),
            ["i64"] = torch.tensor(new long[] { long.MinValue, -1, 0, long.MaxValue }),
            ["i32"] = torch.tensor(new[] { int.MinValue, 42, int.MaxValue }),
            ["u8"] = torch.tensor(new byte[] { 0, 1, 255 }),
            ["bool"] = torch.tensor(new[] { true, false, true }),
            ["scalar"] = torch.tensor(3.5f),
            ["empty"] = torch.zeros(0, 4),
            ["strided"] = floats.transpose(0, 2),
        };
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["note"] = "ünïcode \"quoted\"" };
        var path = temp.File("all.safetensors");

        SafeTensorsFile.Write(path, tensors, metadata);
        var read = SafeTensorsFile.Read(path, out var readMetadata);

        read.Keys.Should().BeEquivalentTo(tensors.Keys);
        foreach (var (name, expected) in tensors)
        {
            using var got = read[name];
            got.dtype.Should().Be(expected.dtype, name);
            got.shape.Should().Equal(expected.shape, name);
            using var expectedContiguous = expected.contiguous();
            got.bytes.ToArray().Should().Equal(expectedContiguous.bytes.ToArray(), $"{name} must be bit-identical");
        }

        readMetadata.Should().BeEquivalentTo(metadata);
    }

    [Fact]
    public void Written_file_has_an_aligned_header_with_sorted_keys()
    {
        using var scope = torch.NewDisposeScope();
        var path = temp.File("sorted.safetensors");
        SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { ["b"] = torch.ones(3), ["a"] = torch.zeros(1, 2) });

        var bytes = File.ReadAllBytes(path);
        var headerLength = (long)BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        var header = Encoding.UTF8.GetString(bytes, 8, (int)headerLength);

        ((8 + headerLength) % 8).Should().Be(0);
        header.TrimEnd(' ').Should().Be("{\"a\":{\"dtype\":\"F32\",\"shape\":[1,2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[3],\"data_offsets\":[8,20]}}");
        bytes.Length.Should().Be((int)(8 + headerLength + 20));
    }

    [Fact]
    public void Reads_a_file_built_byte_by_byte()
    {
        const string header = "{\"__metadata__\":{\"k\":\"v\"},\"w\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"n\":{\"dtype\":\"I64\",\"shape\":[1,1],\"data_offsets\":[8,16]},\"h\":{\"dtype\":\"F16\",\"shape\":[],\"data_offsets\":[16,18]}}";
        var data = new List<byte>();
        data.AddRange(BitConverter.GetBytes(1.5f));
        data.AddRange(BitConverter.GetBytes(-2.0f));
        data.AddRange(BitConverter.GetBytes(7L));
        data.AddRange(new byte[] { 0x00, 0x3C }); // 1.0 in IEEE half precision, little-endian
        var path = temp.File("manual.safetensors");
        File.WriteAllBytes(path, Build(header, data.ToArray()));

        var read = SafeTensorsFile.Read(path, out var metadata);

        using var w = read["w"];
        using var n = read["n"];
        using var h = read["h"];
        w.dtype.Should().Be(ScalarType.Float32);
        w.data<float>().ToArray().Should().Equal(1.5f, -2.0f);
        n.shape.Should().Equal(1, 1);
        n.item<long>().Should().Be(7);
        h.dtype.Should().Be(ScalarType.Float16);
        h.shape.Should().BeEmpty();
        h.to_type(ScalarType.Float32).item<float>().Should().Be(1.0f);
        metadata.Should().ContainKey("k").WhoseValue.Should().Be("v");
    }

    [Fact]
    public void Writing_replaces_an_existing_file_and_leaves_no_temporary_files()
    {
        using var scope = torch.NewDisposeScope();
        var path = temp.File("model.safetensors");
        SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { ["x"] = torch.ones(100) });

        SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { ["y"] = torch.zeros(2) });

        Directory.GetFiles(temp.Path).Should().ContainSingle().Which.Should().Be(path);
        var read = SafeTensorsFile.Read(path);
        read.Keys.Should().Equal("y");
        read["y"].Dispose();
    }

    [Fact]
    public void Writing_rejects_unsupported_dtypes_and_reserved_names_without_touching_the_target()
    {
        using var scope = torch.NewDisposeScope();
        var path = temp.File("bad.safetensors");

        FluentActions.Invoking(() => SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { ["z"] = torch.zeros(2, dtype: ScalarType.ComplexFloat32) }))
            .Should().Throw<ArgumentException>().WithMessage("*'z'*ComplexFloat32*");
        FluentActions.Invoking(() => SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { [SafeTensorsFile.MetadataKey] = torch.zeros(2) }))
            .Should().Throw<ArgumentException>().WithMessage("*reserved*");
        Directory.GetFiles(temp.Path).Should().BeEmpty();
    }

    public static TheoryData<string, string> CorruptFiles => new()
    {
        { "unknown dtype", "unknown or unsupported dtype 'F8_E4M3'" },
        { "bad json", "not well-formed JSON" },
        { "offsets beyond data", "beyond the 8-byte data section" },
        { "overlap", "overlaps the previous tensor" },
        { "gap", "leaves a gap" },
        { "size mismatch", "needs 8 bytes but its data_offsets [0, 4] span 4" },
        { "trailing bytes", "cover 8 bytes but the data section is 12 bytes" },
        { "negative shape", "not a non-negative integer" },
        { "duplicate", "lists 'a' twice" },
        { "not an object", "not an object" },
        { "missing dtype", "no string 'dtype'" },
        { "offset count", "3 'data_offsets' entries instead of 2" },
        { "reversed offsets", "end before they begin" },
    };

    [Theory]
    [MemberData(nameof(CorruptFiles))]
    public void Corrupt_headers_throw_InvalidDataException_naming_the_file(string corruption, string expectedReason)
    {
        var (header, dataLength) = corruption switch
        {
            "unknown dtype" => ("{\"a\":{\"dtype\":\"F8_E4M3\",\"shape\":[2],\"data_offsets\":[0,2]}}", 2),
            "bad json" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],", 8),
            "offsets beyond data" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":[0,16]}}", 8),
            "overlap" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]},\"b\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
            "gap" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}", 8),
            "size mismatch" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4]}}", 4),
            "trailing bytes" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}", 12),
            "negative shape" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[-2],\"data_offsets\":[0,8]}}", 8),
            "duplicate" => ("{\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]},\"a\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[1,2]}}", 2),
            "not an object" => ("[1,2,3]", 0),
            "missing dtype" => ("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", 8),
            "offset count" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,4,8]}}", 8),
            "reversed offsets" => ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[8,0]}}", 8),
            _ => throw new ArgumentOutOfRangeException(nameof(corruption)),
        };
        var path = temp.File("corrupt.safetensors");
        File.WriteAllBytes(path, Build(header, new byte[dataLength]));

        FluentActions.Invoking(() => SafeTensorsFile.Read(path))
            .Should().Throw<InvalidDataException>()
            .Where(e => e.Message.Contains(path) && e.Message.Contains(expectedReason), $"the message should say '{expectedReason}'");
    }

    [Fact]
    public void A_truncated_file_throws_InvalidDataException()
    {
        using var scope = torch.NewDisposeScope();
        var path = temp.File("truncated.safetensors");
        SafeTensorsFile.Write(path, new Dictionary<string, Tensor> { ["a"] = torch.ones(16), ["b"] = torch.ones(16) });
        var bytes = File.ReadAllBytes(path);

        foreach (var keep in new[] { 0, 5, 8, 20, bytes.Length - 1 })
        {
            File.WriteAllBytes(path, bytes[..keep]);
            FluentActions.Invoking(() => SafeTensorsFile.Read(path))
                .Should().Throw<InvalidDataException>($"a file cut to {keep} bytes is invalid");
        }
    }

    [Theory]
    [InlineData(ulong.MaxValue)]
    [InlineData(1UL << 40)]
    [InlineData(17UL)]
    public void A_header_length_beyond_the_file_throws_without_allocating_it(ulong claimedLength)
    {
        var path = temp.File("huge-header.safetensors");
        var bytes = new byte[8 + 16];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, claimedLength);
        "{}              "u8.CopyTo(bytes.AsSpan(8));
        File.WriteAllBytes(path, bytes);
        var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();

        FluentActions.Invoking(() => SafeTensorsFile.Read(path))
            .Should().Throw<InvalidDataException>().WithMessage("*header claims*");
        (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore).Should().BeLessThan(1_000_000);
    }

    [Fact]
    public void An_empty_header_object_is_a_valid_empty_file()
    {
        var path = temp.File("empty.safetensors");
        File.WriteAllBytes(path, Build("{}", Array.Empty<byte>()));

        SafeTensorsFile.Read(path, out var metadata).Should().BeEmpty();
        metadata.Should().BeEmpty();
    }

    private static byte[] Build(string header, byte[] data)
    {
        var headerBytes = Encoding.UTF8.GetBytes(header);
        var result = new byte[8 + headerBytes.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(result, (ulong)headerBytes.Length);
        headerBytes.CopyTo(result, 8);
        data.CopyTo(result, 8 + headerBytes.Length);
        return result;
    }
}
