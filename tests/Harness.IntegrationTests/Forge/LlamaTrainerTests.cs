using System.Diagnostics;
using Harness.Backends.LlamaSharp;
using Harness.Core.Gguf;
using Harness.Forge;
using Harness.Forge.Training;
using LLama;
using LLama.Common;
using LLama.Native;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.Forge;

/// <summary>
/// The training engine on the shipped ggml: it learns, checkpoints, stops on cancellation, and what it writes is
/// the model it trained: stock llama.cpp running the GGUF gives the trainer's own logits.
/// </summary>
[Trait("Category", "Model")]
public sealed class LlamaTrainerTests(ITestOutputHelper output) : IDisposable
{
    private static readonly string[] Corpus =
    [
        "12+34=46",
        "the cat sat on the mat",
        "7*8=56",
        "abc abc abc",
        "Zoe met Tom at 10:30",
        "reverse: tops -> spot",
    ];

    private static readonly LlamaHyperparameters Tiny = new(
        ContextLength: 64, EmbeddingLength: 32, BlockCount: 2, FeedForwardLength: 64,
        HeadCount: 4, HeadCountKv: 4, RmsNormEpsilon: 1e-5f, RopeFreqBase: 10000f);

    private static readonly LlamaTrainingOptions Options = new(
        Tiny, SequenceLength: 24, BatchSize: 6, Steps: 150, LearningRate: 1e-2f, WarmupSteps: 10,
        FinalLearningRateFraction: 0.1f, WeightDecay: 0f, Beta1: 0.9f, Beta2: 0.99f, InitStandardDeviation: 0.02f,
        Threads: 1, CheckpointEverySteps: 0);

    private readonly string _folder = Directory.CreateTempSubdirectory("harness-train-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private static CharVocabulary Vocabulary { get; } = CharVocabulary.Create(CharVocabulary.PrintableAscii);

    private static List<TrainingDocument> Documents() =>
        [.. Corpus.Select(text => TrainingDocument.FromText(Vocabulary, string.Empty, text + "\n", targetOnly: false))];

    [Fact]
    public void A_short_run_on_a_tiny_repeated_corpus_lowers_the_loss()
    {
        var clock = Stopwatch.StartNew();
        using var trainer = new LlamaTrainer(Options, Vocabulary, new Random(7), TimeProvider.System);
        var reports = new List<TrainingProgress>();

        var summary = trainer.Train(Documents(), new Random(8), new SynchronousProgress<TrainingProgress>(reports.Add), checkpoint: null, CancellationToken.None);

        output.WriteLine($"loss {summary.FirstLoss:F3} -> {summary.FinalLoss:F3} (last step {reports[^1].Loss:F3}) in {summary.Steps} steps, {summary.Duration.TotalSeconds:F1} s, {summary.TargetTokens} target tokens");
        Assert.Equal(Options.Steps, summary.Steps);
        Assert.Equal(Options.Steps, reports.Count);
        Assert.Equal(Enumerable.Range(1, Options.Steps), reports.Select(r => r.Step));
        // An untrained model is near uniform over the 354 tokens: ln 354 = 5.87 nats.
        Assert.InRange(summary.FirstLoss, 5.0, 6.5);
        Assert.True(reports[^1].Loss < 1.0, $"the last batch still costs {reports[^1].Loss} nats per token");
        Assert.True(summary.FinalLoss < summary.FirstLoss / 3, $"loss only went from {summary.FirstLoss} to {summary.FinalLoss}");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"took {clock.Elapsed}");
    }

