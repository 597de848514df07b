using System.Collections.Immutable;
using Harness.Core.Gguf;

namespace Harness.Forge;

/// <summary>The <c>llama.*</c> hyperparameters of a llama-architecture model.</summary>
/// <param name="ContextLength">Training context (<c>llama.context_length</c>).</param>
/// <param name="HeadCountKv">Key/value heads; equal to <paramref name="HeadCount"/> for plain multi-head attention.</param>
public sealed record LlamaHyperparameters(
    int ContextLength,
    int EmbeddingLength,
    int BlockCount,
    int FeedForwardLength,
    int HeadCount,
    int HeadCountKv,
    float RmsNormEpsilon,
    float RopeFreqBase)
{
    /// <summary>Per-head dimension; llama.cpp requires the rope dimension to equal it for this architecture.</summary>
    public int HeadDimension => EmbeddingLength / HeadCount;

    /// <exception cref="ArgumentException">A shape llama.cpp would refuse or misread.</exception>
    public void Validate()
    {
        Check(ContextLength > 0 && EmbeddingLength > 0 && BlockCount > 0 && FeedForwardLength > 0, "all sizes must be positive");
        Check(HeadCount > 0 && EmbeddingLength % HeadCount == 0, "the embedding length must be a multiple of the head count");
        Check(HeadDimension % 2 == 0, "rope rotates pairs of dimensions, so the head dimension must be even");
        Check(HeadCountKv > 0 && HeadCount % HeadCountKv == 0, "the head count must be a multiple of the key/value head count");
        Check(RmsNormEpsilon > 0 && float.IsFinite(RmsNormEpsilon), "the RMSNorm epsilon must be positive");
        Check(RopeFreqBase > 0 && float.IsFinite(RopeFreqBase), "the rope frequency base must be positive");

        void Check(bool ok, string problem)
        {
            if (!ok)
            {
                throw new ArgumentException($"Invalid llama hyperparameters: {problem} ({this}).");
            }
        }
    }
}

/// <summary>
/// One transformer block. Matrices are row-major [out][in], i.e. <c>y = W x</c> with <c>W[o * in + i]</c>; that is
/// ggml's layout for a tensor of dimensions [in, out]. Q and K rows must already be in llama.cpp's rope order
/// (rotating adjacent pairs), which is what convert_hf_to_gguf's permutation produces.
/// </summary>
public sealed record LlamaBlockWeights(
    ImmutableArray<float> AttentionNorm,
    ImmutableArray<float> Query,
    ImmutableArray<float> Key,
    ImmutableArray<float> Value,
    ImmutableArray<float> AttentionOutput,
    ImmutableArray<float> FeedForwardNorm,
    ImmutableArray<float> Gate,
    ImmutableArray<float> Up,
    ImmutableArray<float> Down);

/// <param name="TokenEmbedding">[vocab][embd]: row t is token t's embedding.</param>
/// <param name="Output">[vocab][embd]: logit j is row j dotted with the final normed hidden state.</param>
public sealed record LlamaModelWeights(
    ImmutableArray<float> TokenEmbedding,
    ImmutableArray<LlamaBlockWeights> Blocks,
    ImmutableArray<float> OutputNorm,
    ImmutableArray<float> Output);

