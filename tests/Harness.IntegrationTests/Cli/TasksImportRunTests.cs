using System.Text;
using System.Text.Json;
using Harness.Core.Runs;
using Harness.Store.Sqlite;

namespace Harness.IntegrationTests.Cli;

/// <summary>The user's own CSV, imported and evaluated by the real CLI on a shipped tiny model.</summary>
[Trait("Category", "Model")]
public sealed class TasksImportRunTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task An_imported_csv_runs_and_its_liquid_prompts_get_the_answers_the_placeholder_suite_gets()
    {
        using var ws = new HarnessProcess.Workspace();
        // The first 20 items of the shipped arith suite as a CSV with a quoted header and a column the prompt ignores.
        var csv = new StringBuilder("left,right,\"sum, decimal\",note\n");
        foreach (var line in File.ReadLines(Path.Combine(ws.Root, "tasks", "arith", "items.jsonl")).Take(20))
        {
            using var item = JsonDocument.Parse(line);
            var r = item.RootElement;
            csv.Append($"{r.GetProperty("a").GetRawText()},{r.GetProperty("b").GetRawText()},{r.GetProperty("target").GetString()},\"from arith, {r.GetProperty("id").GetString()}\"\n");
        }
        await File.WriteAllTextAsync(Path.Combine(ws.Root, "mine.csv"), csv.ToString());

        var import = await HarnessProcess.RunAsync(ws.Root, Timeout, "tasks", "import", "mine.csv", "--name", "mine", "--kind", "fixed",
            "--template", "{{ left }}+{{ right }}=", "--target", "sum, decimal", "--scorer", "numeric:{\"tolerance\":0}", "--max-tokens", "4", "--bar", "0.5");
        Assert.True(import.ExitCode == 0, import.Output + import.Error);

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--suite", "tasks/arith", "--suite", "tasks/mine", "--model", "tiny-bigram");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var items = await ReadItemsAsync(ws.SingleRunDirectory());
        var imported = items.Where(i => i.Key.Suite == "mine").ToList();
        Assert.Equal(20, imported.Count);
        var arith = items.Where(i => i.Key.Suite == "arith").ToDictionary(i => i.PromptText);
        Assert.All(imported, i =>
        {
            Assert.Equal(arith[i.PromptText].RawOutput, i.RawOutput);
            Assert.Equal(arith[i.PromptText].Passed, i.Passed);
        });
        Assert.Contains("## mine", await File.ReadAllTextAsync(Path.Combine(ws.SingleRunDirectory(), "report.md")), StringComparison.Ordinal);
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
}
