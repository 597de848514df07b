using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Tests.Serialization;

/// <summary>Hand-built records for store, report and serialization tests.</summary>
internal static class SampleRecords
{
    public static readonly DateTimeOffset Epoch = new(2025, 3, 14, 9, 26, 53, TimeSpan.FromHours(1));

    public static ItemRecord Item(
        string model,
        string suite,
        string id,
        bool passed,
        ItemStatus status = ItemStatus.Scored,
        double totalMs = 100,
        double? flexibleValue = null,
        double? value = null) =>
        new(
            new ItemKey(model, suite, id),
            status,
            PromptText: $"<|user|>Question {id}: what is 1½ + 2? «ä»",
            RawOutput: status == ItemStatus.Failed ? "" : passed ? "3.5" : "4",
            FinishReason: status == ItemStatus.Failed ? null : FinishReason.StopSequence,
            Choices: [new ContinuationScore(" yes", -0.25, 1, 4, true), new ContinuationScore(" no", double.NegativeInfinity, 1, 3, false)],
            Scores: status == ItemStatus.Failed
                ? []
                : [new Score("exact", value ?? (passed ? 1.0 : 0.0), passed ? "3.5" : "4", flexibleValue ?? (passed ? 1.0 : 0.0), "3.5", null)],
            Passed: passed,
            Metrics: new ItemMetrics(
                PromptTokens: 40,
                GeneratedTokens: 8,
                new RequestTimings(
                    TimeSpan.FromMilliseconds(totalMs / 4),
                    TimeSpan.FromMilliseconds(totalMs / 4),
                    TimeSpan.FromMilliseconds(totalMs / 2),
                    TimeSpan.FromMilliseconds(totalMs))),
            Error: status == ItemStatus.Failed ? "llama_decode returned 1" : null,
            CompletedAt: Epoch.AddSeconds(1));

    public static ModelLoadInfo LoadInfo() =>
        new(
            "llamasharp",
            TimeSpan.FromMilliseconds(1234.5678),
            FileSizeBytes: 1_048_576,
            ResidentMemoryAfterLoadBytes: 52_428_800,
            ChatTemplate: "chatml",
            ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["threads"] = "4", ["contextSize"] = "2048" }),
            ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["LLamaSharp"] = "0.30.0", ["llama.cpp"] = "c0c7e14" }));

    public static ModelRunRecord Model(string id, ModelRunStatus status, string? failure = null, long? peak = 104_857_600) =>
        new(id, status, status == ModelRunStatus.LoadFailed ? null : LoadInfo(), peak, failure, Epoch.AddMinutes(1));

    public static RunModel RunModel(string id) =>
        new(
            new ModelEntry(
                id,
                ModelFormat.Gguf,
                new ModelSource($"models/{id}.gguf", null, null),
                new BackendOptions(2048, 4, 512, 0, ChatTemplateMode.Auto),
                "a test model",
                ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["recipe"] = "q4_0" }),
                Line: 3),
            $"/models/{id}.gguf",
            new string('a', 64),
            2_147_483_648);

    public static RunSuite FixedSuite(string name, Requirement requirement, int itemCount = 200) =>
        new(
            name,
            2,
            SuiteKind.Fixed,
            $"tasks/{name}",
            new string('b', 64),
            RequestKind.Generate,
            new GenerationSettings(64, ["\n\n", "</s>"], 0.0, 1234),
            [new ScorerSpec("exact", ImmutableSortedDictionary.CreateRange(new Dictionary<string, JsonElement>
            {
                ["ignoreCase"] = JsonDocument.Parse("true").RootElement.Clone(),
                ["pattern"] = JsonDocument.Parse("\"\\\\d+\"").RootElement.Clone(),
            }))],
            requirement,
            itemCount);

    public static RunSuite OpenSuite(string name, int itemCount = 3) =>
        new(name, 1, SuiteKind.Open, $"tasks/{name}", new string('c', 64), RequestKind.LogLikelihood,
            new GenerationSettings(1, [], 0.0, 0), [new ScorerSpec("choice", ImmutableSortedDictionary<string, JsonElement>.Empty)], null, itemCount);

    public static HostFacts Host(bool debug = false) =>
        new("AMD EPYC 7763", ["avx2", "fma"], 2, 25_769_803_776, "Linux 6.1", "X64", "10.0.0", debug, "ci-host");

    public static RunManifest Manifest(ImmutableArray<RunModel> models, ImmutableArray<RunSuite> suites, bool debug = false) =>
        new(
            RunManifest.CurrentSchemaVersion,
            "2025-03-14T09-26-53-abc123",
            Epoch,
            "/work/models.manifest",
            new string('d', 64),
            models,
            suites,
            Host(debug),
            ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["harness"] = "0.1.0", ["LLamaSharp"] = "0.30.0" }));

    public static RunManifest Manifest() =>
        Manifest(
            [RunModel("tiny"), RunModel("small")],
            [FixedSuite("arith", new Requirement(0.9, 0.95, TimeSpan.FromMilliseconds(500), null)), OpenSuite("stories")]);
}
