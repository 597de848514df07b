using Harness.Core.Gguf;
using Harness.Forge;
using LLama;
using LLama.Common;
using LLama.Native;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.Gguf;

/// <summary>
/// Two independent implementations must agree: the managed bigram recipe and stock llama.cpp running the GGUF
/// it wrote. Tolerances: F32 weights leave only float rounding (1e-3 absolute is generous); F16 rounds the stored
/// weight and llama.cpp's F16 copy of the activation, each to 2^-11 relative, so 2e-3·max(1, |log P|) holds.
/// </summary>
[Trait("Category", "Model")]
public sealed class BigramLlamaCppTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Corpus =
    [
        "the cat sat on the mat.",
        "a dog ate the cake; the cat ate a fish!",
        "Zoe met Tom at 10:30 (sharp).",
        "tic tac toe",
        "café crème\nline two",
    ];

    private readonly string _folder = Directory.CreateTempSubdirectory("harness-bigram-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(GgmlType.F32, 1e-3, 0.0)]
    [InlineData(GgmlType.F16, 0.0, 2e-3)]
    public void LlamaCpp_tokens_and_logits_match_the_managed_bigram(GgmlType matrixType, double absoluteTolerance, double relativeTolerance)
    {
        var model = BigramRecipe.Build(Corpus, BigramOptions.Default with { MatrixType = matrixType });
        var path = Path.Combine(_folder, $"bigram-{matrixType}.gguf");
        model.WriteFile(path);
        // Characters outside the set ('é', '\n', '€') must fall back to the same byte tokens on both sides.
        const string text = "the cat ate é fish\nat 9€ Zz";
        var (nativeTokens, nativeLogits) = LlamaCppReference.Run(path, text);

        Assert.Equal(model.Vocabulary.Tokenize(text, addBos: true).ToArray(), nativeTokens);

        var argMaxChecks = 0;
        var maxError = 0.0;
        for (var i = 0; i < nativeTokens.Length; i++)
        {
            var logits = nativeLogits[i];
            Assert.Equal(model.Vocabulary.Count, logits.Length);
            var expected = Enumerable.Range(0, logits.Length).Select(j => model.LogProbability(nativeTokens[i], j)).ToArray();
            for (var j = 0; j < logits.Length; j++)
            {
                var tolerance = absoluteTolerance + (relativeTolerance * Math.Max(1.0, Math.Abs(expected[j])));
                maxError = Math.Max(maxError, Math.Abs(logits[j] - expected[j]));
                Assert.True(Math.Abs(logits[j] - expected[j]) <= tolerance,
                    $"position {i} (token {nativeTokens[i]}), next token {j}: llama.cpp {logits[j]}, bigram {expected[j]}, tolerance {tolerance}");
            }

            // The argmax is only defined when the best bigram beats the runner-up by more than the tolerance.
            var best = ArgMax(expected);
            var runnerUp = expected.Where((_, j) => j != best).Max();
            if (expected[best] - runnerUp > 2 * (absoluteTolerance + (relativeTolerance * Math.Abs(expected[best]))))
            {
                Assert.Equal(best, ArgMax(logits.Select(l => (double)l).ToArray()));
                argMaxChecks++;
            }
        }

        output.WriteLine($"{matrixType}: {nativeTokens.Length} positions x {model.Vocabulary.Count} logits, max |llama.cpp - bigram| = {maxError:E2}, file {new FileInfo(path).Length} bytes, clear argmax at {argMaxChecks} positions");
        Assert.True(argMaxChecks >= nativeTokens.Length / 2, $"only {argMaxChecks} of {nativeTokens.Length} positions had a clear argmax");
    }

    private static int ArgMax(double[] values)
    {
        var best = 0;
        for (var i = 1; i < values.Length; i++)
        {
            if (values[i] > values[best])
            {
                best = i;
            }
        }

        return best;
    }
}
