using Harness.Core.Comparison;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Store.Sqlite;
using Harness.Tests.Serialization;
using Microsoft.Data.Sqlite;

namespace Harness.Tests.Store;

public sealed class SqliteRunStoreTests : IDisposable
{
    private readonly string _runDirectory = Path.Combine(Path.GetTempPath(), "harness-store-" + Guid.NewGuid().ToString("N"), "run-1");

    public void Dispose()
    {
        string root = Path.GetDirectoryName(_runDirectory)!;
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
    }

    private Task<SqliteRunStore> Open() => SqliteRunStore.OpenAsync(_runDirectory, CancellationToken.None);

    private static async Task<List<ItemRecord>> ReadAll(SqliteRunStore store)
    {
        var items = new List<ItemRecord>();
        await foreach (ItemRecord item in store.ReadItemsAsync(CancellationToken.None))
        {
            items.Add(item);
        }

        return items;
    }

    [Fact]
    public async Task Items_round_trip_in_commit_order()
    {
        await using SqliteRunStore store = await Open();
        ItemRecord[] written =
        [
            SampleRecords.Item("m", "s", "z-last-id-first", passed: true, totalMs: 12.5),
            SampleRecords.Item("m", "s", "a", passed: false),
            SampleRecords.Item("m", "s", "f", passed: false, status: ItemStatus.Failed),
        ];
        foreach (ItemRecord item in written)
        {
            await store.AppendItemAsync(item, CancellationToken.None);
        }

        List<ItemRecord> read = await ReadAll(store);

        Assert.Equal(written.Select(i => i.Key), read.Select(i => i.Key));
        Assert.Equal(TimeSpan.FromMilliseconds(12.5), read[0].Metrics.Timings.Total);
        Assert.Equal(ItemStatus.Failed, read[2].Status);
        Assert.Equal("llama_decode returned 1", read[2].Error);
        Assert.Equal(written[0].PromptText, read[0].PromptText);
        Assert.Equal(Path.Combine(Path.GetFullPath(_runDirectory), "store.sqlite"), store.FilePath);
    }

    [Fact]
    public async Task Recorded_keys_cover_scored_and_failed_items()
    {
        await using SqliteRunStore store = await Open();
        await store.AppendItemAsync(SampleRecords.Item("m", "s", "1", passed: true), CancellationToken.None);
        await store.AppendItemAsync(SampleRecords.Item("m", "s", "2", passed: false, status: ItemStatus.Failed), CancellationToken.None);
        await store.AppendItemAsync(SampleRecords.Item("n", "s", "1", passed: true), CancellationToken.None);

        IReadOnlySet<ItemKey> keys = await store.GetRecordedKeysAsync(CancellationToken.None);

        Assert.Equal(3, keys.Count);
        Assert.Contains(new ItemKey("m", "s", "2"), keys);
        Assert.Contains(new ItemKey("n", "s", "1"), keys);
        Assert.DoesNotContain(new ItemKey("n", "s", "2"), keys);
    }

