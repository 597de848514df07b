using System.Collections.Immutable;
using System.Globalization;

namespace Harness.Forge.Onnx;

/// <summary>
/// Builds the ONNX decoder graph of a llama GGUF with standard opset-17 operators only, computing what llama.cpp's
/// llama graph computes (llama.cpp c0c7e14, <c>llm_build_llama</c>):
/// <list type="bullet">
/// <item>token embedding lookup; per block RMSNorm (<c>x / sqrt(mean(x²) + eps) * w</c>), Q/K/V projections;</item>
/// <item>rope in llama.cpp's NORM mode (rope type of the llama architecture): it rotates <em>adjacent</em> pairs
/// (x[2i], x[2i+1]) by <c>pos * freq_base^(-2i/head_size)</c>. GGUF converters permute HF's Q/K rows so that this
/// matches HF's rotate-half, so the GGUF's rows are used as they are (no NeoX halves);</item>
/// <item>the new keys and values appended to the past ones (<c>present.*</c>), grouped-query heads shared by
/// consecutive query heads (query head h reads key/value head h / (heads / kv_heads), as ggml broadcasts);</item>
/// <item>softmax(Q Kᵀ / sqrt(head_size) + causal and padding mask) V, output projection, residual;</item>
/// <item>RMSNorm, SwiGLU feed-forward (<c>down(silu(gate x) * up x)</c>), residual; final RMSNorm and output matrix
/// (<c>token_embd</c> when the embeddings are tied).</item>
/// </list>
/// The inputs and outputs follow ONNX Runtime GenAI's decoder conventions (its default names), so the same file runs
/// under plain ONNX Runtime with a hand-written loop and under GenAI's generator.
/// </summary>
public static class LlamaOnnxGraph
{
    /// <summary>ONNX IR version 8 is the one that goes with opset 17.</summary>
    public const long IrVersion = 8;

    public const long OpsetVersion = 17;

    public const string InputIds = "input_ids", AttentionMask = "attention_mask", PositionIds = "position_ids", Logits = "logits";

    public const string PastKeyTemplate = "past_key_values.%d.key", PastValueTemplate = "past_key_values.%d.value";

    public const string PresentKeyTemplate = "present.%d.key", PresentValueTemplate = "present.%d.value";

    /// <summary>Replaces the <c>%d</c> of a GenAI name template with the block index.</summary>
    public static string Name(string template, int block) => template.Replace("%d", block.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);

