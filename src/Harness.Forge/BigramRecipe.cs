using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Gguf;

namespace Harness.Forge;

/// <summary>Settings of the character bigram recipe. Every one is recorded in the GGUF's metadata.</summary>
/// <param name="Characters">Characters that get their own token; others fall back to byte tokens.</param>
/// <param name="Smoothing">Add-k pseudo-count for every (previous, next) pair; must be positive so no log-probability is -inf.</param>
/// <param name="MatrixType">F32 or F16 for the matrices.</param>
/// <param name="ContextLength">Written as <c>llama.context_length</c>; the bigram ignores position, so any length works.</param>
/// <param name="EndDocumentsWithEos">Count a final (last token, EOS) pair per document, so generation learns to stop.</param>
public sealed record BigramOptions(
    string Characters,
    double Smoothing,
    GgmlType MatrixType,
    string Name,
    int ContextLength,
    bool EndDocumentsWithEos)
{
    /// <summary>Printable ASCII, k = 0.1, F16, 2048 context, EOS after each document.</summary>
    public static BigramOptions Default { get; } = new(CharVocabulary.PrintableAscii, 0.1, GgmlType.F16, "harness-char-bigram", 2048, true);
}

/// <summary>
/// A fitted character bigram and its exact realisation as a one-block llama.
/// </summary>
/// <param name="ClassOfToken">For every token, the embedding dimension ("class") whose row of <see cref="LogProbabilities"/> it uses.</param>
/// <param name="LogProbabilities">[class][vocab]: natural-log P(next | class of previous).</param>
/// <param name="PairCount">Bigrams counted over the corpus.</param>
public sealed record BigramModel(
    CharVocabulary Vocabulary,
    BigramOptions Options,
    ImmutableArray<int> ClassOfToken,
    int ClassCount,
    ImmutableArray<double> LogProbabilities,
    LlamaHyperparameters Hyperparameters,
    long DocumentCount,
    long PairCount)
{
    /// <summary>log P(<paramref name="next"/> | <paramref name="previous"/>), the logit llama.cpp should produce.</summary>
    public double LogProbability(int previous, int next) => LogProbabilities[(ClassOfToken[previous] * Vocabulary.Count) + next];

    /// <summary>
    /// The llama weights. With x = c·e_k the embedding of a token of class k, every block adds zero (all its
    /// matrices are zero: Q = K = V = 0 so attention outputs 0·W_o = 0, and SwiGLU gives W_down(silu(0)·0) = 0),
    /// so the final hidden state is still x. llama.cpp's RMSNorm, computed in float as
    /// scale = 1 / sqrtf(c²/d + ε), maps it to s·e_k with s = c·scale (output_norm weights are 1), and
    /// logit_j = output[j]·(s·e_k) = output[j][k]·s. Storing output[j][k] = log P(j|k) / s therefore gives
    /// logit_j = log P(j|k) up to the rounding of the stored weight. For ε → 0, s → √d, the textbook form.
    /// </summary>
    public LlamaModelWeights ToWeights()
    {
        var d = Hyperparameters.EmbeddingLength;
        var vocab = Vocabulary.Count;
        var embedding = new float[vocab * d];
        for (var t = 0; t < vocab; t++)
        {
            embedding[(t * d) + ClassOfToken[t]] = EmbeddingValue;
        }

        var normedValue = NormedValue(d, Hyperparameters.RmsNormEpsilon);
        var output = new float[vocab * d];
        for (var k = 0; k < ClassCount; k++)
        {
            for (var j = 0; j < vocab; j++)
            {
                output[(j * d) + k] = (float)(LogProbabilities[(k * vocab) + j] / normedValue);
            }
        }

        var h = Hyperparameters;
        var kv = h.HeadDimension * h.HeadCountKv;
        ImmutableArray<float> Zeros(int count) => [.. new float[count]];
        ImmutableArray<float> Ones(int count) => [.. Enumerable.Repeat(1f, count)];
        var block = new LlamaBlockWeights(
            Ones(d), Zeros(d * d), Zeros(kv * d), Zeros(kv * d), Zeros(d * d),
            Ones(d), Zeros(h.FeedForwardLength * d), Zeros(h.FeedForwardLength * d), Zeros(d * h.FeedForwardLength));
        return new LlamaModelWeights([.. embedding], [block], Ones(d), [.. output]);
    }

    /// <summary>The GGUF metadata and tensors, including the recipe's provenance under <c>harness.*</c>.</summary>
    public (ImmutableArray<GgufMetadataEntry> Metadata, ImmutableArray<GgufTensor> Tensors) ToGguf() =>
        LlamaGgufWriter.Build(Options.Name, Hyperparameters, Vocabulary, ToWeights(), Options.MatrixType,
        [
            new("harness.recipe", GgufValue.String("char-bigram")),
            new("harness.bigram.smoothing", GgufValue.Float64(Options.Smoothing)),
            new("harness.bigram.end_documents_with_eos", GgufValue.Bool(Options.EndDocumentsWithEos)),
            new("harness.bigram.documents", GgufValue.UInt64((ulong)DocumentCount)),
            new("harness.bigram.pairs", GgufValue.UInt64((ulong)PairCount)),
        ]);

    /// <summary>Writes the model as a GGUF file (atomically).</summary>
    public void WriteFile(string path)
    {
        var (metadata, tensors) = ToGguf();
        GgufWriter.WriteFile(path, metadata, tensors);
    }

    /// <summary>The one non-zero value of each embedding row; exact in F16 and F32.</summary>
    internal const float EmbeddingValue = 1f;

    /// <summary>s = c / sqrt(c²/d + ε), evaluated in float the way ggml's rms_norm does.</summary>
    internal static double NormedValue(int dimensions, float epsilon)
    {
        var mean = (float)((double)EmbeddingValue * EmbeddingValue / dimensions);
        var scale = 1.0f / MathF.Sqrt(mean + epsilon);
        return EmbeddingValue * scale;
    }
}

