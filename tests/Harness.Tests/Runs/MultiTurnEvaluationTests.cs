using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Store.Sqlite;
using Harness.Tests.Fakes;
using Microsoft.Data.Sqlite;

namespace Harness.Tests.Runs;

public sealed class MultiTurnEvaluationTests : IDisposable
{
    private static readonly DateTimeOffset Now = new(2026, 1, 2, 3, 4, 5, TimeSpan.Zero);

    private readonly string _runDirectory = Path.Combine(Path.GetTempPath(), "harness-multiturn-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_runDirectory))
        {
            Directory.Delete(_runDirectory, recursive: true);
        }
    }

    // Two turns: "a+b=" then "times two?"; the scorer compares the last answer with the target.
    private static Suite Conversation(int items) => TestSuites.Addition(items) with
    {
        Prompt = new PromptTemplate("{{a}}+{{b}}=", "sys", [], "\n", ["times {{b}}?"]),
    };

    private static async Task<(InMemoryRunStore Store, List<RenderedPrompt> Prompts)> RunAsync(Suite suite)
    {
        var prompts = new List<RenderedPrompt>();
        var backend = new FakeBackend(prompt =>
        {
            prompts.Add(prompt);
            return prompt.Messages.Count(m => m.Role == "user") == 1 ? "first" : "second";
        });
        var store = new InMemoryRunStore();
        await using var session = await backend.LoadAsync(TestSuites.Model("m").Entry, "/models/m.gguf", CancellationToken.None);
        await new ModelEvaluator(store, new FixedClock(Now)).EvaluateAsync(
            "m", session, [TestSuites.Prepare(suite)], new HashSet<ItemKey>(), null, CancellationToken.None);
        return (store, prompts);
    }

    [Fact]
    public async Task Turn_two_is_sent_with_the_first_question_and_answer_and_the_record_keeps_every_turn()
    {
        var (store, prompts) = await RunAsync(Conversation(1));

        Assert.Equal(2, prompts.Count);
        Assert.Equal(
            new[] { new ChatMessage("system", "sys"), new ChatMessage("user", "0+1="), new ChatMessage("assistant", "first"), new ChatMessage("user", "times 1?") },
            prompts[1].Messages);
        Assert.Equal("sys\n0+1=first\ntimes 1?", prompts[1].PlainText);

        var record = Assert.Single(store.Items);
        var turns = record.Turns!.Value;
        Assert.Equal(["sys\n0+1=", "sys\n0+1=first\ntimes 1?"], turns.Select(t => t.PromptText));
        Assert.Equal(["first", "second"], turns.Select(t => t.Output));
        Assert.Equal("second", record.RawOutput);
        Assert.Equal(turns[1].PromptText, record.PromptText);
        Assert.Equal("second", record.Scores[0].Answer); // scorers see the last turn
        Assert.Equal(turns.Sum(t => t.PromptTokens), record.Metrics.PromptTokens);
        Assert.Equal(turns.Sum(t => t.GeneratedTokens), record.Metrics.GeneratedTokens);
        Assert.Equal(turns[0].Timings.TimeToFirstToken, record.Metrics.Timings.TimeToFirstToken);
        Assert.Equal(turns[0].Timings.Total + turns[1].Timings.Total, record.Metrics.Timings.Total);
    }

    [Fact]
    public async Task A_single_turn_suite_records_no_turns()
    {
        var (store, prompts) = await RunAsync(TestSuites.Addition(2));

        Assert.Equal(2, prompts.Count);
        Assert.All(store.Items, i => Assert.Null(i.Turns));
        Assert.DoesNotContain("turns", HarnessJson.Serialize(store.Items[0]), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Turns_round_trip_through_the_sqlite_store_and_an_old_store_without_turns_still_reads()
    {
        var (memory, _) = await RunAsync(Conversation(1));
        var record = Assert.Single(memory.Items);
        await using (var store = await SqliteRunStore.OpenAsync(_runDirectory, CancellationToken.None))
        {
            await store.AppendItemAsync(record, CancellationToken.None);
        }

        // A row as a store written before turns existed holds it: the payload has no "turns" property at all.
        var old = record with { Key = record.Key with { ItemId = "old" }, Turns = null };
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(_runDirectory, SqliteRunStore.FileName)};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "INSERT INTO items (model_id, suite, item_id, status, passed, completed_at, payload) VALUES ('m', 'add', 'old', 'scored', 0, 'x', $p);";
            command.Parameters.AddWithValue("$p", HarnessJson.Serialize(old));
            await command.ExecuteNonQueryAsync();
        }

        var read = new List<ItemRecord>();
        await using (var store = await SqliteRunStore.OpenAsync(_runDirectory, CancellationToken.None))
        {
            await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
            {
                read.Add(item);
            }
        }

        Assert.Equal(2, read.Count);
        Assert.Equal<TurnRecord>(record.Turns!.Value, read[0].Turns!.Value);
        Assert.Equal(record.Metrics, read[0].Metrics);
        Assert.Null(read[1].Turns);
        Assert.Equal("second", read[1].RawOutput);
    }
}