/// <summary>
/// Writes a llama-architecture GGUF (<c>general.architecture = llama</c>) that stock llama.cpp loads: hyperparameters,
/// a <see cref="CharVocabulary"/> and the tensors under llama.cpp's names and shapes. Matrices are stored as F32 or F16;
/// norm vectors always stay F32, as llama.cpp's own converters keep them.
/// </summary>
public static class LlamaGgufWriter
{
    /// <summary>The metadata and tensors of the model, in the order they are written.</summary>
    /// <param name="extraMetadata">More keys (provenance, e.g. <c>general.source.*</c>), appended after the standard ones.</param>
    /// <exception cref="ArgumentException">Bad hyperparameters, a tensor of the wrong size, or a type other than F32/F16.</exception>
    public static (ImmutableArray<GgufMetadataEntry> Metadata, ImmutableArray<GgufTensor> Tensors) Build(
        string name,
        LlamaHyperparameters hyperparameters,
        CharVocabulary vocabulary,
        LlamaModelWeights weights,
        GgmlType matrixType,
        IEnumerable<GgufMetadataEntry> extraMetadata)
    {
        hyperparameters.Validate();
        if (matrixType is not (GgmlType.F32 or GgmlType.F16))
        {
            throw new ArgumentException($"Matrices can be written as F32 or F16, not {matrixType}.", nameof(matrixType));
        }

        if (weights.Blocks.Length != hyperparameters.BlockCount)
        {
            throw new ArgumentException($"{weights.Blocks.Length} blocks of weights for a block count of {hyperparameters.BlockCount}.", nameof(weights));
        }

        var h = hyperparameters;
        var metadata = ImmutableArray.CreateBuilder<GgufMetadataEntry>();
        metadata.Add(new("general.architecture", GgufValue.String("llama")));
        metadata.Add(new("general.name", GgufValue.String(name)));
        metadata.Add(new("general.file_type", GgufValue.UInt32((uint)(matrixType == GgmlType.F32 ? LlamaFileType.AllF32 : LlamaFileType.MostlyF16))));
        metadata.Add(new("llama.context_length", GgufValue.UInt32((uint)h.ContextLength)));
        metadata.Add(new("llama.embedding_length", GgufValue.UInt32((uint)h.EmbeddingLength)));
        metadata.Add(new("llama.block_count", GgufValue.UInt32((uint)h.BlockCount)));
        metadata.Add(new("llama.feed_forward_length", GgufValue.UInt32((uint)h.FeedForwardLength)));
        metadata.Add(new("llama.attention.head_count", GgufValue.UInt32((uint)h.HeadCount)));
        metadata.Add(new("llama.attention.head_count_kv", GgufValue.UInt32((uint)h.HeadCountKv)));
        metadata.Add(new("llama.rope.dimension_count", GgufValue.UInt32((uint)h.HeadDimension)));
        metadata.Add(new("llama.attention.layer_norm_rms_epsilon", GgufValue.Float32(h.RmsNormEpsilon)));
        metadata.Add(new("llama.rope.freq_base", GgufValue.Float32(h.RopeFreqBase)));
        metadata.Add(new("llama.vocab_size", GgufValue.UInt32((uint)vocabulary.Count)));
        metadata.AddRange(vocabulary.ToMetadata());
        metadata.AddRange(extraMetadata);

        long embd = h.EmbeddingLength, vocab = vocabulary.Count, ff = h.FeedForwardLength;
        long kv = (long)h.HeadDimension * h.HeadCountKv;
        var tensors = ImmutableArray.CreateBuilder<GgufTensor>();
        tensors.Add(Matrix("token_embd.weight", weights.TokenEmbedding, embd, vocab, matrixType));
        for (var b = 0; b < h.BlockCount; b++)
        {
            var block = weights.Blocks[b];
            var prefix = $"blk.{b}.";
            tensors.Add(Vector(prefix + "attn_norm.weight", block.AttentionNorm, embd));
            tensors.Add(Matrix(prefix + "attn_q.weight", block.Query, embd, embd, matrixType));
            tensors.Add(Matrix(prefix + "attn_k.weight", block.Key, embd, kv, matrixType));
            tensors.Add(Matrix(prefix + "attn_v.weight", block.Value, embd, kv, matrixType));
            tensors.Add(Matrix(prefix + "attn_output.weight", block.AttentionOutput, embd, embd, matrixType));
            tensors.Add(Vector(prefix + "ffn_norm.weight", block.FeedForwardNorm, embd));
            tensors.Add(Matrix(prefix + "ffn_gate.weight", block.Gate, embd, ff, matrixType));
            tensors.Add(Matrix(prefix + "ffn_up.weight", block.Up, embd, ff, matrixType));
            tensors.Add(Matrix(prefix + "ffn_down.weight", block.Down, ff, embd, matrixType));
        }

        tensors.Add(Vector("output_norm.weight", weights.OutputNorm, embd));
        tensors.Add(Matrix("output.weight", weights.Output, embd, vocab, matrixType));
        return (metadata.ToImmutable(), tensors.ToImmutable());
    }

    /// <summary>Builds and writes the model to <paramref name="path"/> (atomically).</summary>
    public static void WriteFile(
        string path,
        string name,
        LlamaHyperparameters hyperparameters,
        CharVocabulary vocabulary,
        LlamaModelWeights weights,
        GgmlType matrixType,
        IEnumerable<GgufMetadataEntry> extraMetadata)
    {
        var (metadata, tensors) = Build(name, hyperparameters, vocabulary, weights, matrixType, extraMetadata);
        GgufWriter.WriteFile(path, metadata, tensors);
    }

    private static GgufTensor Vector(string name, ImmutableArray<float> values, long length)
    {
        Expect(name, values, length);
        return GgufTensor.FromSingles(name, [length], values.AsSpan(), GgmlType.F32);
    }

    private static GgufTensor Matrix(string name, ImmutableArray<float> values, long inputs, long outputs, GgmlType type)
    {
        Expect(name, values, inputs * outputs);
        return GgufTensor.FromSingles(name, [inputs, outputs], values.AsSpan(), type);
    }

    private static void Expect(string name, ImmutableArray<float> values, long length)
    {
        if (values.IsDefault || values.Length != length)
        {
            throw new ArgumentException($"Tensor '{name}' needs {length} values, got {(values.IsDefault ? 0 : values.Length)}.");
        }
    }
}
