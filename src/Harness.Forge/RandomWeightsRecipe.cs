using System.Collections.Immutable;
using System.Diagnostics;
using Harness.Core.Gguf;

namespace Harness.Forge;

/// <summary>
/// A llama-architecture model with seeded random weights, for speed measurements only: its text is noise, but
/// every matrix is read on every token, so decoding it is as bandwidth-bound as a trained model of the same shape.
/// Deterministic: the same seed writes the same bytes.
/// </summary>
public sealed class RandomWeightsRecipe(string name, LlamaHyperparameters shape, int seed) : IForgeRecipe
{
    /// <summary>GPT-2-small's shape with a llama block: 12 layers of 768, 12 heads, feed-forward 3072 (113M parameters).</summary>
    public static RandomWeightsRecipe Bench113M { get; } = new(
        "bench-113m", new LlamaHyperparameters(2048, 768, 12, 3072, 12, 12, 1e-5f, 10000f), seed: 113);

    public string Name => name;

    public LlamaHyperparameters Shape => shape;

    public long ParameterCount => CountParameters(shape, Vocabulary.Count);

    public string Description =>
        $"random weights (seed {seed}) in a {shape.BlockCount}-layer x {shape.EmbeddingLength} llama, {ParameterCount / 1e6:F0}M parameters, F16: for speed measurements only";

    public string DefaultFileName => name + "-f16.gguf";

    private static CharVocabulary Vocabulary { get; } = CharVocabulary.Create(CharVocabulary.PrintableAscii + "\n");

    public static long CountParameters(LlamaHyperparameters h, int vocabulary)
    {
        long embd = h.EmbeddingLength, kv = (long)h.HeadDimension * h.HeadCountKv;
        var block = 2 * embd + 2 * embd * embd + 2 * embd * kv + 3 * embd * h.FeedForwardLength;
        return 2 * vocabulary * embd + embd + h.BlockCount * block;
    }

    public Task<ForgeResult> BuildAsync(string outputPath, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var h = shape;
        var random = new Random(seed);
        int embd = h.EmbeddingLength, kv = h.HeadDimension * h.HeadCountKv, vocab = Vocabulary.Count;
        // Small uniform weights (standard deviation 0.02, as in GPT-2's initialisation) keep activations finite.
        ImmutableArray<float> Matrix(int rows, int columns)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var values = new float[rows * columns];
            const float halfWidth = 0.02f * 1.7320508f;
            for (var i = 0; i < values.Length; i++)
                values[i] = (random.NextSingle() * 2 - 1) * halfWidth;
            return ImmutableArray.Create(values);
        }

        ImmutableArray<float> Ones(int length) => [.. Enumerable.Repeat(1f, length)];

        var blocks = ImmutableArray.CreateBuilder<LlamaBlockWeights>(h.BlockCount);
        for (var b = 0; b < h.BlockCount; b++)
        {
            blocks.Add(new LlamaBlockWeights(
                Ones(embd), Matrix(embd, embd), Matrix(kv, embd), Matrix(kv, embd), Matrix(embd, embd),
                Ones(embd), Matrix(h.FeedForwardLength, embd), Matrix(h.FeedForwardLength, embd), Matrix(embd, h.FeedForwardLength)));
        }

        var weights = new LlamaModelWeights(Matrix(vocab, embd), blocks.MoveToImmutable(), Ones(embd), Matrix(vocab, embd));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        LlamaGgufWriter.WriteFile(outputPath, name, h, Vocabulary, weights, GgmlType.F16,
        [
            new("general.source.recipe", GgufValue.String(name)),
            new("general.source.seed", GgufValue.UInt32((uint)seed)),
            new("general.source.note", GgufValue.String("random weights for speed measurements; the output is noise")),
        ]);
        return Task.FromResult(new ForgeResult(name, outputPath, seed, 0, "none (random weights)", clock.Elapsed, new FileInfo(outputPath).Length));
    }
}
