using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Store.Sqlite;

namespace Harness.Benchmarks.ReportScale;

/// <summary>
/// The shape of a synthetic run: how many items per suite, and the seed every figure is drawn from. The defaults are
/// the benchmark's scale: ten models x MMLU's 14,042 test items plus a generate and an open suite, about 144,000 records.
/// </summary>
/// <param name="Variant">0 for run A; another value flips a few answers per model (run B of <c>harness report A B</c>).</param>
public sealed record SyntheticRunShape(int MmluItems = 14_042, int GenerateItems = 250, int OpenItems = 80, int Seed = 13, int Variant = 0)
{
    /// <summary>Item records the run holds.</summary>
    public int TotalItems => SyntheticRun.Models.Length * (MmluItems + GenerateItems + OpenItems);
}

/// <summary>
/// Writes a run folder (run.json and store.sqlite through <see cref="SqliteRunStore"/>) that <c>harness report</c> reads
/// as it reads a real run, with records of realistic size: MMLU-length five-shot prompts, four choices with
/// log-probabilities, both accuracies, timings and measured energy. Deterministic: the same shape gives the same bytes
/// in the store. Models come in families (<c>base_model</c>), so the report draws quantization ladders; the open suite
/// gives the frontier its bootstraps.
/// </summary>
public static class SyntheticRun
{
    /// <summary>Model id, its family's base model (null: no family), file size, and its accuracy on MMLU.</summary>
    internal static readonly ImmutableArray<(string Id, string? Base, long Bytes, double Accuracy, double PromptTokensPerSecond)> Models =
    [
        ("llama-3-8b-f16", "llama-3-8b", 16_060_000_000, 0.66, 380),
        ("llama-3-8b-q8_0", "llama-3-8b", 8_540_000_000, 0.655, 520),
        ("llama-3-8b-q4_k_m", "llama-3-8b", 4_920_000_000, 0.64, 610),
        ("mistral-7b-f16", "mistral-7b", 14_480_000_000, 0.62, 400),
        ("mistral-7b-q8_0", "mistral-7b", 7_700_000_000, 0.615, 560),
        ("mistral-7b-q4_0", "mistral-7b", 4_110_000_000, 0.59, 650),
        ("qwen-2-1.5b-f16", "qwen-2-1.5b", 3_090_000_000, 0.55, 1_700),
        ("qwen-2-1.5b-q4_0", "qwen-2-1.5b", 940_000_000, 0.52, 2_600),
        ("phi-2-q8_0", null, 2_960_000_000, 0.56, 1_500),
        ("tinyllama-1.1b-q4_0", null, 640_000_000, 0.26, 3_400),
    ];

    private static readonly DateTimeOffset Start = new(2026, 12, 1, 8, 0, 0, TimeSpan.Zero);

    private static readonly string[] Words =
    [
        "the", "of", "which", "following", "is", "a", "an", "statement", "about", "true", "false", "question", "answer",
        "energy", "cell", "market", "theorem", "law", "court", "enzyme", "protein", "velocity", "function", "integer",
        "prime", "contract", "plaintiff", "defendant", "economy", "inflation", "demand", "supply", "philosophy", "Kant",
        "moral", "virtue", "ethics", "anatomy", "nerve", "muscle", "artery", "virus", "bacteria", "algorithm", "graph",
        "vector", "matrix", "electron", "photon", "reaction", "acid", "base", "history", "empire", "treaty", "war",
        "century", "population", "policy", "security", "network", "protocol", "memory", "probability",
    ];

    private const int BatchSize = 2_000;