    public static OnnxModel Build(LlamaGguf gguf, string producerVersion, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(gguf);
        var s = gguf.Shape;
        var g = new OnnxGraphBuilder();
        long embd = s.EmbeddingLength, vocab = s.VocabularySize, ff = s.FeedForwardLength, d = s.HeadDimension;
        long heads = s.HeadCount, kvHeads = s.HeadCountKv, groups = heads / kvHeads;

        var inputs = ImmutableArray.CreateBuilder<OnnxValueInfo>();
        var outputs = ImmutableArray.CreateBuilder<OnnxValueInfo>();
        inputs.Add(Info(InputIds, OnnxDataType.Int64, "batch_size", "sequence_length"));
        inputs.Add(Info(AttentionMask, OnnxDataType.Int64, "batch_size", "total_sequence_length"));
        inputs.Add(Info(PositionIds, OnnxDataType.Int64, "batch_size", "sequence_length"));
        for (var b = 0; b < s.BlockCount; b++)
        {
            inputs.Add(Info(Name(PastKeyTemplate, b), OnnxDataType.Float, "batch_size", kvHeads, "past_sequence_length", d));
            inputs.Add(Info(Name(PastValueTemplate, b), OnnxDataType.Float, "batch_size", kvHeads, "past_sequence_length", d));
        }

        outputs.Add(Info(Logits, OnnxDataType.Float, "batch_size", "sequence_length", vocab));
        for (var b = 0; b < s.BlockCount; b++)
        {
            outputs.Add(Info(Name(PresentKeyTemplate, b), OnnxDataType.Float, "batch_size", kvHeads, "total_sequence_length", d));
            outputs.Add(Info(Name(PresentValueTemplate, b), OnnxDataType.Float, "batch_size", kvHeads, "total_sequence_length", d));
        }

        foreach (var input in inputs)
        {
            g.Reserve(input.Name);
        }

        var tokenEmbedding = gguf.Read("token_embd.weight", vocab, embd);
        var x = g.Op("Gather", "embed", [g.Floats("token_embd.weight", tokenEmbedding, vocab, embd), InputIds], OnnxAttr.Of("axis", 0L));

        var (cos, sin) = RopeTables(g, s);
        var allowed = AttentionAllowed(g);
        var eps = g.Scalar("rms_norm_eps", s.RmsNormEpsilon);
        var scale = g.Scalar("kq_scale", 1f / MathF.Sqrt(d));
        var masked = g.Scalar("masked_score", float.MinValue);
        var splitHalves = g.Int64s("split_pairs", 1, 1);
        var qPairs = g.Int64s("q_pairs_shape", 0, 0, heads, d / 2, 2);
        var kPairs = g.Int64s("k_pairs_shape", 0, 0, kvHeads, d / 2, 2);
        var qHeads = g.Int64s("q_heads_shape", 0, 0, heads, d);
        var kvHeadsShape = g.Int64s("kv_heads_shape", 0, 0, kvHeads, d);
        var mergeHeads = g.Int64s("merge_heads_shape", 0, 0, heads * d);
        var groupExpand = g.Int64s("group_expand_shape", 1, 1, groups, 1, 1);
        var groupMerge = g.Int64s("group_merge_shape", 0, heads, -1, d);
        var axisTwo = g.Int64s("axes_group", 2);

        for (var b = 0; b < s.BlockCount; b++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var p = string.Create(CultureInfo.InvariantCulture, $"blk.{b}.");
            var h = RmsNorm(g, p + "attn_norm", x, Vector(g, gguf, p + "attn_norm.weight", embd), eps);
            var q = g.Op("MatMul", p + "q", [h, Linear(g, gguf, p + "attn_q.weight", embd, heads * d)]);
            var k = g.Op("MatMul", p + "k", [h, Linear(g, gguf, p + "attn_k.weight", embd, kvHeads * d)]);
            var v = g.Op("MatMul", p + "v", [h, Linear(g, gguf, p + "attn_v.weight", embd, kvHeads * d)]);

            var qRot = Rope(g, p + "q", q, qPairs, qHeads, cos, sin, splitHalves);
            var kRot = Rope(g, p + "k", k, kPairs, kvHeadsShape, cos, sin, splitHalves);
            var qT = g.Op("Transpose", p + "q_bhsd", [qRot], OnnxAttr.Of("perm", [0L, 2, 1, 3]));
            var kT = g.Op("Transpose", p + "k_bhsd", [kRot], OnnxAttr.Of("perm", [0L, 2, 1, 3]));
            var vT = g.Op("Transpose", p + "v_bhsd", [g.Op("Reshape", p + "v_heads", [v, kvHeadsShape])], OnnxAttr.Of("perm", [0L, 2, 1, 3]));

            var presentKey = Name(PresentKeyTemplate, b);
            var presentValue = Name(PresentValueTemplate, b);
            g.OpInto("Concat", presentKey, [Name(PastKeyTemplate, b), kT], OnnxAttr.Of("axis", 2L));
            g.OpInto("Concat", presentValue, [Name(PastValueTemplate, b), vT], OnnxAttr.Of("axis", 2L));
            var keys = groups == 1 ? presentKey : ShareHeads(g, p + "k", presentKey, axisTwo, groupExpand, groupMerge);
            var values = groups == 1 ? presentValue : ShareHeads(g, p + "v", presentValue, axisTwo, groupExpand, groupMerge);

            var kTransposed = g.Op("Transpose", p + "k_t", [keys], OnnxAttr.Of("perm", [0L, 1, 3, 2]));
            var scores = g.Op("Mul", p + "kq_scaled", [g.Op("MatMul", p + "kq", [qT, kTransposed]), scale]);
            var maskedScores = g.Op("Where", p + "kq_masked", [allowed, scores, masked]);
            var probabilities = g.Op("Softmax", p + "kq_softmax", [maskedScores], OnnxAttr.Of("axis", -1L));
            var context = g.Op("MatMul", p + "kqv", [probabilities, values]);
            var merged = g.Op("Reshape", p + "kqv_merged", [g.Op("Transpose", p + "kqv_bshd", [context], OnnxAttr.Of("perm", [0L, 2, 1, 3])), mergeHeads]);
            var attention = g.Op("MatMul", p + "attn_out", [merged, Linear(g, gguf, p + "attn_output.weight", heads * d, embd)]);
            x = g.Op("Add", p + "attn_residual", [x, attention]);

            var h2 = RmsNorm(g, p + "ffn_norm", x, Vector(g, gguf, p + "ffn_norm.weight", embd), eps);
            var gate = g.Op("MatMul", p + "ffn_gate", [h2, Linear(g, gguf, p + "ffn_gate.weight", embd, ff)]);
            var up = g.Op("MatMul", p + "ffn_up", [h2, Linear(g, gguf, p + "ffn_up.weight", embd, ff)]);
            var silu = g.Op("Mul", p + "ffn_silu", [gate, g.Op("Sigmoid", p + "ffn_gate_sigmoid", [gate])]);
            var down = g.Op("MatMul", p + "ffn_down", [g.Op("Mul", p + "ffn_gated", [silu, up]), Linear(g, gguf, p + "ffn_down.weight", ff, embd)]);
            x = g.Op("Add", p + "ffn_residual", [x, down]);
        }

        var final = RmsNorm(g, "output_norm", x, Vector(g, gguf, "output_norm.weight", embd), eps);
        var output = s.TiedEmbeddings
            ? g.Floats("output.weight", Transpose(tokenEmbedding, vocab, embd), embd, vocab)
            : Linear(g, gguf, "output.weight", embd, vocab);
        g.OpInto("MatMul", Logits, [final, output]);

        var graph = g.Build(gguf.Name ?? "llama", inputs.ToImmutable(), outputs.ToImmutable());
        return new OnnxModel(IrVersion, OpsetVersion, "harness forge onnx", producerVersion, graph,
        [
            KeyValuePair.Create("source.gguf", Path.GetFileName(gguf.FilePath)),
            KeyValuePair.Create("source.tensor_types", gguf.TensorTypes),
            KeyValuePair.Create("rope", "llama.cpp NORM (adjacent pairs), freq_base " + s.RopeFreqBase.ToString("R", CultureInfo.InvariantCulture)),
        ]);
    }

