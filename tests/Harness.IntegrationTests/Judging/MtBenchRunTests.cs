using Harness.Tests.Tasks;
using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Harness.Core.Judging;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.IntegrationTests.Cli;
using Harness.Store.Sqlite;
using Harness.Tasks;
using Harness.Tasks.Catalog;
using Harness.Tasks.Catalog.Recipes;

namespace Harness.IntegrationTests.Judging;

/// <summary>
/// The mt-bench suite end to end with stories260K as candidate and judge: it cannot answer or grade, but the two turns
/// are sent as a conversation and, under MT-bench's grammar, every turn's judgement parses.
/// </summary>
[Trait("Category", "Model")]
public sealed class MtBenchRunTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(20);

    private sealed class LocalFiles(IBenchmarkRecipe recipe) : IRecipeFiles
    {
        public Stream Open(string path)
        {
            var file = recipe.Source.Files.Single(f => f.Path == path);
            var bytes = File.ReadAllBytes(SharedDatasets.PathOf(Path.Combine(recipe.Source.LocalFolder, file.LocalPath)));
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            return new MemoryStream(bytes, writable: false);
        }
    }

    private sealed class Converted(ConvertedSuite suite) : ITaskGenerator
    {
        public SuiteDefinition Definition => suite.Definition;

        public ImmutableArray<SuiteItem> GenerateEvaluation() => suite.Items;

        public IEnumerable<TrainingExample> GenerateTraining(int seed, int count) => [];
    }

    [RequiresSharedModelFact]
    public async Task Three_items_run_as_conversations_and_every_turn_gets_a_parsed_rating_from_the_judge_named_by_the_run()
    {
        Assert.True(Directory.Exists(SharedDatasets.PathOf("mt_bench")), "the shared MT-bench copy is missing: " + SharedDatasets.PathOf("mt_bench"));
        using var ws = new HarnessProcess.Workspace();
        var recipe = new MtBenchRecipe();
        var converted = Assert.Single(recipe.Convert(new LocalFiles(recipe), CancellationToken.None));
        // Three items, one of them graded against a reference (101, reasoning); short answers keep the char-level model quick.
        ImmutableArray<SuiteItem> three = [.. converted.Items.Where(i => i.Id is "81" or "82" or "101")];
        var small = new ConvertedSuite(converted.Definition with { Generation = converted.Definition.Generation! with { MaxTokens = 24 } }, three);
        TaskWriter.Write(new Converted(small), Path.Combine(ws.Root, "bench"));
        var models = SharedModels.Stories260KPath.Replace("\\", "/", StringComparison.Ordinal);
        await File.AppendAllTextAsync(Path.Combine(ws.Root, "models.manifest"), $"""

              - id: stories
                path: "{models}"
                format: gguf
                backend: {"{"} context_size: 2048, chat_template: none {"}"}
              - id: stories-judge
                path: "{models}"
                format: gguf
                backend: {"{"} context_size: 8192, chat_template: none {"}"}

            """);

        var missing = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--suite", "bench/mt-bench", "--model", "stories", "--idle-baseline", "0");
        Assert.NotEqual(0, missing.ExitCode);
        // The redirected console wraps at its own width: compare with whitespace folded.
        var refused = System.Text.RegularExpressions.Regex.Replace(missing.Output + missing.Error, @"\s+", " ");
        Assert.Contains("the judge model 'mt-bench-judge' is not in", refused, StringComparison.Ordinal);
        Assert.Contains("--judge <model-id>", refused, StringComparison.Ordinal);
        Assert.Empty(Directory.Exists(ws.Results) ? Directory.GetFiles(ws.Results, "store.sqlite", SearchOption.AllDirectories) : []);

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--suite", "bench/mt-bench", "--model", "stories",
            "--judge", "stories-judge", "--idle-baseline", "0");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var dir = Directory.GetDirectories(ws.Results).Single(d => File.Exists(Path.Combine(d, "store.sqlite")) && File.Exists(Path.Combine(d, "report.md")));
        var manifest = await RunManifestFile.ReadAsync(dir, CancellationToken.None);
        Assert.Equal("stories-judge", Assert.Single(manifest.Judges!.Models).Entry.Id);
        Assert.Equal("stories-judge", Assert.Single(manifest.Suites).Scorers[0].Arguments["model"].GetString());
        await using var store = await SqliteRunStore.OpenAsync(dir, CancellationToken.None);
        var items = new List<ItemRecord>();
        await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
        {
            items.Add(item);
        }

        Assert.Equal(3, items.Count);
        Assert.All(items, item =>
        {
            Assert.Equal(ItemStatus.Scored, item.Status);
            var turns = item.Turns!.Value;
            Assert.Equal(2, turns.Length);
            var question = three.Single(i => i.Id == item.Key.ItemId);
            // Plain rendering: turn 1, its answer, the separator, turn 2.
            Assert.Equal(question.Fields["turn_1"].GetString() + turns[0].Output + "\n" + question.Fields["turn_2"].GetString(), turns[1].PromptText);
            Assert.Equal(turns[1].Output, item.RawOutput);
        });

        var judgements = new List<JudgementRecord>();
        await foreach (var j in store.ReadJudgementsAsync(CancellationToken.None))
        {
            judgements.Add(j);
        }

        Assert.Equal(3, judgements.Count);
        Assert.All(judgements, j =>
        {
            Assert.Null(j.Error);
            Assert.Equal(2, j.Calls.Length);
            Assert.All(j.Calls, c => Assert.NotNull(MtBenchJudge.ParseRating(c.RawOutput)));
            Assert.InRange(j.Score, 1, 10);
        });
        Assert.Equal(["turn-1 single-math-v1", "turn-2 single-math-v1-multi-turn"], judgements.Single(j => j.ItemId == "101").Calls.Select(c => c.Order));
        Assert.Equal(["turn-1 single-v1", "turn-2 single-v1-multi-turn"], judgements.Single(j => j.ItemId == "81").Calls.Select(c => c.Order));
        var markdown = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"));
        Assert.Contains("MT-bench score = 1 + 9 × score", markdown, StringComparison.Ordinal);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "report.json")));
        Assert.Equal(3, report.RootElement.GetProperty("openSuites")[0].GetProperty("judge").GetProperty("judged").GetInt32());
    }
}
