using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Gguf;

namespace Harness.Tests.Gguf;

public sealed class GgufRoundTripTests : IDisposable
{
    private readonly GgufTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    private static ImmutableArray<GgufMetadataEntry> EveryValueType() =>
    [
        new("u8", GgufValue.UInt8(250)),
        new("i8", GgufValue.Int8(-120)),
        new("u16", GgufValue.UInt16(65_000)),
        new("i16", GgufValue.Int16(-32_000)),
        new("u32", GgufValue.UInt32(4_000_000_000)),
        new("i32", GgufValue.Int32(-2_000_000_000)),
        new("f32", GgufValue.Float32(1.5f)),
        new("bool.true", GgufValue.Bool(true)),
        new("bool.false", GgufValue.Bool(false)),
        new("str", GgufValue.String("héllo ▁ wörld \n {{ }}")),
        new("str.empty", GgufValue.String("")),
        new("u64", GgufValue.UInt64(ulong.MaxValue)),
        new("i64", GgufValue.Int64(long.MinValue)),
        new("f64", GgufValue.Float64(Math.PI)),
        new("arr.u8", GgufValue.Array(ImmutableArray.Create<byte>(0, 1, 255))),
        new("arr.i8", GgufValue.Array(ImmutableArray.Create<sbyte>(-128, 0, 127))),
        new("arr.u16", GgufValue.Array(ImmutableArray.Create<ushort>(1, 65_535))),
        new("arr.i16", GgufValue.Array(ImmutableArray.Create<short>(-1, 2))),
        new("arr.u32", GgufValue.Array(ImmutableArray.Create<uint>(7, 8, 9))),
        new("arr.i32", GgufValue.Array(ImmutableArray.Create(-7, 8))),
        new("arr.f32", GgufValue.Array(ImmutableArray.Create(0.25f, -1e-30f, float.MaxValue))),
        new("arr.bool", GgufValue.Array(ImmutableArray.Create(true, false, true))),
        new("arr.str", GgufValue.Array(ImmutableArray.Create("<unk>", "▁", "", "日本"))),
        new("arr.u64", GgufValue.Array(ImmutableArray.Create<ulong>(ulong.MaxValue))),
        new("arr.i64", GgufValue.Array(ImmutableArray.Create(long.MinValue, 0L))),
        new("arr.f64", GgufValue.Array(ImmutableArray.Create(1e300, -0.5))),
        new("arr.empty", GgufValue.Array(ImmutableArray<int>.Empty)),
        new("arr.nested", GgufValue.ArrayOfArrays(
        [
            GgufValue.Array(ImmutableArray.Create(1, 2)),
            GgufValue.Array(ImmutableArray.Create("x")),
            GgufValue.ArrayOfArrays([GgufValue.Array(ImmutableArray.Create(0.5))]),
        ])),
    ];

    [Fact]
    public void Every_metadata_type_survives_a_write_and_read()
    {
        var metadata = EveryValueType();
        var path = _files.Write("all.gguf", metadata, []);

        var file = GgufReader.Read(path);

        Assert.Equal(3u, file.Version);
        Assert.Equal(metadata.Select(e => e.Key), file.Metadata.Select(e => e.Key));
        foreach (var (expected, actual) in metadata.Zip(file.Metadata))
        {
            Assert.Equal(expected.Value, actual.Value);
        }

        Assert.Equal("日本", file.Find("arr.str")!.AsArray<string>()[3]);
        Assert.Equal(-2_000_000_000L, file.GetInteger("i32"));
        Assert.Equal(1.5, file.GetNumber("f32"));
        Assert.True(file.GetBool("bool.true"));
        Assert.Null(file.Find("missing"));
        Assert.Empty(file.Tensors);
    }

    [Fact]
    public void Values_of_different_types_or_content_are_not_equal()
    {
        Assert.NotEqual(GgufValue.UInt32(1), GgufValue.Int32(1));
        Assert.NotEqual(GgufValue.Array(ImmutableArray.Create(1, 2)), GgufValue.Array(ImmutableArray.Create(1, 3)));
        Assert.Equal(GgufValue.Array(ImmutableArray.Create("a")), GgufValue.Array(ImmutableArray.Create("a")));
        Assert.Throws<InvalidOperationException>(() => GgufValue.String("x").AsInt64());
        Assert.Throws<InvalidOperationException>(() => GgufValue.Array(ImmutableArray.Create(1)).AsArray<uint>());
    }

