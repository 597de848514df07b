using System.Collections.Immutable;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.IntegrationTests.Llama;
using Harness.Store.Sqlite;
using Harness.Tasks.Catalog;
using Harness.Tasks.Catalog.Recipes;

namespace Harness.IntegrationTests.Cli;

/// <summary>
/// Winogrande's partial scoring through the real CLI, its worker process and llama.cpp on stories260K: every choice's
/// recorded log-likelihood is the shared continuation's under that choice's own context, as scored in-process.
/// </summary>
[Trait("Category", "Model")]
public sealed class PartialScoringRunTests
{
    // The first four rows of nutcracker-db's winogrande/test.json, verbatim.
    private const string Rows = """
        {"centerpiece": "Sarah was a much better surgeon than Maria so _ always got the easier cases.", "options": ["Sarah", "Maria"], "correct_options": ["B"], "correct_options_literal": ["Maria"], "correct_options_idx": [1]}
        {"centerpiece": "Sarah was a much better surgeon than Maria so _ always got the harder cases.", "options": ["Sarah", "Maria"], "correct_options": ["A"], "correct_options_literal": ["Sarah"], "correct_options_idx": [0]}
        {"centerpiece": "They were worried the wine would ruin the bed and the blanket, but the _ was't ruined.", "options": ["blanket", "bed"], "correct_options": ["B"], "correct_options_literal": ["bed"], "correct_options_idx": [1]}
        {"centerpiece": "Terry tried to bake the eggplant in the toaster oven but the _ was too big.", "options": ["eggplant", "toaster"], "correct_options": ["A"], "correct_options_literal": ["eggplant"], "correct_options_idx": [0]}
        """;

    [RequiresSharedModelFact]
    public async Task A_winogrande_run_scores_the_continuation_under_each_options_context_through_the_worker()
    {
        var converted = Assert.Single(new WinograndeRecipe().Convert(new LiteralFiles(Rows), CancellationToken.None));
        using var ws = new HarnessProcess.Workspace();
        WriteSuite(converted, Path.Combine(ws.Root, "tasks", "winogrande"));
        await File.WriteAllTextAsync(Path.Combine(ws.Root, "stories.manifest"), $"""
            version: 1
            defaults:
              context_size: 256
              threads: 1
              batch_size: 64
              gpu_layers: 0
              chat_template: none
            models:
              - id: stories260k
                path: {JsonSerializer.Serialize(SharedModels.Stories260KPath)}
                format: gguf
            """);

        var run = await HarnessProcess.RunAsync(ws.Root, TimeSpan.FromMinutes(4),
            "run", "--models", "stories.manifest", "--suite", "tasks/winogrande", "--model", "stories260k");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var records = await ReadItemsAsync(ws.SingleRunDirectory());
        Assert.Equal(4, records.Count);
        await using var session = await LlamaTestModels.LoadStoriesAsync(contextSize: 256, threads: 1, batchSize: 64);
        var scorer = (ILogLikelihoodScorer)session;
        foreach (var record in records)
        {
            var item = converted.Items.Single(i => i.Id == record.Key.ItemId);
            var contexts = PromptRenderer.RenderChoiceContexts(converted.Definition.Prompt, item);
            var continuation = PromptRenderer.RenderContinuation(converted.Definition.Prompt, item);
            Assert.Equal(contexts[0].PlainText, record.PromptText);
            Assert.Equal(item.Choices.ToArray(), record.Choices.Select(c => c.Continuation).ToArray());
            for (var i = 0; i < contexts.Length; i++)
            {
                var direct = Assert.Single((await scorer.ScoreContinuationsAsync(
                    new LogLikelihoodRequest(contexts[i], [continuation]), CancellationToken.None)).Continuations);
                Assert.Equal(direct.LogProbability, record.Choices[i].LogProbability, 1e-4);
                Assert.Equal(direct.TokenCount, record.Choices[i].TokenCount);
                Assert.Equal(Encoding.UTF8.GetByteCount(continuation), record.Choices[i].ByteCount);
            }
            var best = record.Choices.MaxBy(c => c.LogProbability)!;
            Assert.Equal(best.Continuation, record.RawOutput);
            Assert.Equal(best.Continuation == item.Target, record.Passed);
            // The same continuation bytes under every choice: byte normalisation cannot change the pick.
            Assert.Equal(record.RawOutput, Assert.Single(record.Scores, s => s.Scorer == ModelEvaluator.NormalizedChoiceScorer).Answer);
        }
    }

    private static void WriteSuite(ConvertedSuite suite, string directory)
    {
        Directory.CreateDirectory(directory);
        var prompt = suite.Definition.Prompt;
        File.WriteAllText(Path.Combine(directory, SuiteLoader.SuiteFileName), $"""
            name: winogrande
            version: 1
            kind: open
            request: loglikelihood
            prompt:
              template: {JsonSerializer.Serialize(prompt.Template)}
              continuation: {JsonSerializer.Serialize(prompt.Continuation)}
            scorers:
              - name: choice

            """);
        var options = new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
        var lines = suite.Items.Select(item =>
        {
            var row = new Dictionary<string, object?> { ["id"] = item.Id };
            foreach (var (name, value) in item.Fields)
            {
                row[name] = value;
            }
            row["target"] = item.Target;
            row["choices"] = item.Choices.ToArray();
            return JsonSerializer.Serialize(row, options);
        });
        File.WriteAllText(Path.Combine(directory, SuiteLoader.ItemsFileName), string.Join("\n", lines) + "\n");
    }

    private static async Task<IReadOnlyList<ItemRecord>> ReadItemsAsync(string runDirectory)
    {
        var store = await SqliteRunStore.OpenAsync(runDirectory, CancellationToken.None);
        await using (store)
        {
            var items = new List<ItemRecord>();
            await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
            {
                items.Add(item);
            }
            return items;
        }
    }

    /// <summary>The recipe's one file, from a literal (the hash pinning is the fetch's job and tested there).</summary>
    private sealed class LiteralFiles(string text) : IRecipeFiles
    {
        public Stream Open(string path) => new MemoryStream(Encoding.UTF8.GetBytes(text.ReplaceLineEndings("\n")), writable: false);
    }
}