    /// <summary>Writes the run folder <c>&lt;resultsDirectory&gt;/&lt;runId&gt;</c> and returns its path.</summary>
    public static async Task<string> WriteAsync(string resultsDirectory, string runId, SyntheticRunShape shape, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(shape);
        string runDirectory = Path.Combine(Path.GetFullPath(resultsDirectory), runId);
        if (Directory.Exists(runDirectory))
        {
            throw new InvalidOperationException($"{runDirectory}: already exists; a synthetic run is written into a new folder only.");
        }

        RunManifest manifest = Manifest(runId, shape);
        await RunManifestFile.WriteAsync(manifest, runDirectory, cancellationToken);
        var store = await SqliteRunStore.OpenAsync(runDirectory, cancellationToken);
        await using (store)
        {
            for (int m = 0; m < Models.Length; m++)
            {
                var batch = new List<ItemRecord>(BatchSize);
                foreach (ItemRecord item in ItemsOf(m, manifest.Suites, shape))
                {
                    batch.Add(item);
                    if (batch.Count == BatchSize)
                    {
                        await store.AppendItemsAsync(batch, cancellationToken);
                        batch.Clear();
                    }
                }

                if (batch.Count > 0)
                {
                    await store.AppendItemsAsync(batch, cancellationToken);
                }

                await store.RecordModelAsync(ModelRecord(m), cancellationToken);
            }
        }

        return runDirectory;
    }