    [Fact]
    public async Task Appending_a_recorded_key_is_an_error_naming_the_key()
    {
        await using SqliteRunStore store = await Open();
        await store.AppendItemAsync(SampleRecords.Item("m", "arith", "q7", passed: true), CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(
            () => store.AppendItemAsync(SampleRecords.Item("m", "arith", "q7", passed: false), CancellationToken.None));

        Assert.Contains("model 'm', suite 'arith', item 'q7'", error.Message, StringComparison.Ordinal);
        Assert.Contains("store.sqlite", error.Message, StringComparison.Ordinal);
        List<ItemRecord> read = await ReadAll(store);
        Assert.True(Assert.Single(read).Passed);
        // The store stays usable after the refused append.
        await store.AppendItemAsync(SampleRecords.Item("m", "arith", "q8", passed: true), CancellationToken.None);
        Assert.Equal(2, (await store.GetRecordedKeysAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Newest_model_record_wins_in_first_seen_order()
    {
        await using SqliteRunStore store = await Open();
        await store.RecordModelAsync(SampleRecords.Model("b", ModelRunStatus.Loaded), CancellationToken.None);
        await store.RecordModelAsync(SampleRecords.Model("a", ModelRunStatus.LoadFailed, "file not found"), CancellationToken.None);
        await store.RecordModelAsync(SampleRecords.Model("b", ModelRunStatus.Crashed, "worker exited with 134"), CancellationToken.None);

        IReadOnlyList<ModelRunRecord> models = await store.ReadModelsAsync(CancellationToken.None);

        Assert.Equal(["b", "a"], models.Select(m => m.ModelId));
        Assert.Equal(ModelRunStatus.Crashed, models[0].Status);
        Assert.Equal("worker exited with 134", models[0].Failure);
        Assert.Equal(ModelRunStatus.LoadFailed, models[1].Status);
    }

    [Fact]
    public async Task Reopening_after_dispose_keeps_everything()
    {
        await using (SqliteRunStore store = await Open())
        {
            await store.AppendItemAsync(SampleRecords.Item("m", "s", "1", passed: true), CancellationToken.None);
            await store.RecordModelAsync(SampleRecords.Model("m", ModelRunStatus.Completed), CancellationToken.None);
        }

        await using SqliteRunStore reopened = await Open();
        await reopened.AppendItemAsync(SampleRecords.Item("m", "s", "2", passed: false), CancellationToken.None);

        Assert.Equal(["1", "2"], (await ReadAll(reopened)).Select(i => i.Key.ItemId));
        Assert.Equal(ModelRunStatus.Completed, Assert.Single(await reopened.ReadModelsAsync(CancellationToken.None)).Status);
    }

    [Fact]
    public async Task Committed_items_survive_an_abandoned_store()
    {
        // Crash simulation: the writer is never disposed or flushed (as when the process is killed); a fresh
        // connection, as a resume would open, must still see every committed item.
        SqliteRunStore crashed = await Open();
        for (int i = 0; i < 5; i++)
        {
            await crashed.AppendItemAsync(SampleRecords.Item("m", "s", $"{i}", passed: i % 2 == 0), CancellationToken.None);
        }

        try
        {
            await using SqliteRunStore resumed = await Open();
            IReadOnlySet<ItemKey> keys = await resumed.GetRecordedKeysAsync(CancellationToken.None);
            Assert.Equal(5, keys.Count);
            Assert.Equal(3, (await ReadAll(resumed)).Count(i => i.Passed));
        }
        finally
        {
            await crashed.DisposeAsync();
        }
    }

    [Fact]
    public async Task A_second_connection_sees_committed_rows_at_once()
    {
        await using SqliteRunStore store = await Open();
        string path = Path.Combine(_runDirectory, SqliteRunStore.FileName);
        await using var reader = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadOnly,
            Pooling = false,
        }.ToString());
        await reader.OpenAsync();

        await store.AppendItemAsync(SampleRecords.Item("m", "s", "1", passed: true), CancellationToken.None);
        long afterOne = await CountAsync(reader);
        await store.AppendItemAsync(SampleRecords.Item("m", "s", "2", passed: false), CancellationToken.None);
        long afterTwo = await CountAsync(reader);

        Assert.Equal(1, afterOne);
        Assert.Equal(2, afterTwo);
        await using SqliteCommand pragma = reader.CreateCommand();
        pragma.CommandText = "PRAGMA journal_mode;";
        Assert.Equal("wal", (string?)await pragma.ExecuteScalarAsync());
    }

    [Fact]
    public async Task Store_schema_version_is_recorded_and_checked()
    {
        await (await Open()).DisposeAsync();
        string path = Path.Combine(_runDirectory, SqliteRunStore.FileName);
        await using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
        {
            await connection.OpenAsync();
            await using SqliteCommand command = connection.CreateCommand();
            command.CommandText = "SELECT value FROM meta WHERE key = 'store_schema_version';";
            Assert.Equal("1", (string?)await command.ExecuteScalarAsync());
            command.CommandText = "UPDATE meta SET value = '99' WHERE key = 'store_schema_version';";
            await command.ExecuteNonQueryAsync();
        }

        var error = await Assert.ThrowsAsync<InputFileException>(Open);

        Assert.Equal(Path.GetFullPath(path), error.FilePath);
        Assert.Contains("store schema version 99 is not supported", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_file_that_is_not_a_database_is_named_in_the_error()
    {
        Directory.CreateDirectory(_runDirectory);
        await File.WriteAllTextAsync(Path.Combine(_runDirectory, SqliteRunStore.FileName), "this is not sqlite, it is plain text and long enough");

        var error = await Assert.ThrowsAsync<InputFileException>(Open);

        Assert.EndsWith("store.sqlite", error.FilePath, StringComparison.Ordinal);
    }

    private static async Task<long> CountAsync(SqliteConnection connection)
    {
        await using SqliteCommand command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM items;";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Drift_and_perplexity_records_survive_a_reopen_and_duplicates_are_refused()
    {
        var drift = new DriftRecord("f16", "q8", "arith", "001", 64, [0.5f, 0.25f], [0.1f, -0.2f], 1, null, SampleRecords.Epoch);
        await using (SqliteRunStore store = await Open())
        {
            await store.AppendDriftAsync(drift, CancellationToken.None);
            await store.RecordPerplexityAsync(new PerplexityRecord("f16", "sha", 3, 30, 12.5, SampleRecords.Epoch), CancellationToken.None);
            await store.RecordPerplexityAsync(new PerplexityRecord("f16", "sha", 3, 30, 10.0, SampleRecords.Epoch), CancellationToken.None);
            var duplicate = await Assert.ThrowsAsync<InvalidOperationException>(() => store.AppendDriftAsync(drift, CancellationToken.None));
            Assert.Contains("q8", duplicate.Message, StringComparison.Ordinal);
        }

        await using (SqliteRunStore reopened = await Open())
        {
            var read = new List<DriftRecord>();
            await foreach (DriftRecord record in reopened.ReadDriftAsync(CancellationToken.None))
            {
                read.Add(record);
            }

            DriftRecord only = Assert.Single(read);
            Assert.Equal(drift.KlDivergence.AsEnumerable(), only.KlDivergence.AsEnumerable());
            Assert.Equal(drift with { KlDivergence = only.KlDivergence, DeltaP = only.DeltaP }, only);
            PerplexityRecord newest = Assert.Single(await reopened.ReadPerplexityAsync(CancellationToken.None));
            Assert.Equal(10.0, newest.NegativeLogLikelihood);
        }
    }

    [Fact]
    public async Task A_drift_absence_survives_a_reopen_and_the_newest_per_candidate_wins()
    {
        await using (SqliteRunStore store = await Open())
        {
            await store.RecordDriftAbsenceAsync(new DriftAbsence("f16", "server", "old reason", SampleRecords.Epoch), CancellationToken.None);
            await store.RecordDriftAbsenceAsync(new DriftAbsence("f16", "onnx", "onnx's backend cannot return next-token distributions", SampleRecords.Epoch), CancellationToken.None);
            await store.RecordDriftAbsenceAsync(new DriftAbsence("f16", "server", "server's backend cannot return next-token distributions", SampleRecords.Epoch), CancellationToken.None);
        }

        await using SqliteRunStore reopened = await Open();
        var absences = await reopened.ReadDriftAbsencesAsync(CancellationToken.None);
        Assert.Equal(["server", "onnx"], absences.Select(a => a.CandidateModelId));
        Assert.Equal("server's backend cannot return next-token distributions", absences[0].Reason);
    }

    [Fact]
    public async Task Reading_pages_through_more_rows_than_one_page_keeps_commit_order()
    {
        await using SqliteRunStore store = await Open();
        // Ids in descending order, so commit order differs from key order.
        ItemRecord[] written = [.. Enumerable.Range(0, 2 * SqliteRunStore.PageRows + 7)
            .Select(i => SampleRecords.Item("m", "s", (10_000 - i).ToString(System.Globalization.CultureInfo.InvariantCulture), passed: i % 3 == 0))];
        await store.AppendItemsAsync(written[..1_500], CancellationToken.None);
        await store.AppendItemsAsync(written[1_500..], CancellationToken.None);

        List<ItemRecord> read = await ReadAll(store);

        Assert.Equal(written.Select(i => i.Key), read.Select(i => i.Key));
        Assert.Equal(written.Select(i => i.Passed), read.Select(i => i.Passed));
    }

    [Fact]
    public async Task Appending_while_reading_through_pages_neither_deadlocks_nor_skips_a_row()
    {
        await using SqliteRunStore store = await Open();
        await store.AppendItemsAsync([.. Enumerable.Range(0, SqliteRunStore.PageRows + 1).Select(i => SampleRecords.Item("m", "s", $"a{i:D5}", passed: true))],
            CancellationToken.None);

        var seen = new List<string>();
        await foreach (ItemRecord item in store.ReadItemsAsync(CancellationToken.None))
        {
            seen.Add(item.Key.ItemId);
            if (seen.Count == 1)
            {
                await store.AppendItemAsync(SampleRecords.Item("m", "s", "late", passed: true), CancellationToken.None);
            }
        }

        // The row appended mid-read has a higher rowid than every row before it, so the second page brings it.
        Assert.Equal(SqliteRunStore.PageRows + 2, seen.Count);
        Assert.Equal("late", seen[^1]);
    }

    [Fact]
    public async Task A_batch_with_a_recorded_key_stores_none_of_its_records()
    {
        await using SqliteRunStore store = await Open();
        await store.AppendItemAsync(SampleRecords.Item("m", "s", "b", passed: true), CancellationToken.None);

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => store.AppendItemsAsync(
            [SampleRecords.Item("m", "s", "a", passed: true), SampleRecords.Item("m", "s", "b", passed: false)], CancellationToken.None));

        Assert.Contains("item 'b'", error.Message, StringComparison.Ordinal);
        Assert.Equal(["b"], (await ReadAll(store)).Select(i => i.Key.ItemId));
    }

    [Fact]
    public async Task An_unreadable_payload_is_named_by_the_first_bad_row_of_its_page()
    {
        await using (SqliteRunStore store = await Open())
        {
            await store.AppendItemsAsync([.. Enumerable.Range(0, 50).Select(i => SampleRecords.Item("m", "s", $"i{i:D2}", passed: true))], CancellationToken.None);
        }

        await using (var connection = new SqliteConnection(new SqliteConnectionStringBuilder
        {
            DataSource = Path.Combine(_runDirectory, SqliteRunStore.FileName),
            Pooling = false,
        }.ToString()))
        {
            await connection.OpenAsync();
            await using SqliteCommand corrupt = connection.CreateCommand();
            // Rows 31 and 12 by rowid; pages are parsed in parallel, but the error must name row 12.
            corrupt.CommandText = "UPDATE items SET payload = '{\"key\": ' WHERE item_id IN ('i30', 'i11');";
            Assert.Equal(2, await corrupt.ExecuteNonQueryAsync());
        }

        await using SqliteRunStore reopened = await Open();
        var error = await Assert.ThrowsAsync<InputFileException>(() => ReadAll(reopened));

        Assert.Contains("table items, row 12: unreadable payload", error.Message, StringComparison.Ordinal);
    }
}