    private static OnnxValueInfo Info(string name, OnnxDataType type, params object[] dimensions) => new(name, type, [.. dimensions]);

    /// <summary>
    /// cos and sin of every position's angles, shaped [batch, seq, 1, head_size/2, 1] to broadcast over heads and the
    /// two members of each pair. Frequencies are freq_base^(-2i/d) like ggml's theta_scale powers.
    /// </summary>
    private static (string Cos, string Sin) RopeTables(OnnxGraphBuilder g, LlamaShape s)
    {
        var half = s.HeadDimension / 2;
        var frequencies = new float[half];
        for (var i = 0; i < half; i++)
        {
            frequencies[i] = (float)Math.Pow(s.RopeFreqBase, -2.0 * i / s.HeadDimension);
        }

        var positions = g.Op("Cast", "rope_positions", [PositionIds], OnnxAttr.Of("to", (long)OnnxDataType.Float));
        var angles = g.Op("Mul", "rope_angles", [g.Op("Unsqueeze", "rope_positions_3d", [positions, g.Int64s("axes_rope_freq", -1)]), g.Floats("rope_frequencies", frequencies, half)]);
        var axes = g.Int64s("axes_rope_broadcast", 2, 4);
        return (g.Op("Unsqueeze", "rope_cos", [g.Op("Cos", "rope_cos_3d", [angles]), axes]),
            g.Op("Unsqueeze", "rope_sin", [g.Op("Sin", "rope_sin_3d", [angles]), axes]));
    }