/// <summary>
/// The closed-form recipe: count character bigrams, smooth, and write them as a llama GGUF whose next-token
/// logits are exactly the bigram log-probabilities. Deterministic: the same corpus and options give the same bytes.
/// </summary>
public static class BigramRecipe
{
    private const int UnknownClass = 0, BosClass = 1, EosClass = 2, ByteClass = 3, FirstCharacterClass = 4;

    /// <summary>Fits the bigram on <paramref name="corpus"/> (each document starts with BOS).</summary>
    /// <exception cref="ArgumentException">Smoothing not positive, or bad settings.</exception>
    public static BigramModel Build(IEnumerable<string> corpus, BigramOptions options)
    {
        if (!(options.Smoothing > 0) || !double.IsFinite(options.Smoothing))
        {
            throw new ArgumentException($"Smoothing must be a positive number, got {options.Smoothing.ToString(CultureInfo.InvariantCulture)}.", nameof(options));
        }

        var vocabulary = CharVocabulary.Create(options.Characters);
        var vocab = vocabulary.Count;

        // Counts by previous *token* first; tokens then fold into classes.
        var counts = new long[vocab][];
        long documents = 0, pairs = 0;
        foreach (var document in corpus)
        {
            documents++;
            var tokens = vocabulary.Tokenize(document, addBos: true);
            var sequence = options.EndDocumentsWithEos ? tokens.Add(CharVocabulary.EosId) : tokens;
            for (var i = 1; i < sequence.Length; i++)
            {
                (counts[sequence[i - 1]] ??= new long[vocab])[sequence[i]]++;
                pairs++;
            }
        }

        // Embedding dimensions: the 3 special tokens, one shared by all byte tokens, one per character that was
        // followed by something, and one shared by characters never seen as a predecessor (a uniform row).
        var classOfToken = new int[vocab];
        classOfToken[CharVocabulary.UnknownId] = UnknownClass;
        classOfToken[CharVocabulary.BosId] = BosClass;
        classOfToken[CharVocabulary.EosId] = EosClass;
        for (var b = 0; b < 256; b++)
        {
            classOfToken[CharVocabulary.ByteTokenId((byte)b)] = ByteClass;
        }

        var classCount = FirstCharacterClass;
        var unseen = new List<int>();
        for (var t = CharVocabulary.FirstCharacterId; t < vocab; t++)
        {
            if (counts[t] is null)
            {
                unseen.Add(t);
            }
            else
            {
                classOfToken[t] = classCount++;
            }
        }

        if (unseen.Count > 0)
        {
            foreach (var t in unseen)
            {
                classOfToken[t] = classCount;
            }

            classCount++;
        }

        var classCounts = new long[classCount * vocab];
        for (var t = 0; t < vocab; t++)
        {
            if (counts[t] is { } row)
            {
                var offset = classOfToken[t] * vocab;
                for (var j = 0; j < vocab; j++)
                {
                    classCounts[offset + j] += row[j];
                }
            }
        }

        var logProbabilities = new double[classCount * vocab];
        for (var k = 0; k < classCount; k++)
        {
            var total = 0L;
            for (var j = 0; j < vocab; j++)
            {
                total += classCounts[(k * vocab) + j];
            }

            var denominator = total + (options.Smoothing * vocab);
            for (var j = 0; j < vocab; j++)
            {
                logProbabilities[(k * vocab) + j] = Math.Log((classCounts[(k * vocab) + j] + options.Smoothing) / denominator);
            }
        }

        // Width: one dimension per class, padded to a multiple of 8; heads of 8 dimensions keep the rope
        // dimension even (llama.cpp requires rope.dimension_count == head dimension for llama).
        var embedding = (classCount + 7) / 8 * 8;
        var hyperparameters = new LlamaHyperparameters(
            ContextLength: options.ContextLength,
            EmbeddingLength: embedding,
            BlockCount: 1,
            FeedForwardLength: 8,
            HeadCount: embedding / 8,
            HeadCountKv: embedding / 8,
            RmsNormEpsilon: 1e-5f,
            RopeFreqBase: 10000f);
        hyperparameters.Validate();

        return new BigramModel(vocabulary, options, [.. classOfToken], classCount, [.. logProbabilities], hyperparameters, documents, pairs);
    }
}
