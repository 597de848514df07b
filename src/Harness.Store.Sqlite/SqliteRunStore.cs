using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Harness.Core.Comparison;
using Harness.Core.Judging;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Microsoft.Data.Sqlite;

namespace Harness.Store.Sqlite;

/// <summary>
/// The run store as one SQLite database, <c>results/&lt;run-id&gt;/store.sqlite</c>. WAL with synchronous=FULL:
/// each append is its own committed transaction, fsynced before the call returns, so a kill loses at most the
/// item in flight. Rows keep the whole record as JSON next to a few indexed columns, so the report and a
/// re-score read the evidence without the model.
/// </summary>
public sealed class SqliteRunStore : IRunStore, IComparisonStore, IJudgementStore
{
    public const string FileName = "store.sqlite";

    /// <summary>Version of the table layout below; bumped on any incompatible change.</summary>
    public const int StoreSchemaVersion = 1;

    private const int SqliteConstraint = 19;

    private readonly SqliteConnection _connection;
    private readonly string _path;
    // One connection is not safe for concurrent commands; the orchestrator may append from several tasks.
    private readonly SemaphoreSlim _gate = new(1, 1);

    private SqliteRunStore(SqliteConnection connection, string path)
    {
        _connection = connection;
        _path = path;
    }

    /// <summary>Full path of the database file.</summary>
    public string FilePath => _path;

    /// <summary>Creates or opens <c>store.sqlite</c> in <paramref name="runDirectory"/> (created if missing).</summary>
    /// <exception cref="InputFileException">The file is not a Harness store or has another store schema version.</exception>
    public static async Task<SqliteRunStore> OpenAsync(string runDirectory, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(runDirectory);
        Directory.CreateDirectory(runDirectory);
        string path = Path.GetFullPath(Path.Combine(runDirectory, FileName));
        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            // Without pooling, Dispose really closes the file: a resume or a test can reopen or delete it at once.
            Pooling = false,
            DefaultTimeout = 30,
        };
        var connection = new SqliteConnection(builder.ToString());
        try
        {
            await connection.OpenAsync(cancellationToken);
            await ExecuteAsync(connection, "PRAGMA journal_mode=WAL;", cancellationToken);
            await ExecuteAsync(connection, "PRAGMA synchronous=FULL;", cancellationToken);
            await ExecuteAsync(connection, "PRAGMA foreign_keys=ON;", cancellationToken);
            await CreateSchemaAsync(connection, path, cancellationToken);
            return new SqliteRunStore(connection, path);
        }
        catch (SqliteException e)
        {
            await connection.DisposeAsync();
            throw new InputFileException(path, null, $"cannot open the run store: {e.Message}");
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public Task AppendItemAsync(ItemRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return AppendItemsAsync([record], cancellationToken);
    }

    /// <summary>
    /// Appends several records in one transaction: all or none are stored. For writers of many records at once
    /// (the report-scale benchmark's synthetic runs), where a commit and fsync per record would dominate.
    /// </summary>
    /// <exception cref="InvalidOperationException">A record's (model, suite, item) is already stored; none of the batch is.</exception>
    public async Task AppendItemsAsync(IReadOnlyList<ItemRecord> records, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(records);
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var transaction = (SqliteTransaction)await _connection.BeginTransactionAsync(cancellationToken);
            await using var command = _connection.CreateCommand();
            command.Transaction = transaction;
            command.CommandText =
                """
                INSERT INTO items (model_id, suite, item_id, status, passed, completed_at, payload)
                VALUES ($model, $suite, $item, $status, $passed, $completed, $payload);
                """;
            SqliteParameter model = command.Parameters.Add("$model", SqliteType.Text);
            SqliteParameter suite = command.Parameters.Add("$suite", SqliteType.Text);
            SqliteParameter item = command.Parameters.Add("$item", SqliteType.Text);
            SqliteParameter status = command.Parameters.Add("$status", SqliteType.Text);
            SqliteParameter passed = command.Parameters.Add("$passed", SqliteType.Integer);
            SqliteParameter completed = command.Parameters.Add("$completed", SqliteType.Text);
            SqliteParameter payload = command.Parameters.Add("$payload", SqliteType.Text);
            foreach (ItemRecord record in records)
            {
                ArgumentNullException.ThrowIfNull(record);
                model.Value = record.Key.ModelId;
                suite.Value = record.Key.Suite;
                item.Value = record.Key.ItemId;
                status.Value = JsonNamingPolicy.CamelCase.ConvertName(record.Status.ToString());
                passed.Value = record.Passed ? 1 : 0;
                completed.Value = record.CompletedAt.ToString("O", CultureInfo.InvariantCulture);
                payload.Value = HarnessJson.Serialize(record);
                try
                {
                    await command.ExecuteNonQueryAsync(cancellationToken);
                }
                catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
                {
                    throw new InvalidOperationException(
                        $"{_path}: item already recorded: model '{record.Key.ModelId}', suite '{record.Key.Suite}', item '{record.Key.ItemId}'.",
                        e);
                }
            }

            await transaction.CommitAsync(cancellationToken);
        }
        finally
        {
            _gate.Release();
        }
    }

