using System.Buffers.Binary;
using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Gguf;
using Harness.Core.Suites;

namespace Harness.Forge.Onnx;

/// <summary>The shape of a llama-architecture GGUF as llama.cpp reads it (<c>llama.*</c> keys, with llama.cpp's defaults).</summary>
/// <param name="HeadDimension"><c>llama.attention.key_length</c>, by default the embedding length over the head count.</param>
/// <param name="TiedEmbeddings">No <c>output.weight</c>: llama.cpp then uses <c>token_embd.weight</c> as the output matrix.</param>
public sealed record LlamaShape(
    int ContextLength,
    int EmbeddingLength,
    int BlockCount,
    int FeedForwardLength,
    int HeadCount,
    int HeadCountKv,
    int HeadDimension,
    float RmsNormEpsilon,
    float RopeFreqBase,
    int VocabularySize,
    bool TiedEmbeddings);

/// <summary>The SentencePiece (<c>tokenizer.ggml.model = llama</c>) vocabulary of a GGUF.</summary>
/// <param name="PaddingId"><c>tokenizer.ggml.padding_token_id</c>, or null when the file names none.</param>
public sealed record SpmVocabulary(
    ImmutableArray<VocabularyToken> Tokens,
    int BosId,
    int EosId,
    int UnknownId,
    int? PaddingId,
    bool AddBos,
    bool AddEos,
    bool AddSpacePrefix);

/// <summary>
/// Reads what the ONNX export needs from a llama GGUF: its shape, its vocabulary and each tensor as floats
/// (F32, F16 and BF16 exactly; Q8_0 and Q4_0 dequantized exactly as ggml dequantizes them). Anything the exported
/// graph would compute differently from llama.cpp (another architecture, rope scaling, extra tensors such as biases,
/// other quantizations, a non-SPM tokenizer) is refused with the reason.
/// </summary>
public sealed class LlamaGguf
{
    private readonly GgufFile _file;
    private readonly ImmutableDictionary<string, GgufTensorInfo> _tensors;

    private LlamaGguf(GgufFile file, LlamaShape shape, SpmVocabulary vocabulary)
    {
        _file = file;
        _tensors = file.Tensors.ToImmutableDictionary(t => t.Name, StringComparer.Ordinal);
        Shape = shape;
        Vocabulary = vocabulary;
    }

    public string FilePath => _file.FilePath;

    public string? Name => _file.GetString("general.name");

    public LlamaShape Shape { get; }

    public SpmVocabulary Vocabulary { get; }

    /// <summary>Tensor types, with how many tensors of each, for provenance.</summary>
    public string TensorTypes => QuantizedTensors.Histogram(_file);

