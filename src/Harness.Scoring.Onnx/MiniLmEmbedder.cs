using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.Tokenizers;

namespace Harness.Scoring.Onnx;

/// <summary>
/// Sentence embeddings from all-MiniLM-L6-v2 on ONNX Runtime: BERT word pieces (lower-cased, accents stripped), cut at
/// 256 tokens, mean of <c>last_hidden_state</c> over the attention mask, L2-normalised.
/// Thread-safe: the tokenizer is immutable and ONNX Runtime allows concurrent runs on one session.
/// </summary>
public sealed class MiniLmEmbedder : ITextEmbedder, IDisposable
{
    public const string ModelName = "all-MiniLM-L6-v2";

    /// <summary>The model's position embeddings stop at 512, but it was trained on 256-token texts.</summary>
    public const int MaxTokens = 256;

    private const string HiddenStateOutput = "last_hidden_state";

    private readonly SessionOptions sessionOptions;
    private readonly InferenceSession session;
    private readonly string[] inputNames;
    private readonly string[] outputNames = [HiddenStateOutput];
    private readonly int dimensions;

    /// <exception cref="FileNotFoundException">The carrier DLL is missing.</exception>
    /// <exception cref="InvalidDataException">The carrier or its model is not what we expect.</exception>
    public MiniLmEmbedder(MiniLmOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.IntraOpThreads, 1, nameof(options));
        var (model, vocab) = MiniLmCarrier.Read(options.CarrierPath ?? MiniLmCarrier.DefaultPath);
        Tokenizer = CreateTokenizer(vocab, removeNonSpacingMarks: true);
        IntraOpThreads = options.IntraOpThreads;

        sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = options.IntraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
        };

        // Spinning threads burn a core each between calls; scoring is interleaved with generation, so they would
        // steal CPU from the model under test.
        sessionOptions.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        try
        {
            session = new InferenceSession(model, sessionOptions);
            inputNames = [.. session.InputMetadata.Keys];
            string[] known = ["input_ids", "attention_mask", "token_type_ids"];
            if (inputNames.Except(known).FirstOrDefault() is { } unknown || !inputNames.Contains("input_ids"))
            {
                throw new InvalidDataException($"unexpected model inputs: {string.Join(", ", inputNames)}");
            }

            if (!session.OutputMetadata.TryGetValue(HiddenStateOutput, out var hidden))
            {
                throw new InvalidDataException($"the model has no {HiddenStateOutput} output; outputs: {string.Join(", ", session.OutputMetadata.Keys)}");
            }

            dimensions = hidden.Dimensions[^1];
        }
        catch
        {
            session?.Dispose();
            sessionOptions.Dispose();
            throw;
        }

        Model = new MiniLmModelInfo(ModelName, MiniLmCarrier.PackageName, MiniLmCarrier.PackageVersion,
            MiniLmCarrier.Sha256Hex(model), MaxTokens, dimensions);
    }

    public MiniLmModelInfo Model { get; }

    public int IntraOpThreads { get; }

    internal BertTokenizer Tokenizer { get; }

    /// <summary>The word-piece ids fed to the model: [CLS] … [SEP], at most <see cref="MaxTokens"/>.</summary>
    public IReadOnlyList<int> Tokenize(string text) =>
        Tokenizer.EncodeToIds(text, MaxTokens, addSpecialTokens: true, out _, out _);

    /// <summary>An L2-normalised embedding of <paramref name="text"/> (the first 256 tokens).</summary>
    public float[] Embed(string text)
    {
        var ids = Tokenize(text);
        var length = ids.Count;
        long[] shape = [1, length];
        var inputIds = new long[length];
        var mask = new long[length];
        for (var i = 0; i < length; i++)
        {
            inputIds[i] = ids[i];
            mask[i] = 1;
        }

        var values = new OrtValue[inputNames.Length];
        try
        {
            for (var i = 0; i < inputNames.Length; i++)
            {
                var data = inputNames[i] switch
                {
                    "input_ids" => inputIds,
                    "attention_mask" => mask,
                    _ => new long[length], // token_type_ids: a single segment
                };
                values[i] = OrtValue.CreateTensorValueFromMemory(data, shape);
            }

            using var runOptions = new RunOptions();
            using var outputs = session.Run(runOptions, inputNames, values, outputNames);
            return Pool(outputs[0].GetTensorDataAsSpan<float>(), mask, dimensions);
        }
        finally
        {
            foreach (var value in values)
            {
                value?.Dispose();
            }
        }
    }

    /// <summary>Cosine similarity of the two texts' embeddings, in [-1, 1].</summary>
    public double Similarity(string a, string b) => Cosine(Embed(a), Embed(b));

    public void Dispose()
    {
        session.Dispose();
        sessionOptions.Dispose();
    }

    /// <summary>Dot product; equal to the cosine for the normalised vectors <see cref="Embed"/> returns.</summary>
    internal static double Cosine(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var sum = 0.0;
        for (var i = 0; i < a.Length; i++)
        {
            sum += (double)a[i] * b[i];
        }

        return sum;
    }

    /// <param name="removeNonSpacingMarks">Off (the library default), accented words such as "café" become [UNK].</param>
    internal static BertTokenizer CreateTokenizer(byte[] vocab, bool removeNonSpacingMarks)
    {
        using var stream = new MemoryStream(vocab, writable: false);
        return BertTokenizer.Create(stream, new BertOptions
        {
            LowerCaseBeforeTokenization = true,
            RemoveNonSpacingMarks = removeNonSpacingMarks,
        });
    }

    /// <summary>Masked mean over tokens of a [1, tokens, dimensions] tensor, then L2 normalisation.</summary>
    private static float[] Pool(ReadOnlySpan<float> hidden, long[] mask, int dimensions)
    {
        var sums = new double[dimensions];
        var count = 0L;
        for (var t = 0; t < mask.Length; t++)
        {
            if (mask[t] == 0)
            {
                continue;
            }

            count++;
            var row = hidden.Slice(t * dimensions, dimensions);
            for (var d = 0; d < dimensions; d++)
            {
                sums[d] += row[d];
            }
        }

        var squares = 0.0;
        for (var d = 0; d < dimensions; d++)
        {
            sums[d] /= Math.Max(count, 1);
            squares += sums[d] * sums[d];
        }

        // The same floor as sentence-transformers' normalize, so a zero vector stays zero instead of NaN.
        var norm = Math.Max(Math.Sqrt(squares), 1e-12);
        var embedding = new float[dimensions];
        for (var d = 0; d < dimensions; d++)
        {
            embedding[d] = (float)(sums[d] / norm);
        }

        return embedding;
    }
}