    public Task RecordModelAsync(ModelRunRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return InsertAsync(
            "INSERT INTO models (model_id, status, updated_at, payload) VALUES ($a, $b, $c, $payload);",
            [record.ModelId, JsonNamingPolicy.CamelCase.ConvertName(record.Status.ToString()), record.UpdatedAt.ToString("O", CultureInfo.InvariantCulture)],
            HarnessJson.Serialize(record),
            "model row rejected",
            cancellationToken);
    }

    public async Task<IReadOnlySet<ItemKey>> GetRecordedKeysAsync(CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = "SELECT model_id, suite, item_id FROM items;";
            var keys = ImmutableHashSet.CreateBuilder<ItemKey>();
            await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                keys.Add(new ItemKey(reader.GetString(0), reader.GetString(1), reader.GetString(2)));
            }

            return keys.ToImmutable();
        }
        finally
        {
            _gate.Release();
        }
    }

    public IAsyncEnumerable<ItemRecord> ReadItemsAsync(CancellationToken cancellationToken) =>
        ReadAllAsync<ItemRecord>("items", cancellationToken);

    public async Task<IReadOnlyList<ModelRunRecord>> ReadModelsAsync(CancellationToken cancellationToken)
    {
        // The newest row per model wins; models appear in the order they were first recorded.
        List<(long RowId, string Payload)> rows = await ReadPayloadsAsync(
            """
            SELECT newest.seq, newest.payload
            FROM models AS newest
            JOIN (SELECT model_id, MAX(seq) AS last_seq, MIN(seq) AS first_seq FROM models GROUP BY model_id) AS g
              ON newest.seq = g.last_seq
            ORDER BY g.first_seq;
            """,
            cancellationToken);
        return rows.Select(r => Parse<ModelRunRecord>(r.Payload, "models", r.RowId)).ToImmutableArray();
    }

    public async Task AppendDriftAsync(DriftRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        await InsertAsync(
            "INSERT INTO drift (candidate_id, suite, item_id, payload) VALUES ($a, $b, $c, $payload);",
            [record.CandidateModelId, record.Suite, record.ItemId],
            HarnessJson.Serialize(record),
            $"drift already recorded: candidate '{record.CandidateModelId}', suite '{record.Suite}', item '{record.ItemId}'",
            cancellationToken);
    }

    public IAsyncEnumerable<DriftRecord> ReadDriftAsync(CancellationToken cancellationToken) =>
        ReadAllAsync<DriftRecord>("drift", cancellationToken);

    public Task RecordPerplexityAsync(PerplexityRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return InsertAsync(
            "INSERT INTO perplexity (model_id, payload) VALUES ($a, $payload);",
            [record.ModelId], HarnessJson.Serialize(record), "perplexity row rejected", cancellationToken);
    }

    public Task<IReadOnlyList<PerplexityRecord>> ReadPerplexityAsync(CancellationToken cancellationToken) =>
        ReadNewestPerKeyAsync<PerplexityRecord>("perplexity", "model_id", cancellationToken);

    public Task RecordDriftAbsenceAsync(DriftAbsence record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return InsertAsync(
            "INSERT INTO drift_absences (candidate_id, payload) VALUES ($a, $payload);",
            [record.CandidateModelId], HarnessJson.Serialize(record), "drift absence row rejected", cancellationToken);
    }

    public Task<IReadOnlyList<DriftAbsence>> ReadDriftAbsencesAsync(CancellationToken cancellationToken) =>
        ReadNewestPerKeyAsync<DriftAbsence>("drift_absences", "candidate_id", cancellationToken);

    // The newest row per key of an append-only table (a rerun appends, never updates), keys in first-recorded order.
    // Table and column are this class's own constants, never input.
    private async Task<IReadOnlyList<T>> ReadNewestPerKeyAsync<T>(string table, string key, CancellationToken cancellationToken)
    {
        List<(long RowId, string Payload)> rows = await ReadPayloadsAsync(
            $"""
            SELECT t.seq, t.payload FROM {table} AS t
            JOIN (SELECT {key}, MAX(seq) AS last_seq, MIN(seq) AS first_seq FROM {table} GROUP BY {key}) AS g
              ON t.seq = g.last_seq
            ORDER BY g.first_seq;
            """,
            cancellationToken);
        return rows.Select(r => Parse<T>(r.Payload, table, r.RowId)).ToImmutableArray();
    }

    public Task AppendJudgementAsync(JudgementRecord record, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        return InsertAsync(
            "INSERT INTO judgements (model_id, suite, item_id, judge_id, payload) VALUES ($a, $b, $c, $d, $payload);",
            [record.ModelId, record.Suite, record.ItemId, record.JudgeModelId], HarnessJson.Serialize(record),
            $"judgement already recorded: model '{record.ModelId}', suite '{record.Suite}', item '{record.ItemId}', judge '{record.JudgeModelId}'",
            cancellationToken);
    }

    public IAsyncEnumerable<JudgementRecord> ReadJudgementsAsync(CancellationToken cancellationToken) =>
        ReadAllAsync<JudgementRecord>("judgements", cancellationToken);

    public async ValueTask DisposeAsync()
    {
        await _connection.DisposeAsync();
        _gate.Dispose();
    }

    // One INSERT in autocommit mode: committed and fsynced (synchronous=FULL) when it returns.
    private async Task InsertAsync(string sql, string[] keys, string payload, string duplicate, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = sql;
            for (int i = 0; i < keys.Length; i++)
            {
                command.Parameters.AddWithValue("$" + (char)('a' + i), keys[i]);
            }

            command.Parameters.AddWithValue("$payload", payload);
            try
            {
                await command.ExecuteNonQueryAsync(cancellationToken);
            }
            catch (SqliteException e) when (e.SqliteErrorCode == SqliteConstraint)
            {
                throw new InvalidOperationException($"{_path}: {duplicate}.", e);
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Rows read per query when a table is read through: the most payloads held in memory at once.</summary>
    public const int PageRows = 1_000;

    // Every row of an append-only table in commit order, a page at a time: a 140,000-item run's payloads are most of
    // a gigabyte, so they are never all in memory at once. Each page is read under the gate and yielded after it, so a
    // caller that appends while enumerating does not deadlock (rows it appends come in a later page, as rowids grow).
    private async IAsyncEnumerable<T> ReadAllAsync<T>(string table, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        long after = long.MinValue;
        var page = new List<(long RowId, byte[] Payload)>(PageRows);
        while (true)
        {
            page.Clear();
            await _gate.WaitAsync(cancellationToken);
            try
            {
                await using var command = _connection.CreateCommand();
                command.CommandText = $"SELECT rowid, payload FROM {table} WHERE rowid > $after ORDER BY rowid LIMIT {PageRows};";
                command.Parameters.AddWithValue("$after", after);
                await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
                while (await reader.ReadAsync(cancellationToken))
                {
                    // The UTF-8 bytes as stored: parsing them directly skips a UTF-16 copy of every payload.
                    page.Add((reader.GetInt64(0), reader.GetFieldValue<byte[]>(1)));
                }
            }
            finally
            {
                _gate.Release();
            }

            foreach (T record in ParsePage<T>(page, table, cancellationToken))
            {
                yield return record;
            }

            if (page.Count < PageRows)
            {
                yield break;
            }

            after = page[^1].RowId;
        }
    }

    // Parsing is most of a big report's CPU time, and records are independent: a page is parsed on every core, in order.
    // A payload that does not parse is reported as the first bad row of the page, as a sequential read would.
    private T[] ParsePage<T>(List<(long RowId, byte[] Payload)> page, string table, CancellationToken cancellationToken)
    {
        var records = new T[page.Count];
        try
        {
            Parallel.For(0, page.Count, new ParallelOptions { CancellationToken = cancellationToken },
                i => records[i] = Parse<T>(page[i].Payload, table, page[i].RowId));
        }
        catch (AggregateException)
        {
            // Parsed again in order, so the error names the first bad row, as a sequential read would.
            foreach ((long rowId, byte[] payload) in page)
            {
                Parse<T>(payload, table, rowId);
            }

            throw;
        }

        return records;
    }

    private async Task<List<(long RowId, string Payload)>> ReadPayloadsAsync(string sql, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            await using var command = _connection.CreateCommand();
            command.CommandText = sql;
            var rows = new List<(long, string)>();
            await using SqliteDataReader reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                rows.Add((reader.GetInt64(0), reader.GetString(1)));
            }

            return rows;
        }
        finally
        {
            _gate.Release();
        }
    }

    private T Parse<T>(string payload, string table, long rowId)
    {
        try
        {
            return HarnessJson.Deserialize<T>(payload);
        }
        catch (JsonException e)
        {
            throw Unreadable(table, rowId, e);
        }
    }

    private T Parse<T>(byte[] payload, string table, long rowId)
    {
        try
        {
            return HarnessJson.Deserialize<T>(payload);
        }
        catch (JsonException e)
        {
            throw Unreadable(table, rowId, e);
        }
    }

    private InputFileException Unreadable(string table, long rowId, JsonException e) =>
        new(_path, null, $"table {table}, row {rowId}: unreadable payload: {e.Message}");

    private static async Task CreateSchemaAsync(SqliteConnection connection, string path, CancellationToken cancellationToken)
    {
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText =
                """
                CREATE TABLE IF NOT EXISTS meta (
                    key   TEXT PRIMARY KEY,
                    value TEXT NOT NULL
                );
                CREATE TABLE IF NOT EXISTS items (
                    model_id     TEXT NOT NULL,
                    suite        TEXT NOT NULL,
                    item_id      TEXT NOT NULL,
                    status       TEXT NOT NULL,
                    passed       INTEGER NOT NULL,
                    completed_at TEXT NOT NULL,
                    payload      TEXT NOT NULL,
                    PRIMARY KEY (model_id, suite, item_id)
                );
                CREATE TABLE IF NOT EXISTS models (
                    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
                    model_id   TEXT NOT NULL,
                    status     TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    payload    TEXT NOT NULL
                );
                CREATE TABLE IF NOT EXISTS drift (
                    candidate_id TEXT NOT NULL,
                    suite        TEXT NOT NULL,
                    item_id      TEXT NOT NULL,
                    payload      TEXT NOT NULL,
                    PRIMARY KEY (candidate_id, suite, item_id)
                );
                CREATE TABLE IF NOT EXISTS judgements (
                    model_id TEXT NOT NULL,
                    suite    TEXT NOT NULL,
                    item_id  TEXT NOT NULL,
                    judge_id TEXT NOT NULL,
                    payload  TEXT NOT NULL,
                    PRIMARY KEY (model_id, suite, item_id, judge_id)
                );
                CREATE TABLE IF NOT EXISTS perplexity (
                    seq      INTEGER PRIMARY KEY AUTOINCREMENT,
                    model_id TEXT NOT NULL,
                    payload  TEXT NOT NULL
                );
                CREATE TABLE IF NOT EXISTS drift_absences (
                    seq          INTEGER PRIMARY KEY AUTOINCREMENT,
                    candidate_id TEXT NOT NULL,
                    payload      TEXT NOT NULL
                );
                INSERT OR IGNORE INTO meta (key, value) VALUES ('store_schema_version', $version);
                """;
            command.Parameters.AddWithValue("$version", StoreSchemaVersion.ToString(CultureInfo.InvariantCulture));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = "SELECT value FROM meta WHERE key = 'store_schema_version';";
            string? stored = (string?)await command.ExecuteScalarAsync(cancellationToken);
            if (stored != StoreSchemaVersion.ToString(CultureInfo.InvariantCulture))
            {
                throw new InputFileException(
                    path, null, $"store schema version {stored ?? "(none)"} is not supported; this build reads version {StoreSchemaVersion}.");
            }
        }

        await transaction.CommitAsync(cancellationToken);
    }

    private static async Task ExecuteAsync(SqliteConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