    [Fact]
    public void The_same_seeds_give_the_same_weights()
    {
        var options = Options with { Steps = 5, WarmupSteps = 1 };
        float[] Run()
        {
            using var trainer = new LlamaTrainer(options, Vocabulary, new Random(3), TimeProvider.System);
            trainer.Train(Documents(), new Random(4), progress: null, checkpoint: null, CancellationToken.None);
            return [.. trainer.Weights().Output];
        }

        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Padding_rows_change_no_weight()
    {
        // ggml's cross-entropy backward is softmax - labels on every row: unmasked, each padding row pushed every logit
        // down and AdamW grew every output weight linearly (±15.5 after 10000 steps). Masked, a wider row (more
        // padding after each document, invisible to earlier positions under the causal mask) trains the same weights;
        // only the mean's normalisation differs, which AdamW's step is nearly blind to. Measured over 8 steps at lr 1e-2:
        // 1.2e-3 masked, 9.1e-2 with the mask removed.
        float[] Run(int width)
        {
            var options = Options with { SequenceLength = width, Steps = 8, WarmupSteps = 1 };
            using var trainer = new LlamaTrainer(options, Vocabulary, new Random(3), TimeProvider.System);
            trainer.Train(Documents(), new Random(4), progress: null, checkpoint: null, CancellationToken.None);
            return [.. trainer.Weights().Output];
        }

        var narrow = Run(24);
        var wide = Run(48);
        var largest = narrow.Zip(wide, (a, b) => Math.Abs(a - b)).Max();
        Assert.True(largest < 1e-2f, $"padding moved an output weight by {largest}");
    }

    [Fact]
    public void Cancellation_stops_between_steps_and_keeps_the_last_checkpoint()
    {
        var options = Options with { Steps = 40, CheckpointEverySteps = 5 };
        var path = Path.Combine(_folder, "checkpoint.gguf");
        using var cancellation = new CancellationTokenSource();
        using var trainer = new LlamaTrainer(options, Vocabulary, new Random(7), TimeProvider.System);
        var progress = new SynchronousProgress<TrainingProgress>(p =>
        {
            if (p.Step == 12)
            {
                cancellation.Cancel();
            }
        });

        Assert.ThrowsAny<OperationCanceledException>(() =>
            trainer.Train(Documents(), new Random(8), progress, new TrainingCheckpoint(path, "checkpoint-test"), cancellation.Token));

        Assert.Equal(12, trainer.StepsDone);
        var file = GgufReader.Read(path);
        Assert.Equal(10, file.GetInteger("harness.train.checkpoint_step"));
        Assert.Equal("llama", file.GetString("general.architecture"));
    }

    /// <summary>
    /// Tolerance: both sides compute in F32 from the same F32 weights, but in different orders (llama.cpp's
    /// attention, its F16 KV cache, fused kernels), so logits agree to about 1e-3 relative (measured: 2.3e-3 absolute on logits up to 8.7, llama.cpp keeping K and V in F16); 1e-2 absolute on logits
    /// of magnitude below 20 leaves room without hiding a wrong op (a wrong rope or mask moves logits by whole units).
    /// </summary>
    [Fact]
    public void Llama_cpp_running_the_written_gguf_gives_the_trainers_logits()
    {
        LlamaNativeRuntime.EnsureInitialized();
        var path = Path.Combine(_folder, "trained.gguf");
        using var trainer = new LlamaTrainer(Options with { Steps = 60 }, Vocabulary, new Random(11), TimeProvider.System);
        trainer.Train(Documents(), new Random(12), progress: null, checkpoint: null, CancellationToken.None);
        trainer.WriteGguf(path, "trainer-test", GgmlType.F32, []);

        const string text = "12+34=46\nthe cat";
        var tokens = Vocabulary.Tokenize(text, addBos: true);
        var expected = trainer.Logits(tokens);

        var (nativeTokens, nativeLogits) = LlamaCppReference.Run(path, text, contextSize: 64);
        Assert.Equal(tokens.ToArray(), nativeTokens);
        var maxError = 0.0;
        var maxLogit = 0.0;
        for (var i = 0; i < tokens.Length; i++)
        {
            var actual = nativeLogits[i];
            Assert.Equal(expected[i].Length, actual.Length);
            for (var j = 0; j < actual.Length; j++)
            {
                var error = Math.Abs(actual[j] - expected[i][j]);
                maxError = Math.Max(maxError, error);
                maxLogit = Math.Max(maxLogit, Math.Abs(expected[i][j]));
                Assert.True(error <= 1e-2, $"position {i}, token {j}: llama.cpp {actual[j]}, trainer {expected[i][j]}");
            }

            Assert.Equal(ArgMax(expected[i]), ArgMax(actual));
        }

        output.WriteLine($"{tokens.Length} positions x {Vocabulary.Count} logits: max |llama.cpp - trainer| = {maxError:E2}, max |logit| = {maxLogit:F2}");
        // A trained model, not a near-uniform one: otherwise agreeing logits would prove little.
        Assert.True(maxLogit > 5, $"largest logit {maxLogit}");
    }

    private static int ArgMax(float[] values)
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

    /// <summary>Calls the handler on the reporting thread (Progress&lt;T&gt; would post to the thread pool).</summary>
    private sealed class SynchronousProgress<T>(Action<T> handler) : IProgress<T>
    {
        public void Report(T value) => handler(value);
    }
}