    /// <exception cref="InputFileException">Not a GGUF, or a model the exporter cannot reproduce exactly (the message says why).</exception>
    public static LlamaGguf Read(string path)
    {
        var file = GgufReader.Read(path);
        var architecture = file.GetString("general.architecture");
        if (architecture != "llama")
        {
            throw Refuse(file, $"general.architecture is '{architecture ?? "(missing)"}'; only 'llama' models can be exported to ONNX");
        }

        if (file.GetInteger("llama.expert_count") is > 0)
        {
            throw Refuse(file, "mixture-of-experts llama models are not supported");
        }

        var scaling = file.GetString("llama.rope.scaling.type");
        if (scaling is not (null or "none") || file.GetNumber("llama.rope.scale_linear") is { } linear && linear != 1)
        {
            throw Refuse(file, $"rope scaling '{scaling ?? "linear"}' is not supported; only plain rope is exported");
        }

        var tokenizer = file.GetString("tokenizer.ggml.model");
        if (tokenizer != "llama")
        {
            throw Refuse(file, $"tokenizer.ggml.model is '{tokenizer ?? "(missing)"}'; only SentencePiece ('llama') vocabularies are exported");
        }

        var tokenEmbedding = file.Tensors.FirstOrDefault(t => t.Name == "token_embd.weight")
            ?? throw Refuse(file, "there is no token_embd.weight tensor");
        var embedding = Int(file, "llama.embedding_length");
        var headCount = Int(file, "llama.attention.head_count");
        var headDimension = (int)(file.GetInteger("llama.attention.key_length") ?? (headCount > 0 ? embedding / headCount : 0));
        if ((file.GetInteger("llama.attention.value_length") ?? headDimension) != headDimension)
        {
            throw Refuse(file, "key and value head sizes differ (llama.attention.key_length vs value_length)");
        }

        if ((file.GetInteger("llama.rope.dimension_count") ?? headDimension) != headDimension)
        {
            throw Refuse(file, "llama.rope.dimension_count differs from the head size: partial rope is not supported");
        }

        var tokens = Tokens(file);
        var shape = new LlamaShape(
            ContextLength: Int(file, "llama.context_length"),
            EmbeddingLength: embedding,
            BlockCount: Int(file, "llama.block_count"),
            FeedForwardLength: Int(file, "llama.feed_forward_length"),
            HeadCount: headCount,
            HeadCountKv: (int)(file.GetInteger("llama.attention.head_count_kv") ?? headCount),
            HeadDimension: headDimension,
            RmsNormEpsilon: (float)(file.GetNumber("llama.attention.layer_norm_rms_epsilon") ?? throw Refuse(file, "llama.attention.layer_norm_rms_epsilon is missing")),
            RopeFreqBase: (float)(file.GetNumber("llama.rope.freq_base") ?? 10000.0),
            VocabularySize: tokens.Length,
            TiedEmbeddings: file.Tensors.All(t => t.Name != "output.weight"));
        if (shape.HeadCount <= 0 || shape.HeadCountKv <= 0 || shape.HeadCount % shape.HeadCountKv != 0 || shape.HeadDimension <= 0 || shape.HeadDimension % 2 != 0)
        {
            throw Refuse(file, $"unusable head layout: {shape.HeadCount} heads, {shape.HeadCountKv} key/value heads, head size {shape.HeadDimension}");
        }

        if (tokenEmbedding.Dimensions is not [var e, var v] || e != embedding || v != tokens.Length)
        {
            throw Refuse(file, $"token_embd.weight is [{string.Join(", ", tokenEmbedding.Dimensions)}], expected [{embedding}, {tokens.Length}]");
        }

        var vocabulary = new SpmVocabulary(
            tokens,
            BosId: TokenId(file, "tokenizer.ggml.bos_token_id", 1, tokens.Length),
            EosId: TokenId(file, "tokenizer.ggml.eos_token_id", 2, tokens.Length),
            UnknownId: TokenId(file, "tokenizer.ggml.unknown_token_id", 0, tokens.Length),
            PaddingId: file.GetInteger("tokenizer.ggml.padding_token_id") is { } pad && pad >= 0 && pad < tokens.Length ? (int)pad : null,
            AddBos: file.GetBool("tokenizer.ggml.add_bos_token") ?? true,
            AddEos: file.GetBool("tokenizer.ggml.add_eos_token") ?? false,
            // llama.cpp's default for SPM vocabularies is to prepend a space.
            AddSpacePrefix: file.GetBool("tokenizer.ggml.add_space_prefix") ?? true);

        var model = new LlamaGguf(file, shape, vocabulary);
        model.CheckTensors();
        return model;
    }

    /// <summary>
    /// Tensor <paramref name="name"/> as a row-major float matrix [rows][columns] (ggml's [columns, rows]), or a vector.
    /// </summary>
    public float[] Read(string name, long rows, long columns)
    {
        var tensor = _tensors.GetValueOrDefault(name) ?? throw Refuse(_file, $"tensor '{name}' is missing");
        long[] expected = rows == 1 ? [columns] : [columns, rows];
        if (!tensor.Dimensions.SequenceEqual(expected))
        {
            throw Refuse(_file, $"tensor '{name}' is [{string.Join(", ", tensor.Dimensions)}], expected [{string.Join(", ", expected)}]");
        }

        return tensor.Type switch
        {
            GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 => [.. GgufReader.ReadTensorSingles(_file, tensor)],
            GgmlType.Q8_0 => DequantizeQ8_0(GgufReader.ReadTensorBytes(_file, tensor).AsSpan(), tensor.ElementCount),
            GgmlType.Q4_0 => DequantizeQ4_0(GgufReader.ReadTensorBytes(_file, tensor).AsSpan(), tensor.ElementCount),
            _ => throw Refuse(_file, $"tensor '{name}' is {tensor.Type}; F32, F16, BF16, Q8_0 and Q4_0 can be exported"),
        };
    }

    /// <summary>ggml's block_q8_0: an F16 scale, then 32 signed bytes; value = scale * q.</summary>
    internal static float[] DequantizeQ8_0(ReadOnlySpan<byte> bytes, long count)
    {
        var values = new float[count];
        for (long block = 0; block < count / 32; block++)
        {
            var data = bytes.Slice(checked((int)(block * 34)), 34);
            var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(data);
            for (var i = 0; i < 32; i++)
            {
                values[(block * 32) + i] = scale * (sbyte)data[2 + i];
            }
        }

        return values;
    }