    /// <summary>
    /// A bool [batch, 1, seq, total] that is true where query i (at absolute position past + i) may read key j: j ≤ past + i
    /// (Trilu with k = past) and attention_mask[j] = 1.
    /// </summary>
    private static string AttentionAllowed(OnnxGraphBuilder g)
    {
        var one = g.Int64s("slice_one", 1);
        var two = g.Int64s("slice_two", 2);
        var sequence = g.Op("Slice", "sequence_length", [g.Op("Shape", "input_ids_shape", [InputIds]), one, two]);
        var total = g.Op("Slice", "total_sequence_length", [g.Op("Shape", "attention_mask_shape", [AttentionMask]), one, two]);
        var past = g.Op("Squeeze", "past_sequence_length", [g.Op("Sub", "past_sequence_length_1d", [total, sequence])]);
        var ones = g.Op("ConstantOfShape", "mask_ones", [g.Op("Concat", "mask_shape", [sequence, total], OnnxAttr.Of("axis", 0L))],
            OnnxAttr.Of("value", OnnxTensor.Floats("one", [1], [1f])));
        var causal = g.Op("Cast", "causal_allowed", [g.Op("Trilu", "causal_ones", [ones, past], OnnxAttr.Of("upper", 0L))], OnnxAttr.Of("to", (long)OnnxDataType.Bool));
        var padding = g.Op("Unsqueeze", "padding_allowed", [g.Op("Cast", "attention_mask_bool", [AttentionMask], OnnxAttr.Of("to", (long)OnnxDataType.Bool)), g.Int64s("axes_mask", 1, 2)]);
        return g.Op("And", "attention_allowed", [causal, padding]);
    }

    private static string RmsNorm(OnnxGraphBuilder g, string name, string x, string weight, string eps)
    {
        var meanSquare = g.Op("ReduceMean", name + "_mean_square", [g.Op("Mul", name + "_square", [x, x])], OnnxAttr.Of("axes", [-1L]), OnnxAttr.Of("keepdims", 1L));
        var rms = g.Op("Sqrt", name + "_rms", [g.Op("Add", name + "_mean_square_eps", [meanSquare, eps])]);
        return g.Op("Mul", name, [g.Op("Div", name + "_normalized", [x, rms]), weight]);
    }

    /// <summary>[batch, seq, heads·d] → rotated [batch, seq, heads, d], rotating adjacent pairs as llama.cpp's NORM rope does.</summary>
    private static string Rope(OnnxGraphBuilder g, string name, string x, string pairsShape, string headsShape, string cos, string sin, string split)
    {
        var pairs = g.Op("Reshape", name + "_pairs", [x, pairsShape]);
        var halves = g.Ops("Split", name + "_pair", [pairs, split], 2, OnnxAttr.Of("axis", -1L));
        var (even, odd) = (halves[0], halves[1]);
        var first = g.Op("Sub", name + "_rot0", [g.Op("Mul", name + "_even_cos", [even, cos]), g.Op("Mul", name + "_odd_sin", [odd, sin])]);
        var second = g.Op("Add", name + "_rot1", [g.Op("Mul", name + "_even_sin", [even, sin]), g.Op("Mul", name + "_odd_cos", [odd, cos])]);
        return g.Op("Reshape", name + "_rope", [g.Op("Concat", name + "_rot", [first, second], OnnxAttr.Of("axis", -1L)), headsShape]);
    }

    /// <summary>[batch, kv_heads, t, d] → [batch, heads, t, d] where head h is key/value head h / groups.</summary>
    private static string ShareHeads(OnnxGraphBuilder g, string name, string x, string axisTwo, string expandShape, string mergeShape)
    {
        var expanded = g.Op("Expand", name + "_groups", [g.Op("Unsqueeze", name + "_group_axis", [x, axisTwo]), expandShape]);
        return g.Op("Reshape", name + "_shared", [expanded, mergeShape]);
    }

    private static string Vector(OnnxGraphBuilder g, LlamaGguf gguf, string name, long length) =>
        g.Floats(name, gguf.Read(name, 1, length), length);

    /// <summary>A GGUF matrix W (rows = outputs) as the [in, out] initializer that <c>MatMul(x, Wᵀ)</c> needs.</summary>
    private static string Linear(OnnxGraphBuilder g, LlamaGguf gguf, string name, long inputs, long outputs) =>
        g.Floats(name, Transpose(gguf.Read(name, outputs, inputs), outputs, inputs), inputs, outputs);

    private static float[] Transpose(float[] values, long rows, long columns)
    {
        var result = new float[values.Length];
        for (long r = 0; r < rows; r++)
        {
            for (long c = 0; c < columns; c++)
            {
                result[(c * rows) + r] = values[(r * columns) + c];
            }
        }

        return result;
    }
}
