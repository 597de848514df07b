using System.Globalization;
using System.Text.Json;
using Harness.Cli.Running;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Sharding;
using Harness.Core.Suites;
using Harness.Store.Sqlite;
using Harness.Tests.Fakes;
using Microsoft.Data.Sqlite;

namespace Harness.Tests.Cli;

/// <summary>
/// <c>harness plan</c>, <c>harness run --plan --shard</c> and <c>harness merge</c> in-process, with the fake backend: a
/// sharded run merges to the run of the same plan on one machine, item for item, and merge refuses what is not whole.
/// </summary>
public sealed class ShardedRunTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 12, 7, 19, 0, 0, TimeSpan.Zero);
    private readonly string _root = Directory.CreateTempSubdirectory("harness-sharded-").FullName;
    private readonly HttpClient _http = new();

    public ShardedRunTests()
    {
        Suites.RepoPaths.CopySuites(_root, "arith", "sentiment");

        Directory.CreateDirectory(Path.Combine(_root, "models"));
        File.WriteAllText(Path.Combine(_root, "models", "a.gguf"), "model a, a bit larger");
        File.WriteAllText(Path.Combine(_root, "models", "b.gguf"), "model b");
        File.WriteAllText(Path.Combine(_root, "models.manifest"), """
            version: 1
            defaults: { context_size: 256, threads: 1, batch_size: 64, gpu_layers: 0, chat_template: none }
            models:
              - { id: oracle, path: models/a.gguf }
              - { id: sloppy, path: models/b.gguf }
            """);
    }

    // oracle adds right; sloppy is right on even sums only. Every sentiment prompt gets " positive".
    private static FakeBackend Backend() => new(_ => "")
    {
        ModelAnswer = (model, prompt) =>
    {
        var text = prompt.PlainText;
        if (model == "judge")
        {
            return text.Contains("<answer id=", StringComparison.Ordinal) ? "A" : "5";
        }

        if (!text.EndsWith('=') || !text.Contains('+', StringComparison.Ordinal))
        {
            return " positive";
        }

        var parts = text.TrimEnd('=').Split('+');
        var sum = int.Parse(parts[0], CultureInfo.InvariantCulture) + int.Parse(parts[1], CultureInfo.InvariantCulture);
        return (model == "sloppy" && sum % 2 == 1 ? sum + 1 : sum).ToString(CultureInfo.InvariantCulture);
    },
    };

    private RunService Service() => InProcessRuns.Service(FakeBackendProvider.Registry(Backend()), _root, _http, Start);

    private NewRunOptions Options(bool untilDecided = false) => new(
        Path.Combine(_root, "models.manifest"), Path.Combine(_root, "tasks"), [], [], Path.Combine(_root, "results"),
        Energy: InProcessRuns.QuickEnergy,
        UntilDecided: untilDecided, OrderSeed: 7);

    private async Task<PlanResult> PlanAndRunAsync(int shards, bool untilDecided = false, string name = "plan")
    {
        var plan = await Service().PlanAsync(Options(untilDecided), Path.Combine(_root, name), shards, null, CancellationToken.None);
        for (var i = 0; i < shards; i++)
        {
            await Service().RunShardAsync(plan.PlanDirectory, i, null, null, CancellationToken.None);
        }

        return plan;
    }

    private static Task<MergeResult> MergeAsync(string planDirectory, TimeSpan? wait = null) =>
        new MergeService(TimeProvider.System).MergeAsync(planDirectory, wait ?? TimeSpan.Zero, CancellationToken.None);

    // What must be equal between a sharded and a single-machine run: everything but timings and energy.
    private static async Task<SortedDictionary<string, string>> ItemsAsync(string runDirectory)
    {
        var items = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using var store = await SqliteRunStore.OpenAsync(runDirectory, CancellationToken.None);
        await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
        {
            items.Add($"{item.Key.ModelId}/{item.Key.Suite}/{item.Key.ItemId}", JsonSerializer.Serialize(new
            {
                item.Status, item.PromptText, item.RawOutput, item.FinishReason, item.Choices, item.Scores, item.Passed, item.Error, item.Failure,
                item.Metrics.PromptTokens, item.Metrics.GeneratedTokens,
            }, HarnessJson.Options));
        }

        return items;
    }

    private static string Verdicts(Core.Reports.RunReport report) => string.Join("; ", report.FixedSuites.SelectMany(s => s.Rows.Select(r =>
        $"{s.Suite}/{r.ModelId}: {r.Verdict.Kind}")));

    [Fact]
    public async Task Three_shards_merge_to_the_single_machine_run_of_the_same_plan_item_for_item()
    {
        var plan = await PlanAndRunAsync(3);
        var merged = await MergeAsync(plan.PlanDirectory);
        var single = await Service().StartAsync(Options(), null, null, CancellationToken.None);

        var shardedItems = await ItemsAsync(plan.PlanDirectory);
        Assert.Equal(800, shardedItems.Count);
        Assert.Equal(await ItemsAsync(single.RunDirectory), shardedItems);
        Assert.Equal(Verdicts(single.Report), Verdicts(merged.Report));
        Assert.Contains("sloppy: Insufficient", Verdicts(merged.Report), StringComparison.Ordinal);
        Assert.All(merged.Models, m => Assert.Equal(ModelRunStatus.Completed, m.Status));
        // Every shard ran something, and together they ran each item once.
        Assert.All(merged.Merge.Shards, s => Assert.True(s.Items > 0));
        Assert.Equal(800, merged.Merge.Shards.Sum(s => s.Items));
        var machine = Assert.Single(merged.Merge.Machines);
        Assert.Equal([0, 1, 2], machine.Shards.ToArray());
        var markdown = await File.ReadAllTextAsync(Path.Combine(plan.PlanDirectory, "report.md"));
        Assert.Contains("Sharded: 3 shards on 1 machine", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_sequential_stream_stays_in_one_shard_and_decides_as_in_a_single_run()
    {
        var plan = await PlanAndRunAsync(3, untilDecided: true);
        var merged = await MergeAsync(plan.PlanDirectory);
        var single = await Service().StartAsync(Options(untilDecided: true), null, null, CancellationToken.None);

        var sequential = plan.Plan.AllWork.Where(w => w.Whole is not null).ToList();
        Assert.NotEmpty(sequential);
        Assert.All(sequential, w => Assert.Equal((0, 200), (w.FirstItem, w.ItemCount)));
        Assert.Equal(sequential.Count, sequential.Select(w => (w.ModelId, w.Suite)).Distinct().Count());
        var shardedItems = await ItemsAsync(plan.PlanDirectory);
        Assert.True(shardedItems.Count < 800, "the sequential verdicts should have stopped early");
        Assert.Equal(await ItemsAsync(single.RunDirectory), shardedItems);
        Assert.Equal(Verdicts(single.Report), Verdicts(merged.Report));
    }

    [Fact]
    public async Task A_killed_shard_resumes_where_it_stopped_with_a_second_attempt_and_no_item_twice()
    {
        var plan = await Service().PlanAsync(Options(), Path.Combine(_root, "plan"), 2, null, CancellationToken.None);
        await Service().RunShardAsync(plan.PlanDirectory, 0, null, null, CancellationToken.None);
        var shard1 = ShardFiles.ShardDirectory(plan.PlanDirectory, 1);
        await Service().RunShardAsync(plan.PlanDirectory, 1, null, null, CancellationToken.None);
        // As a kill -9 leaves it: some items recorded, the attempt never marked finished.
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(shard1, SqliteRunStore.FileName)};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM items WHERE rowid IN (SELECT rowid FROM items ORDER BY rowid DESC LIMIT 50)";
            Assert.Equal(50, await delete.ExecuteNonQueryAsync());
        }

        var killed = (await ShardFiles.ReadShardAsync(shard1, CancellationToken.None))!;
        await ShardFiles.WriteShardAsync(killed with { Attempts = [killed.Attempts[0] with { FinishedAt = null }] }, shard1, CancellationToken.None);
        var refused = await Assert.ThrowsAsync<InputFileException>(() => MergeAsync(plan.PlanDirectory));
        Assert.Contains("shard 1 has not finished", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"harness run --plan {plan.PlanDirectory} --shard <index>", refused.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(plan.PlanDirectory, "report.md")));

        var resumed = await Service().RunShardAsync(plan.PlanDirectory, 1, null, null, CancellationToken.None);

        Assert.Equal(50, resumed.ItemsRecordedNow);
        var record = (await ShardFiles.ReadShardAsync(shard1, CancellationToken.None))!;
        Assert.Equal(2, record.Attempts.Length);
        Assert.True(record.Finished);
        Assert.Equal(50, record.Attempts[1].ItemsRecorded);
        var merged = await MergeAsync(plan.PlanDirectory);
        Assert.Equal(800, (await ItemsAsync(plan.PlanDirectory)).Count);
        Assert.Equal(800, merged.Merge.Shards.Sum(s => s.Items));
    }

    [Fact]
    public async Task Merge_names_a_shard_that_never_started_and_writes_nothing()
    {
        var plan = await Service().PlanAsync(Options(), Path.Combine(_root, "plan"), 3, null, CancellationToken.None);
        await Service().RunShardAsync(plan.PlanDirectory, 0, null, null, CancellationToken.None);
        await Service().RunShardAsync(plan.PlanDirectory, 2, null, null, CancellationToken.None);

        var ex = await Assert.ThrowsAsync<InputFileException>(() => MergeAsync(plan.PlanDirectory));

        Assert.Equal(plan.PlanDirectory, ex.FilePath);
        Assert.Contains("shard 1 never started", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("shard 0", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(plan.PlanDirectory, SqliteRunStore.FileName)));
        Assert.False(File.Exists(ShardFiles.MergePath(plan.PlanDirectory)));
    }

    [Fact]
    public async Task Merge_waits_for_a_shard_that_finishes_while_it_waits()
    {
        var plan = await Service().PlanAsync(Options(), Path.Combine(_root, "plan"), 2, null, CancellationToken.None);
        await Service().RunShardAsync(plan.PlanDirectory, 0, null, null, CancellationToken.None);

        var merging = MergeAsync(plan.PlanDirectory, TimeSpan.FromMinutes(2));
        await Task.Delay(TimeSpan.FromMilliseconds(200));
        Assert.False(merging.IsCompleted);
        await Service().RunShardAsync(plan.PlanDirectory, 1, null, null, CancellationToken.None);
        var merged = await merging;

        Assert.Equal(800, merged.Merge.Shards.Sum(s => s.Items));
    }

    [Fact]
    public async Task A_finished_shard_that_lacks_items_is_refused_by_name()
    {
        var plan = await PlanAndRunAsync(2);
        var shard0 = ShardFiles.ShardDirectory(plan.PlanDirectory, 0);
        await using (var connection = new SqliteConnection($"Data Source={Path.Combine(shard0, SqliteRunStore.FileName)};Pooling=False"))
        {
            await connection.OpenAsync();
            await using var delete = connection.CreateCommand();
            delete.CommandText = "DELETE FROM items WHERE rowid = (SELECT MIN(rowid) FROM items)";
            await delete.ExecuteNonQueryAsync();
        }

        var ex = await Assert.ThrowsAsync<InputFileException>(() => MergeAsync(plan.PlanDirectory));

        Assert.Contains("shard 0 says it finished, but 1 of its", ex.Message, StringComparison.Ordinal);
        Assert.Contains("--shard 0", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_shard_folder_from_another_plan_is_refused_by_run_and_by_merge()
    {
        var first = await PlanAndRunAsync(2, name: "first");
        var second = await Service().PlanAsync(Options(), Path.Combine(_root, "second"), 2, null, CancellationToken.None);
        await Service().RunShardAsync(second.PlanDirectory, 1, null, null, CancellationToken.None);
        var foreign = ShardFiles.ShardDirectory(second.PlanDirectory, 0);
        Directory.CreateDirectory(Path.GetDirectoryName(foreign)!);
        CopyDirectory(ShardFiles.ShardDirectory(first.PlanDirectory, 0), foreign);

        var run = await Assert.ThrowsAsync<InputFileException>(() => Service().RunShardAsync(second.PlanDirectory, 0, null, null, CancellationToken.None));
        var merge = await Assert.ThrowsAsync<InputFileException>(() => MergeAsync(second.PlanDirectory));

        Assert.Contains($"not shard 0 of this plan ({second.PlanSha256})", run.Message, StringComparison.Ordinal);
        Assert.Contains($"ran shard 0 of plan {first.PlanSha256}, not this plan", merge.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plan_writes_run_json_and_plan_json_only_and_refuses_a_folder_with_something_in_it()
    {
        var plan = await Service().PlanAsync(Options(), Path.Combine(_root, "plan"), 4, null, CancellationToken.None);

        Assert.Equal(["plan.json", "run.json", "run.lock"], Directory.GetFileSystemEntries(plan.PlanDirectory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(4, plan.Plan.Shards.Length);
        Assert.Equal(800, plan.Plan.Shards.Sum(s => s.ItemCount));
        Assert.Equal(ShardFiles.Sha256Of(File.ReadAllBytes(RunManifestFile.PathIn(plan.PlanDirectory))), plan.Plan.RunManifestSha256);
        Assert.All(plan.Plan.Shards, s => Assert.Equal(1, s.Resources.Cpus));
        var ex = await Assert.ThrowsAsync<InputFileException>(() => Service().PlanAsync(Options(), plan.PlanDirectory, 2, null, CancellationToken.None));
        Assert.Contains("exists and is not empty", ex.Message, StringComparison.Ordinal);
        var noShard = await Assert.ThrowsAsync<InputFileException>(() => Service().RunShardAsync(plan.PlanDirectory, 4, null, null, CancellationToken.None));
        Assert.Contains("there is no shard 4: this plan has 4 shards (0..3)", noShard.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task More_shards_than_work_leaves_empty_shards_that_finish_and_merge()
    {
        var plan = await PlanAndRunAsync(900);

        Assert.Contains(plan.Plan.Shards, s => s.Work.IsEmpty);
        var merged = await MergeAsync(plan.PlanDirectory);
        Assert.Equal(800, merged.Merge.Shards.Sum(s => s.Items));
    }

    [Fact]
    public async Task A_changed_suite_stops_a_shard_before_it_runs()
    {
        var plan = await Service().PlanAsync(Options(), Path.Combine(_root, "plan"), 2, null, CancellationToken.None);
        await File.AppendAllTextAsync(Path.Combine(_root, "tasks", "arith", "suite.yaml"), "\n# edited\n");

        var ex = await Assert.ThrowsAsync<InputFileException>(() => Service().RunShardAsync(plan.PlanDirectory, 0, null, null, CancellationToken.None));

        Assert.Contains("suite 'arith' changed since run", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(ShardFiles.ShardRecordPath(ShardFiles.ShardDirectory(plan.PlanDirectory, 0))));
    }

    [Fact]
    public async Task Judged_suites_are_judged_in_their_shards_and_a_pairwise_suite_travels_whole()
    {
        // arith graded twice by a judge model: pointwise (a rating) and pairwise (against oracle's answer to the item).
        File.AppendAllText(Path.Combine(_root, "models.manifest"), "\n  - { id: judge, path: models/a.gguf }\n");
        Judged("pointed", "{ model: judge, rubric: \"5 if the sum is right, 1 otherwise.\", scale: [1, 5], pass_at: 5 }");
        Judged("paired", "{ model: judge, mode: pairwise, against: oracle, rubric: \"The right sum wins.\" }");
        var options = Options() with
        {
            SuiteDirectories = [Path.Combine(_root, "tasks", "pointed"), Path.Combine(_root, "tasks", "paired")],
            ModelIds = ["oracle", "sloppy"],
        };

        var plan = await Service().PlanAsync(options, Path.Combine(_root, "plan"), 3, null, CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            await Service().RunShardAsync(plan.PlanDirectory, i, null, null, CancellationToken.None);
        }

        var merged = await MergeAsync(plan.PlanDirectory);
        var single = await Service().StartAsync(options, null, null, CancellationToken.None);

        var paired = plan.Plan.AllWork.Where(w => w.Suite == "paired").ToList();
        Assert.Equal(2, paired.Count);
        Assert.Single(plan.Plan.Shards, s => s.Work.Any(w => w.Suite == "paired"));
        Assert.All(paired, w => Assert.StartsWith("pairwise judge of suite 'paired'", w.Whole, StringComparison.Ordinal));
        // A pointwise judge grades each answer alone: its suite may be cut like any other, and is judged where it runs.
        Assert.All(plan.Plan.AllWork.Where(w => w.Suite == "pointed"), w => Assert.Null(w.Whole));
        Assert.NotEqual(
            plan.Plan.Shards.Single(s => s.Work.Any(w => w.Suite == "paired")).Index,
            plan.Plan.Shards.Single(s => s.Work.Any(w => w.Suite == "pointed" && w.ModelId == "sloppy")).Index);
        Assert.Equal(await JudgementsAsync(single.RunDirectory), await JudgementsAsync(plan.PlanDirectory));
        Assert.Equal(Verdicts(single.Report), Verdicts(merged.Report));
        Assert.Equal(400 + 200, (await JudgementsAsync(plan.PlanDirectory)).Count);
    }

    // The judge rates every answer 5 and prefers answer A; candidates answer as everywhere else in this class.
    private void Judged(string name, string args)
    {
        var folder = Path.Combine(_root, "tasks", name);
        CopyDirectory(Path.Combine(_root, "tasks", "arith"), folder);
        var yaml = Path.Combine(folder, "suite.yaml");
        var text = File.ReadAllText(yaml);
        var start = text.IndexOf("scorers:", StringComparison.Ordinal);
        var end = text.IndexOf("requirement:", start, StringComparison.Ordinal);
        File.WriteAllText(yaml, text[..start].Replace("name: arith", $"name: {name}", StringComparison.Ordinal)
            + $"scorers:\n  - name: judge\n    args: {args}\n" + text[end..]);
    }

    private static async Task<SortedDictionary<string, string>> JudgementsAsync(string runDirectory)
    {
        var judgements = new SortedDictionary<string, string>(StringComparer.Ordinal);
        await using var store = await SqliteRunStore.OpenAsync(runDirectory, CancellationToken.None);
        await foreach (var j in store.ReadJudgementsAsync(CancellationToken.None))
        {
            judgements.Add($"{j.ModelId}/{j.Suite}/{j.ItemId}", JsonSerializer.Serialize(new { j.Score, j.Passed, j.Error }, HarnessJson.Options));
        }

        return judgements;
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

    public void Dispose()
    {
        _http.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