    /// <summary>ggml's block_q4_0: an F16 scale, then 16 bytes; element j takes byte j's low nibble, element j + 16 its high nibble, each minus 8.</summary>
    internal static float[] DequantizeQ4_0(ReadOnlySpan<byte> bytes, long count)
    {
        var values = new float[count];
        for (long block = 0; block < count / 32; block++)
        {
            var data = bytes.Slice(checked((int)(block * 18)), 18);
            var scale = (float)BinaryPrimitives.ReadHalfLittleEndian(data);
            for (var j = 0; j < 16; j++)
            {
                var q = data[2 + j];
                values[(block * 32) + j] = ((q & 0x0F) - 8) * scale;
                values[(block * 32) + j + 16] = ((q >> 4) - 8) * scale;
            }
        }

        return values;
    }

    // Every tensor must be one the graph uses: an unexpected one (a bias, rope_freqs for llama 3.1 scaling) would be
    // silently ignored and the logits would differ from llama.cpp's.
    private void CheckTensors()
    {
        var expected = new HashSet<string>(StringComparer.Ordinal) { "token_embd.weight", "output_norm.weight" };
        if (!Shape.TiedEmbeddings)
        {
            expected.Add("output.weight");
        }

        for (var b = 0; b < Shape.BlockCount; b++)
        {
            foreach (var part in new[] { "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_up", "ffn_down" })
            {
                expected.Add(string.Create(CultureInfo.InvariantCulture, $"blk.{b}.{part}.weight"));
            }
        }

        var unexpected = _tensors.Keys.Where(n => !expected.Contains(n)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
        {
            throw Refuse(_file, $"tensors the exported graph would not use: {string.Join(", ", unexpected.Take(5))}{(unexpected.Count > 5 ? ", ..." : "")}");
        }

        var missing = expected.Where(n => !_tensors.ContainsKey(n)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            throw Refuse(_file, $"missing tensors: {string.Join(", ", missing.Take(5))}{(missing.Count > 5 ? ", ..." : "")}");
        }

        var unsupported = _tensors.Values.Where(t => t.Type is not (GgmlType.F32 or GgmlType.F16 or GgmlType.BF16 or GgmlType.Q8_0 or GgmlType.Q4_0)).ToList();
        if (unsupported.Count > 0)
        {
            throw Refuse(_file, $"tensor '{unsupported[0].Name}' is {unsupported[0].Type}; F32, F16, BF16, Q8_0 and Q4_0 can be exported (convert the model with 'harness quantize' first)");
        }
    }

    private static ImmutableArray<VocabularyToken> Tokens(GgufFile file)
    {
        var texts = Array<string>(file, "tokenizer.ggml.tokens") ?? throw Refuse(file, "tokenizer.ggml.tokens is missing");
        var scores = Array<float>(file, "tokenizer.ggml.scores");
        var types = Array<int>(file, "tokenizer.ggml.token_type");
        if (scores is { } s && s.Length != texts.Length || types is { } t && t.Length != texts.Length)
        {
            throw Refuse(file, "tokenizer.ggml.scores or token_type has a different length from tokenizer.ggml.tokens");
        }

        return [.. texts.Select((text, i) => new VocabularyToken(text, scores?[i] ?? 0f, types is { } ty ? (LlamaTokenType)ty[i] : LlamaTokenType.Normal))];
    }

    private static ImmutableArray<T>? Array<T>(GgufFile file, string key)
    {
        var value = file.Find(key);
        if (value is null)
        {
            return null;
        }

        try
        {
            return value.AsArray<T>();
        }
        catch (InvalidOperationException)
        {
            throw Refuse(file, $"{key} is not an array of {typeof(T).Name}");
        }
    }

    private static int Int(GgufFile file, string key) =>
        file.GetInteger(key) is { } value and > 0 and <= int.MaxValue ? (int)value : throw Refuse(file, $"{key} is missing or not a positive integer");

    private static int TokenId(GgufFile file, string key, int fallback, int vocabularySize)
    {
        var id = file.GetInteger(key) ?? fallback;
        return id >= 0 && id < vocabularySize ? (int)id : throw Refuse(file, $"{key} = {id} is outside the vocabulary of {vocabularySize}");
    }

    private static InputFileException Refuse(GgufFile file, string reason) => new(file.FilePath, null, $"cannot export to ONNX: {reason}");
}