    [Fact]
    public void Tensors_round_trip_with_aligned_offsets()
    {
        var (metadata, tensors) = GgufTestFiles.SampleModel();
        var odd = GgufTensor.FromSingles("odd.bias", [3], [1f, -2f, 3.5f], GgmlType.F32);
        var path = _files.Write("tensors.gguf", metadata, [.. tensors, odd, .. tensors.Select(t => t with { Name = t.Name + ".2" })]);

        var file = GgufReader.Read(path);

        Assert.Equal(32, file.Alignment);
        Assert.Equal(0, file.DataOffsetBytes % 32);
        Assert.All(file.Tensors, t => Assert.Equal(0, t.OffsetBytes % 32));
        Assert.Equal(new FileInfo(path).Length, file.FileSizeBytes);
        var embedding = file.Tensors.Single(t => t.Name == "token_embd.weight");
        Assert.Equal([4L, 3L], embedding.Dimensions.ToArray());
        Assert.Equal(48, embedding.SizeBytes);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => (float)i), GgufReader.ReadTensorSingles(file, embedding));
        var output = file.Tensors.Single(t => t.Name == "output.weight.2");
        Assert.Equal(GgmlType.F16, output.Type);
        Assert.Equal(24, output.SizeBytes);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i / 4f), GgufReader.ReadTensorSingles(file, output));
        Assert.Equal(new[] { 1f, -2f, 3.5f }, GgufReader.ReadTensorSingles(file, file.Tensors.Single(t => t.Name == "odd.bias")).ToArray());
        Assert.Equal(tensors[0].Data.ToArray(), GgufReader.ReadTensorBytes(file, embedding).ToArray());
    }

    [Fact]
    public void A_custom_alignment_is_honoured_by_writer_and_reader()
    {
        var (metadata, tensors) = GgufTestFiles.SampleModel();
        var path = _files.Write("aligned.gguf", [.. metadata, new("general.alignment", GgufValue.UInt32(256))], tensors);

        var file = GgufReader.Read(path);

        Assert.Equal(256, file.Alignment);
        Assert.Equal(0, file.DataOffsetBytes % 256);
        Assert.Equal(256, file.Tensors[1].OffsetBytes);
        Assert.Equal(Enumerable.Range(0, 12).Select(i => i / 4f), GgufReader.ReadTensorSingles(file, file.Tensors[1]));
    }

    [Fact]
    public void The_same_input_gives_the_same_bytes()
    {
        var (metadata, tensors) = GgufTestFiles.SampleModel();

        var first = GgufTestFiles.ToBytes([.. metadata, .. EveryValueType()], tensors);
        var second = GgufTestFiles.ToBytes([.. metadata, .. EveryValueType()], tensors);

        Assert.Equal(first, second);
        Assert.Equal("GGUF"u8.ToArray(), first[..4]);
    }

    [Fact]
    public void Writer_rejects_inputs_llama_cpp_would_refuse()
    {
        var (metadata, tensors) = GgufTestFiles.SampleModel();
        using var sink = new MemoryStream();

        Assert.Throws<ArgumentException>(() => GgufWriter.Write(sink, [.. metadata, metadata[0]], tensors));
        Assert.Throws<ArgumentException>(() => GgufWriter.Write(sink, metadata, [tensors[0], tensors[0]]));
        Assert.Throws<ArgumentException>(() => GgufWriter.Write(sink, metadata, [tensors[0] with { Dimensions = [5, 3] }]));
        Assert.Throws<ArgumentException>(() => GgufWriter.Write(sink, metadata, [tensors[0] with { Name = new string('x', 64) }]));
        Assert.Throws<ArgumentException>(() => GgufWriter.Write(sink, [new("general.alignment", GgufValue.UInt32(48))], tensors));
    }

    [Fact]
    public void Value_rendering_is_invariant_under_a_decimal_comma_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");

            Assert.Equal("1.5", GgufValue.Float32(1.5f).ToString());
            Assert.Equal("0.001", GgufValue.Float64(0.001).ToString());
            Assert.Equal("true", GgufValue.Bool(true).ToString());
            Assert.Equal("[string; 2]", GgufValue.Array(ImmutableArray.Create("a", "b")).ToString());
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Theory]
    [InlineData(GgmlType.F32, 256, 1024)]
    [InlineData(GgmlType.F16, 256, 512)]
    [InlineData(GgmlType.Q4_0, 256, 144)]
    [InlineData(GgmlType.Q8_0, 256, 272)]
    [InlineData(GgmlType.Q4_K, 512, 288)]
    [InlineData(GgmlType.Q6_K, 256, 210)]
    [InlineData(GgmlType.IQ4_XS, 256, 136)]
    [InlineData(GgmlType.MXFP4, 64, 34)]
    public void Type_sizes_match_ggml(GgmlType type, long elements, long bytes) =>
        Assert.Equal(bytes, GgmlTypeInfo.SizeBytes(type, elements));

    [Fact]
    public void Retired_type_ids_are_not_known() =>
        Assert.All(new uint[] { 4, 5, 31, 36, 43, 9999 }, id => Assert.False(GgmlTypeInfo.IsKnown(id)));
}
