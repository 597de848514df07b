using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Text;
using Harness.Core.Gguf;
using Harness.Core.Suites;

namespace Harness.Tests.Gguf;

public sealed class GgufCorruptInputTests : IDisposable
{
    private readonly GgufTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private InputFileException ReadFails(byte[] bytes, string name = "corrupt.gguf")
    {
        var path = _files.WriteBytes(name, bytes);
        var error = Assert.Throws<InputFileException>(() => GgufReader.Read(path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        return error;
    }

    private static byte[] Sample()
    {
        var (metadata, tensors) = GgufTestFiles.SampleModel();
        return GgufTestFiles.ToBytes(metadata, tensors);
    }

    /// <summary>A hand-built header: version, counts, then raw bytes for the rest.</summary>
    private static byte[] Header(uint version, ulong tensorCount, ulong metadataCount, params byte[][] rest)
    {
        using var stream = new MemoryStream();
        using var writer = new BinaryWriter(stream);
        writer.Write("GGUF"u8);
        writer.Write(version);
        writer.Write(tensorCount);
        writer.Write(metadataCount);
        foreach (var part in rest)
        {
            writer.Write(part);
        }

        writer.Flush();
        return stream.ToArray();
    }

    private static byte[] U32(uint value) => BitConverter.GetBytes(value);

    private static byte[] U64(ulong value) => BitConverter.GetBytes(value);

    private static byte[] Str(string value) => [.. U64((ulong)Encoding.UTF8.GetByteCount(value)), .. Encoding.UTF8.GetBytes(value)];

    [Fact]
    public void Every_truncation_is_reported_with_the_file()
    {
        var bytes = Sample();
        var file = GgufReader.Read(_files.WriteBytes("whole.gguf", bytes));
        var cuts = new long[] { 0, 2, 4, 7, 12, 23, 30, 60, file.DataOffsetBytes / 2, file.DataOffsetBytes - 1, file.DataOffsetBytes + 10, bytes.Length - 9 };

        foreach (var cut in cuts)
        {
            var error = ReadFails(bytes[..(int)cut], $"cut-{cut}.gguf");
            Assert.Contains("byte offset", error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Bad_magic_is_not_a_gguf_file()
    {
        var bytes = Sample();
        bytes[0] = (byte)'X';

        Assert.Contains("not a GGUF file", ReadFails(bytes).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1u, "unsupported GGUF version 1")]
    [InlineData(4u, "unsupported GGUF version 4")]
    [InlineData(0x03000000u, "big-endian")]
    public void Unsupported_versions_are_named(uint version, string expected)
    {
        var bytes = Sample();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), version);

        Assert.Contains(expected, ReadFails(bytes).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_2_files_are_read()
    {
        var bytes = Sample();
        BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(4), 2);

        Assert.Equal(2u, GgufReader.Read(_files.WriteBytes("v2.gguf", bytes)).Version);
    }

    [Fact]
    public void A_huge_string_length_is_refused_before_allocating()
    {
        var error = ReadFails(Header(3, 0, 1, U64(1UL << 62), new byte[32]));

        Assert.Contains("claims 4611686018427387904 bytes at byte offset 24", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ulong.MaxValue, 0UL)]
    [InlineData(0UL, 1UL << 40)]
    public void Absurd_counts_are_capped_by_the_file_size(ulong tensorCount, ulong metadataCount) =>
        Assert.Contains("impossible with", ReadFails(Header(3, tensorCount, metadataCount)).Message, StringComparison.Ordinal);

    [Fact]
    public void An_absurd_array_length_is_refused() =>
        Assert.Contains("the length of 'tokens' is 1152921504606846976",
            ReadFails(Header(3, 0, 1, Str("tokens"), U32((uint)GgufValueType.Array), U32((uint)GgufValueType.String), U64(1UL << 60))).Message,
            StringComparison.Ordinal);

    [Fact]
    public void Unknown_value_types_and_bad_bools_are_refused()
    {
        Assert.Contains("not a GGUF value type", ReadFails(Header(3, 0, 1, Str("k"), U32(13), U64(0))).Message, StringComparison.Ordinal);
        Assert.Contains("bool byte 2", ReadFails(Header(3, 0, 1, Str("k"), U32((uint)GgufValueType.Bool), [2])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_keys_are_refused() =>
        Assert.Contains("duplicate metadata key 'k'",
            ReadFails(Header(3, 0, 2, Str("k"), U32((uint)GgufValueType.UInt8), [1], Str("k"), U32((uint)GgufValueType.UInt8), [2])).Message,
            StringComparison.Ordinal);

    [Fact]
    public void Arrays_nested_too_deep_are_refused()
    {
        var value = GgufValue.Array(ImmutableArray.Create(1));
        for (var i = 0; i < 9; i++)
        {
            value = GgufValue.ArrayOfArrays([value]);
        }

        Assert.Contains("nests arrays deeper", ReadFails(GgufTestFiles.ToBytes([new("deep", value)], [])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_tensor_infos_are_refused()
    {
        byte[] Tensor(uint dimensions, ulong[] shape, uint type, ulong offset) =>
            Header(3, 1, 0, [.. Str("t"), .. U32(dimensions), .. shape.SelectMany(U64), .. U32(type), .. U64(offset), .. new byte[64]]);

        Assert.Contains("5 dimensions", ReadFails(Tensor(5, [1, 1, 1, 1, 1], 0, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("absurd size", ReadFails(Tensor(2, [1UL << 40, 1UL << 40], 0, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("unknown ggml type 4", ReadFails(Tensor(1, [4], 4, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("not a whole number of Q4_0 blocks", ReadFails(Tensor(1, [16], 2, 0)).Message, StringComparison.Ordinal);
        Assert.Contains("not a multiple of the alignment", ReadFails(Tensor(1, [1], 0, 3)).Message, StringComparison.Ordinal);
        Assert.Contains("runs past the end of the file", ReadFails(Tensor(1, [1000], 0, 0)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_file_is_an_input_file_error()
    {
        var path = _files.PathOf("absent.gguf");

        var error = Assert.Throws<InputFileException>(() => GgufReader.Read(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_alignment_is_refused() =>
        Assert.Contains("general.alignment must be a uint32 power of two",
            ReadFails(Header(3, 0, 1, Str("general.alignment"), U32((uint)GgufValueType.UInt32), U32(48))).Message,
            StringComparison.Ordinal);
}