    internal static RunManifest Manifest(string runId, SyntheticRunShape shape)
    {
        var options = new BackendOptions(4096, 8, 512, 0, ChatTemplateMode.None);
        ImmutableArray<RunModel> models = [.. Models.Select(m => new RunModel(
            new ModelEntry(m.Id, ModelFormat.Gguf, new ModelSource($"models/{m.Id}.gguf", null, null), options, "synthetic model for the report-scale benchmark",
                m.Base is null
                    ? ImmutableSortedDictionary<string, string>.Empty
                    : ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string> { ["base_model"] = m.Base }),
                Line: 1),
            $"/models/{m.Id}.gguf", Hex(Mix((ulong)m.Bytes, 1)), m.Bytes))];
        ImmutableArray<RunSuite> suites =
        [
            new("mmlu", 1, SuiteKind.Fixed, "tasks/mmlu", Hex(2), RequestKind.LogLikelihood, new GenerationSettings(1, [], 0, 0),
                [Spec("choice")], new Requirement(0.6, 0.95, null, null), shape.MmluItems),
            new("gsm8k-cot", 1, SuiteKind.Fixed, "tasks/gsm8k-cot", Hex(3), RequestKind.Generate,
                new GenerationSettings(256, ["Question:", "</s>"], 0, 1234), [Spec("exact")], new Requirement(0.3, 0.95, TimeSpan.FromSeconds(20), null),
                shape.GenerateItems),
            new("mt-bench-open", 1, SuiteKind.Open, "tasks/mt-bench-open", Hex(4), RequestKind.Generate,
                new GenerationSettings(512, ["</s>"], 0, 1234), [Spec("rubric")], null, shape.OpenItems),
        ];
        return new RunManifest(
            RunManifest.CurrentSchemaVersion, runId, Start, "/work/models.manifest", Hex(5), models, suites,
            new HostFacts("synthetic CPU", ["avx2", "fma"], 16, 68_719_476_736, "Linux 6.1", "X64", "10.0.0", false, "synthetic-host"),
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string> { ["harness"] = "0.1.0", ["LLamaSharp"] = "0.30.0" }));
    }

    private static ScorerSpec Spec(string name) => new(name, ImmutableSortedDictionary<string, JsonElement>.Empty);

    private static ModelRunRecord ModelRecord(int m)
    {
        var model = Models[m];
        var load = new ModelLoadInfo("llamasharp", TimeSpan.FromMilliseconds(800 + model.Bytes / 10_000_000), model.Bytes, model.Bytes + 300_000_000,
            "none", ImmutableSortedDictionary<string, string>.Empty, ImmutableSortedDictionary<string, string>.Empty);
        return new ModelRunRecord(model.Id, ModelRunStatus.Completed, load, model.Bytes + 900_000_000, null, Start.AddHours(m + 1));
    }

    /// <summary>The model's records, suite by suite in manifest order.</summary>
    internal static IEnumerable<ItemRecord> ItemsOf(int m, ImmutableArray<RunSuite> suites, SyntheticRunShape shape)
    {
        for (int s = 0; s < suites.Length; s++)
        {
            for (int i = 0; i < suites[s].ItemCount; i++)
            {
                yield return suites[s].Name switch
                {
                    "mmlu" => ChoiceItem(m, s, i, shape),
                    _ => GeneratedItem(m, s, i, suites[s], shape),
                };
            }
        }
    }

    // Whether the model knows the item: one difficulty per item shared by every model (so a quantization mostly agrees
    // with its base), a little noise per model, and run B's flips.
    private static bool Knows(int m, int s, int i, double accuracy, SyntheticRunShape shape)
    {
        double difficulty = Uniform(shape.Seed, 0, s, i);
        double noise = (Uniform(shape.Seed, m + 1, s, i) - 0.5) * 0.1;
        bool knows = difficulty + noise < accuracy;
        // Run B: one item in 40 comes out the other way.
        return shape.Variant != 0 && Uniform(shape.Seed + shape.Variant, m + 1, s + 7, i) < 0.025 ? !knows : knows;
    }

    private static ItemRecord ChoiceItem(int m, int s, int i, SyntheticRunShape shape)
    {
        var model = Models[m];
        bool correct = Knows(m, s, i, model.Accuracy, shape);
        int target = (int)(Uniform(shape.Seed, 0, s + 100, i) * 4);
        int chosen = correct ? target : (target + 1 + (int)(Uniform(shape.Seed, m + 1, s + 200, i) * 3)) % 4;
        var choices = ImmutableArray.CreateBuilder<ContinuationScore>(4);
        for (int c = 0; c < 4; c++)
        {
            double logProbability = c == chosen ? -0.4 - Uniform(shape.Seed, m + 1, c, i) : -1.6 - 3 * Uniform(shape.Seed, m + 1, c + 10, i);
            choices.Add(new ContinuationScore(" " + (char)('A' + c), logProbability, 1, 2, c == chosen));
        }

        string answer = " " + (char)('A' + chosen);
        double value = correct ? 1 : 0;
        string prompt = Prompt(shape.Seed, s, i, 1_900 + (int)(Uniform(shape.Seed, 0, s + 300, i) * 1_600));
        int promptTokens = prompt.Length / 4;
        TimeSpan promptTime = TimeSpan.FromSeconds(promptTokens / model.PromptTokensPerSecond);
        TimeSpan total = promptTime + TimeSpan.FromMilliseconds(4 * (1 + Uniform(shape.Seed, m + 1, s + 400, i)));
        return new ItemRecord(
            new ItemKey(model.Id, "mmlu", i.ToString("D5", CultureInfo.InvariantCulture)),
            ItemStatus.Scored,
            prompt,
            answer,
            null,
            choices.MoveToImmutable(),
            [new Score("choice", value, answer, value, answer, null), new Score(ModelEvaluator.NormalizedChoiceScorer, value, answer, value, answer, null)],
            correct,
            new ItemMetrics(promptTokens, 0, new RequestTimings(promptTime, promptTime, TimeSpan.Zero, total)),
            null,
            Start.AddHours(m + 1).AddMilliseconds(i * 120.0),
            Energy(m, s, i, total, shape));
    }

    private static ItemRecord GeneratedItem(int m, int s, int i, RunSuite suite, SyntheticRunShape shape)
    {
        var model = Models[m];
        bool open = suite.Kind == SuiteKind.Open;
        string id = i.ToString("D4", CultureInfo.InvariantCulture);
        var key = new ItemKey(model.Id, suite.Name, id);
        TimeSpan completedAfter = TimeSpan.FromHours(m + 1.5) + TimeSpan.FromSeconds(i * 3.0);
        // One model times out on a few generations: failures the report lists (they count as wrong answers).
        if (!open && m == 9 && i % 50 == 7)
        {
            return new ItemRecord(key, ItemStatus.Failed, Prompt(shape.Seed, s, i, 3_000), "", null, [], [], false,
                new ItemMetrics(750, 0, new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.FromSeconds(60))),
                "the request ran past its 60 s deadline; the worker was killed", Start.Add(completedAfter), null, ItemFailureKind.Timeout);
        }

        double accuracy = open ? model.Accuracy + 0.1 : model.Accuracy - 0.25;
        bool knows = Knows(m, s, i, accuracy, shape);
        int number = (int)(Uniform(shape.Seed, 0, s + 500, i) * 1000);
        string output = open
            ? Prompt(shape.Seed + m + 1, s + 600, i, 600 + (int)(Uniform(shape.Seed, m + 1, s + 700, i) * 900))
            : "Let's think step by step. " + Prompt(shape.Seed + m + 1, s + 600, i, 240) + string.Create(CultureInfo.InvariantCulture,
                $" The answer is {(knows ? number : number + 1)}.");
        // Open-suite scores are a rubric's 1-10 rating scaled to [0, 1].
        double value = open ? Math.Clamp(Math.Round(10 * (accuracy + (Uniform(shape.Seed, m + 1, s + 800, i) - 0.5) * 0.6)), 1, 10) / 10 : knows ? 1 : 0;
        int generatedTokens = output.Length / 4;
        int promptTokens = open ? 180 : 900;
        TimeSpan promptTime = TimeSpan.FromSeconds(promptTokens / model.PromptTokensPerSecond);
        TimeSpan generation = TimeSpan.FromSeconds(generatedTokens / (model.PromptTokensPerSecond / 12));
        TimeSpan total = promptTime + generation;
        string answer = open ? value.ToString("0.0", CultureInfo.InvariantCulture) : (knows ? number : number + 1).ToString(CultureInfo.InvariantCulture);
        return new ItemRecord(
            key,
            ItemStatus.Scored,
            Prompt(shape.Seed, s, i, open ? 700 : 3_600),
            output,
            FinishReason.StopSequence,
            [],
            [new Score(suite.Scorers[0].Name, value, answer, value, answer, null)],
            value >= 1,
            new ItemMetrics(promptTokens, generatedTokens, new RequestTimings(promptTime + TimeSpan.FromMilliseconds(5), promptTime, generation, total)),
            null,
            Start.Add(completedAfter),
            Energy(m, s, i, total, shape));
    }

    private static EnergyReading Energy(int m, int s, int i, TimeSpan window, SyntheticRunShape shape)
    {
        double watts = 18 + 10 * Uniform(shape.Seed, m + 1, s + 900, i);
        double net = watts * window.TotalSeconds;
        const double baseline = 6;
        return new EnergyReading("rapl", EnergyQuality.Measured, "CPU packages and DRAM", EnergyAttribution.Exclusive, window,
            net + baseline * window.TotalSeconds, baseline, net, 0.002 + 0.01 * net, null, null, []);
    }

    // Text of about the given length from a fixed vocabulary, different per (suite, item).
    private static string Prompt(int seed, int s, int i, int length)
    {
        var text = new StringBuilder(length + 16);
        ulong state = Mix((ulong)seed, (ulong)((long)s << 32 | (uint)i));
        while (text.Length < length)
        {
            state = Mix(state, 0x9E37);
            text.Append(Words[(int)(state % (ulong)Words.Length)]);
            text.Append((state >> 20) % 13 == 0 ? ".\n" : " ");
        }

        return text.ToString();
    }

    private static double Uniform(int seed, int a, int b, int c) =>
        (Mix(Mix(Mix((ulong)seed, (ulong)a), (ulong)b), (ulong)c) >> 11) * (1.0 / (1UL << 53));

    // SplitMix64's finaliser over a combined state: stable across processes, unlike HashCode.
    private static ulong Mix(ulong state, ulong value)
    {
        ulong z = state + 0x9E3779B97F4A7C15UL * (value + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    private static string Hex(ulong value) => string.Concat(Enumerable.Range(0, 4).Select(k => Mix(value, (ulong)k).ToString("x16", CultureInfo.InvariantCulture)));
}
