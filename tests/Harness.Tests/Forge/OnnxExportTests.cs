using System.Collections.Immutable;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Harness.Core.Gguf;
using Harness.Core.Suites;
using Harness.Forge;
using Harness.Forge.Onnx;
using Microsoft.ML.OnnxRuntime;

namespace Harness.Tests.Forge;

/// <summary>The ONNX export's parts without a language model: the protobuf writer, the GGUF checks, the JSON files.</summary>
public sealed class OnnxExportTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("harness-onnx-unit-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Written_model_proto_has_its_header_fields_and_onnx_runtime_runs_it()
    {
        // y = Softmax(Gather(table, ids) * 2, axis = -1): an initializer, int and float attributes, symbolic dimensions.
        var table = OnnxTensor.Floats("table", [3, 2], [0f, 1f, 2f, 2f, -1f, 3f]);
        var two = OnnxTensor.Floats("two", [], [2f]);
        var graph = new OnnxGraph(
            "unit",
            [
                new OnnxNode("gather", "Gather", ["table", "ids"], ["rows"], [OnnxAttr.Of("axis", 0L)]),
                new OnnxNode("scale", "Mul", ["rows", "two"], ["scaled"], []),
                new OnnxNode("softmax", "Softmax", ["scaled"], ["y"], [OnnxAttr.Of("axis", -1L)]),
            ],
            [table, two],
            [new OnnxValueInfo("ids", OnnxDataType.Int64, ["batch", "sequence"])],
            [new OnnxValueInfo("y", OnnxDataType.Float, ["batch", "sequence", 2L])]);
        var model = new OnnxModel(8, 17, "unit test", "1.2.3", graph, [KeyValuePair.Create("source.gguf", "x.gguf")]);
        var bytes = OnnxProtoWriter.ToBytes(model);

        // ModelProto fields 1 (ir_version), 2 (producer_name), 3 (producer_version), 8 (opset_import.version = field 2).
        var fields = TopLevelFields(bytes);
        Assert.Equal(8L, fields[1].Single());
        Assert.Equal("unit test", ((ByteString)fields[2].Single()).ToStringUtf8());
        Assert.Equal("1.2.3", ((ByteString)fields[3].Single()).ToStringUtf8());
        Assert.Equal(17L, TopLevelFields(((ByteString)fields[8].Single()).ToByteArray())[2].Single());

        using var session = new InferenceSession(bytes);
        Assert.Equal([-1, -1, 2], session.OutputMetadata["y"].Dimensions);
        using var ids = OrtValue.CreateTensorValueFromMemory(new long[] { 2, 0 }, [1, 2]);
        using var runOptions = new RunOptions();
        using var results = session.Run(runOptions, ["ids"], [ids], ["y"]);
        var y = results[0].GetTensorDataAsSpan<float>().ToArray();
        // Row 2 is (-1, 3) → scaled (-2, 6); row 0 is (0, 1) → (0, 2).
        Assert.Equal(1 / (1 + MathF.Exp(8)), y[0], 1e-6f);
        Assert.Equal(1 / (1 + MathF.Exp(-2)), y[3], 1e-6f);
        Assert.Equal("x.gguf", session.ModelMetadata.CustomMetadataMap["source.gguf"]);
    }

    [Fact]
    public void Q8_0_and_Q4_0_blocks_dequantize_as_ggml_does()
    {
        // Q8_0: F16 scale 0.5, then 32 signed bytes.
        var q8 = new byte[34];
        BitConverter.TryWriteBytes(q8.AsSpan(0, 2), (Half)0.5f);
        for (var i = 0; i < 32; i++)
        {
            q8[2 + i] = unchecked((byte)(sbyte)(i - 16));
        }

        Assert.Equal(Enumerable.Range(0, 32).Select(i => (i - 16) * 0.5f), LlamaGguf.DequantizeQ8_0(q8, 32));

        // Q4_0: F16 scale 2; byte j holds element j in its low nibble and element j + 16 in its high one, both offset by 8.
        var q4 = new byte[18];
        BitConverter.TryWriteBytes(q4.AsSpan(0, 2), (Half)2f);
        for (var j = 0; j < 16; j++)
        {
            q4[2 + j] = (byte)(j | ((15 - j) << 4));
        }

        var values = LlamaGguf.DequantizeQ4_0(q4, 32);
        Assert.Equal(Enumerable.Range(0, 16).Select(j => (j - 8) * 2f), values[..16]);
        Assert.Equal(Enumerable.Range(0, 16).Select(j => (15 - j - 8) * 2f), values[16..]);
    }

    [Fact]
    public void Gguf_shape_vocabulary_and_refusals()
    {
        var path = WriteTinyLlama("ok.gguf", metadata => metadata, tensors => tensors);
        var gguf = LlamaGguf.Read(path);
        Assert.Equal(new LlamaShape(16, 32, 1, 12, 2, 1, 16, 1e-5f, 10000f, 3 + 256 + 3, TiedEmbeddings: false), gguf.Shape);
        Assert.Equal((1, 2, 0, (int?)null, true, false, false),
            (gguf.Vocabulary.BosId, gguf.Vocabulary.EosId, gguf.Vocabulary.UnknownId, gguf.Vocabulary.PaddingId, gguf.Vocabulary.AddBos, gguf.Vocabulary.AddEos, gguf.Vocabulary.AddSpacePrefix));

        Refused("only 'llama' models can be exported", m => [.. m.Select(e => e.Key == "general.architecture" ? new GgufMetadataEntry(e.Key, GgufValue.String("gpt2")) : e)], t => t);
        Refused("rope scaling 'yarn' is not supported", m => [.. m, new GgufMetadataEntry("llama.rope.scaling.type", GgufValue.String("yarn"))], t => t);
        Refused("tensors the exported graph would not use: blk.0.attn_q.bias", m => m, t => [.. t, GgufTensor.FromSingles("blk.0.attn_q.bias", [32], new float[32], GgmlType.F32)]);
        Refused("missing tensors: blk.0.ffn_up.weight", m => m, t => [.. t.Where(x => x.Name != "blk.0.ffn_up.weight")]);
        Refused("is Q4_1; F32, F16, BF16, Q8_0 and Q4_0 can be exported", m => m,
            t => [.. t.Select(x => x.Name == "blk.0.ffn_up.weight" ? new GgufTensor(x.Name, x.Dimensions, GgmlType.Q4_1, [.. new byte[12 * 20]]) : x)]);

        void Refused(string reason, Func<ImmutableArray<GgufMetadataEntry>, ImmutableArray<GgufMetadataEntry>> metadata, Func<ImmutableArray<GgufTensor>, ImmutableArray<GgufTensor>> tensors)
        {
            var bad = WriteTinyLlama("bad.gguf", metadata, tensors);
            var error = Assert.Throws<InputFileException>(() => LlamaGguf.Read(bad));
            Assert.Contains("cannot export to ONNX: ", error.Message, StringComparison.Ordinal);
            Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Genai_config_names_the_graph_and_greedy_search_over_the_context()
    {
        var shape = new LlamaShape(128, 32, 2, 96, 4, 2, 8, 1e-5f, 10000f, 354, false);
        var vocabulary = new SpmVocabulary([], BosId: 1, EosId: 2, UnknownId: 0, PaddingId: null, AddBos: true, AddEos: false, AddSpacePrefix: false);
        var config = JsonNode.Parse(OnnxDecoderExporter.GenAiConfig(shape, vocabulary))!;
        var model = config["model"]!;
        var decoder = model["decoder"]!;
        Assert.Equal("llama", (string?)model["type"]);
        Assert.Equal((1, 2, 2, 354, 128), ((int)model["bos_token_id"]!, (int)model["eos_token_id"]!, (int)model["pad_token_id"]!, (int)model["vocab_size"]!, (int)model["context_length"]!));
        Assert.Equal(("model.onnx", 8, 32, 4, 2, 2), ((string?)decoder["filename"], (int)decoder["head_size"]!, (int)decoder["hidden_size"]!,
            (int)decoder["num_attention_heads"]!, (int)decoder["num_key_value_heads"]!, (int)decoder["num_hidden_layers"]!));
        Assert.Equal("past_key_values.%d.key", (string?)decoder["inputs"]!["past_key_names"]);
        Assert.Equal("present.%d.value", (string?)decoder["outputs"]!["present_value_names"]);
        Assert.Equal((128, false, false), ((int)config["search"]!["max_length"]!, (bool)config["search"]!["past_present_share_buffer"]!, (bool)config["search"]!["do_sample"]!));
    }

    [Fact]
    public void Tokenizer_json_is_spm_bpe_with_byte_fallback_and_a_space_prefix_only_when_the_gguf_asks()
    {
        var characters = CharVocabulary.Create("ab ");
        var vocabulary = new SpmVocabulary(characters.Tokens, 1, 2, 0, null, AddBos: true, AddEos: false, AddSpacePrefix: false);
        var json = JsonNode.Parse(LlamaTokenizerFiles.TokenizerJson(vocabulary))!;
        Assert.Equal("BPE", (string?)json["model"]!["type"]);
        Assert.True((bool)json["model"]!["byte_fallback"]!);
        Assert.Empty(json["model"]!["merges"]!.AsArray());
        Assert.Equal(259, (int)json["model"]!["vocab"]!["▁"]!);
        Assert.Equal(13, (int)json["model"]!["vocab"]!["<0x0A>"]!);
        Assert.Equal(["<unk>", "<s>", "</s>"], json["added_tokens"]!.AsArray().Select(t => (string?)t!["content"]));
        // onnxruntime-extensions prepends U+2581 exactly when the decoder has a Strip step: none here.
        Assert.Equal(["Replace", "ByteFallback", "Fuse"], json["decoder"]!["decoders"]!.AsArray().Select(d => (string?)d!["type"]));
        Assert.Equal(["Replace"], json["normalizer"]!["normalizers"]!.AsArray().Select(d => (string?)d!["type"]));

        var prefixed = JsonNode.Parse(LlamaTokenizerFiles.TokenizerJson(vocabulary with { AddSpacePrefix = true }))!;
        Assert.Equal(["Replace", "ByteFallback", "Fuse", "Strip"], prefixed["decoder"]!["decoders"]!.AsArray().Select(d => (string?)d!["type"]));
        Assert.Equal(["Prepend", "Replace"], prefixed["normalizer"]!["normalizers"]!.AsArray().Select(d => (string?)d!["type"]));

        var config = JsonNode.Parse(LlamaTokenizerFiles.TokenizerConfigJson(vocabulary, 64))!;
        Assert.Equal(("LlamaTokenizer", true, "<s>", "</s>"), ((string?)config["tokenizer_class"], (bool)config["add_bos_token"]!, (string?)config["bos_token"], (string?)config["eos_token"]));
    }

    [Fact]
    public void Merges_come_from_splits_into_known_pieces_best_score_first()
    {
        ImmutableArray<VocabularyToken> tokens =
        [
            new("<unk>", 0, LlamaTokenType.Unknown), new("<s>", 0, LlamaTokenType.Control), new("</s>", 0, LlamaTokenType.Control),
            new("▁", -1, LlamaTokenType.Normal), new("t", -2, LlamaTokenType.Normal), new("h", -3, LlamaTokenType.Normal), new("e", -4, LlamaTokenType.Normal),
            new("he", -0.5f, LlamaTokenType.Normal), new("th", -0.2f, LlamaTokenType.Normal), new("the", -0.1f, LlamaTokenType.Normal),
            new("▁the", -0.3f, LlamaTokenType.Normal), new("<0x41>", 0, LlamaTokenType.Byte),
        ];

        // "the" (-0.1) splits as t+he and th+e, in that order; then th (-0.2), ▁the (-0.3: only ▁+the), he (-0.5).
        Assert.Equal(["t he", "th e", "t h", "▁ the", "h e"], LlamaTokenizerFiles.Merges(tokens).Select(m => m.Left + " " + m.Right));
    }

    private string WriteTinyLlama(
        string name,
        Func<ImmutableArray<GgufMetadataEntry>, ImmutableArray<GgufMetadataEntry>> metadata,
        Func<ImmutableArray<GgufTensor>, ImmutableArray<GgufTensor>> tensors)
    {
        // Rows of 32 so that a tensor can be given a 32-element block type.
        var shape = new LlamaHyperparameters(16, 32, 1, 12, 2, 1, 1e-5f, 10000f);
        var vocabulary = CharVocabulary.Create("ab ");
        ImmutableArray<float> Zeros(int count) => [.. new float[count]];
        var block = new LlamaBlockWeights(Zeros(32), Zeros(1024), Zeros(512), Zeros(512), Zeros(1024), Zeros(32), Zeros(384), Zeros(384), Zeros(384));
        var weights = new LlamaModelWeights(Zeros(vocabulary.Count * 32), [block], Zeros(32), Zeros(vocabulary.Count * 32));
        var (m, t) = LlamaGgufWriter.Build("tiny", shape, vocabulary, weights, GgmlType.F32, []);
        var path = Path.Combine(_folder, name);
        GgufWriter.WriteFile(path, metadata(m), tensors(t));
        return path;
    }

    /// <summary>The varint and length-delimited fields of one protobuf message, by field number.</summary>
    private static Dictionary<int, List<object>> TopLevelFields(byte[] message)
    {
        var fields = new Dictionary<int, List<object>>();
        var input = new CodedInputStream(message);
        for (var tag = input.ReadTag(); tag != 0; tag = input.ReadTag())
        {
            object value = WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => input.ReadInt64(),
                WireFormat.WireType.LengthDelimited => input.ReadBytes(),
                var other => throw new InvalidDataException($"unexpected wire type {other}"),
            };
            var field = WireFormat.GetTagFieldNumber(tag);
            if (!fields.TryGetValue(field, out var list))
            {
                fields[field] = list = [];
            }

            list.Add(value);
        }

        return fields;
    }
}
