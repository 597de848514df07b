using System.Collections.Immutable;
using System.Security.Cryptography;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Sharding;
using Harness.Core.Suites;
using Harness.Tests.Serialization;

namespace Harness.Tests.Sharding;

public sealed class ShardFilesTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "harness-shards-" + Guid.NewGuid().ToString("N"));

    public ShardFilesTests() => Directory.CreateDirectory(_directory);

    public void Dispose()
    {
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }
    }

    [Fact]
    public async Task A_plan_round_trips_and_its_hash_is_the_sha256_of_the_file_bytes()
    {
        var plan = await PlanWithRunJsonAsync();

        await ShardFiles.WritePlanAsync(plan, _directory, CancellationToken.None);
        var (back, sha) = await ShardFiles.ReadPlanAsync(_directory, CancellationToken.None);

        Assert.Equal(HarnessJson.Serialize(plan), HarnessJson.Serialize(back));
        Assert.Equal(plan.Shards.SelectMany(s => s.Work), back.Shards.SelectMany(s => s.Work));
        Assert.Equal(plan.Shards.Select(s => (s.Index, s.ExpectedCost, s.Resources)), back.Shards.Select(s => (s.Index, s.ExpectedCost, s.Resources)));
        var bytes = await File.ReadAllBytesAsync(ShardFiles.PlanPath(_directory));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(bytes)), sha);
        Assert.Equal(64, sha.Length);
        Assert.Equal(["plan.json", "run.json"], Directory.GetFiles(_directory).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Plan_json_is_the_same_bytes_under_a_decimal_comma_culture_and_keeps_no_derived_properties()
    {
        var plan = await PlanWithRunJsonAsync();
        await ShardFiles.WritePlanAsync(plan, _directory, CancellationToken.None);
        var invariant = await File.ReadAllBytesAsync(ShardFiles.PlanPath(_directory));

        using (new CultureScope("de-DE"))
        {
            await ShardFiles.WritePlanAsync(plan, _directory, CancellationToken.None);
            var (back, _) = await ShardFiles.ReadPlanAsync(_directory, CancellationToken.None);
            Assert.Equal(plan.Shards.Select(s => s.ExpectedCost), back.Shards.Select(s => s.ExpectedCost));
        }

        Assert.Equal(invariant, await File.ReadAllBytesAsync(ShardFiles.PlanPath(_directory)));
        var text = await File.ReadAllTextAsync(ShardFiles.PlanPath(_directory));
        Assert.StartsWith("{\n  \"schemaVersion\": 1,", text.ReplaceLineEndings("\n"), StringComparison.Ordinal);
        Assert.Contains("\"expectedCost\": 1.5", text, StringComparison.Ordinal);
        Assert.DoesNotContain("allWork", text, StringComparison.Ordinal);
        Assert.DoesNotContain("modelIds", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_changed_run_json_is_refused_naming_run_json_and_both_hashes()
    {
        var plan = await PlanWithRunJsonAsync();
        await ShardFiles.WritePlanAsync(plan, _directory, CancellationToken.None);
        var runJson = Path.Combine(_directory, RunManifestFile.FileName);
        await File.AppendAllTextAsync(runJson, " ");

        var error = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));

        Assert.Equal(runJson, error.FilePath);
        Assert.Contains("run.json does not match the plan", error.Message, StringComparison.Ordinal);
        Assert.Contains(plan.RunManifestSha256, error.Message, StringComparison.Ordinal);
        Assert.Contains(ShardFiles.Sha256Of(await File.ReadAllBytesAsync(runJson)), error.Message, StringComparison.Ordinal);

        File.Delete(runJson);
        var missing = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));
        Assert.Equal(runJson, missing.FilePath);
        Assert.Contains("missing", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_plan_json_is_named()
    {
        var error = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));

        Assert.Equal(ShardFiles.PlanPath(_directory), error.FilePath);
        Assert.Contains("plan.json not found", error.Message, StringComparison.Ordinal);
        Assert.False(ShardFiles.IsPlanFolder(_directory));
    }

    [Fact]
    public async Task Another_schema_version_is_refused_naming_the_file_even_when_its_shape_changed()
    {
        await PlanWithRunJsonAsync();
        var path = ShardFiles.PlanPath(_directory);

        await File.WriteAllTextAsync(path, "{ \"schemaVersion\": 2, \"runId\": \"x\", \"shards\": [] }");
        var other = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));
        Assert.Equal(path, other.FilePath);
        Assert.Contains("schemaVersion 2 is not supported", other.Message, StringComparison.Ordinal);

        // A later schema may change a field's type: the version is what the reader must be told about, not the field.
        await File.WriteAllTextAsync(path, "{ \"schemaVersion\": 2, \"shards\": { \"count\": 3 } }");
        var reshaped = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));
        Assert.Equal(path, reshaped.FilePath);
        Assert.Contains("schemaVersion 2 is not supported", reshaped.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(path, "{ \"runId\": \"x\", \"shards\": [] }");
        var none = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));
        Assert.Equal(path, none.FilePath);
        Assert.Contains("schemaVersion", none.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("schemaVersion 0", none.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Malformed_plan_json_names_the_file_and_the_line()
    {
        await PlanWithRunJsonAsync();
        var path = ShardFiles.PlanPath(_directory);
        await File.WriteAllTextAsync(path, "{\n  \"schemaVersion\": 1,\n  \"runId\": \n}");

        var error = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));

        Assert.Equal(path, error.FilePath);
        Assert.Equal(4, error.Line);
        Assert.Contains("plan.json", error.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(path, "null");
        var empty = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));
        Assert.Equal(path, empty.FilePath);
    }

    [Fact]
    public async Task A_plan_without_its_shards_or_hashes_is_refused_naming_the_file()
    {
        var plan = await PlanWithRunJsonAsync();
        var path = ShardFiles.PlanPath(_directory);

        // Valid JSON of the right version, but a field is missing: every reader after this one would dereference it.
        await File.WriteAllTextAsync(path, $"{{ \"schemaVersion\": 1, \"runId\": \"r\", \"runManifestSha256\": \"{plan.RunManifestSha256}\", \"costModel\": \"c\" }}");
        var noShards = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));
        Assert.Equal(path, noShards.FilePath);
        Assert.Contains("shards", noShards.Message, StringComparison.Ordinal);

        await File.WriteAllTextAsync(path, $"{{ \"schemaVersion\": 1, \"runId\": \"r\", \"runManifestSha256\": \"{plan.RunManifestSha256}\", \"costModel\": \"c\", \"shards\": [ {{ \"index\": 0, \"expectedCost\": 1, \"resources\": {{ \"cpus\": 1, \"memoryBytes\": 1 }} }} ] }}");
        var noWork = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));
        Assert.Equal(path, noWork.FilePath);
        Assert.Contains("work", noWork.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shards_out_of_order_are_refused()
    {
        var plan = await PlanWithRunJsonAsync();
        var swapped = plan with { Shards = [plan.Shards[1], plan.Shards[0], .. plan.Shards[2..]] };
        await ShardFiles.WritePlanAsync(swapped, _directory, CancellationToken.None);

        var error = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));

        Assert.Equal(ShardFiles.PlanPath(_directory), error.FilePath);
        Assert.Contains("shard 0 of 3 has index 1", error.Message, StringComparison.Ordinal);

        var gap = plan with { Shards = [plan.Shards[0], plan.Shards[2] with { Index = 2 }] };
        await ShardFiles.WritePlanAsync(gap, _directory, CancellationToken.None);
        var gapError = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadPlanAsync(_directory, CancellationToken.None));
        Assert.Contains("shard 1 of 2 has index 2", gapError.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_is_finished_when_its_last_attempt_finished()
    {
        var killed = Attempt("node-a", finished: false);
        var done = Attempt("node-b", finished: true);

        Assert.False(Record([]).Finished);
        Assert.False(Record([killed]).Finished);
        Assert.True(Record([done]).Finished);
        Assert.True(Record([killed, killed, done]).Finished);
        // A rerun of a finished shard is running again until it finishes (and then finds nothing left to do).
        Assert.False(Record([done, killed]).Finished);
    }

    [Fact]
    public async Task A_shard_record_round_trips_and_a_shard_that_never_started_has_none()
    {
        var shardDirectory = ShardFiles.ShardDirectory(_directory, 7);
        Assert.Null(await ShardFiles.ReadShardAsync(shardDirectory, CancellationToken.None));

        var record = Record([Attempt("node-a", finished: false), Attempt("node-b", finished: true)]);
        await ShardFiles.WriteShardAsync(record, shardDirectory, CancellationToken.None);
        var back = await ShardFiles.ReadShardAsync(shardDirectory, CancellationToken.None);

        Assert.NotNull(back);
        Assert.Equal(HarnessJson.Serialize(record), HarnessJson.Serialize(back));
        Assert.True(back.Finished);
        Assert.Equal(["node-a", "node-b"], back.Attempts.Select(a => a.Host.HostName));
        Assert.Equal(record.Attempts[1].Scheduler, back.Attempts[1].Scheduler);
        Assert.Equal(record.Attempts[1].FinishedAt, back.Attempts[1].FinishedAt);
        Assert.DoesNotContain("finished\"", await File.ReadAllTextAsync(ShardFiles.ShardRecordPath(shardDirectory)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_broken_shard_record_names_its_file()
    {
        var shardDirectory = ShardFiles.ShardDirectory(_directory, 2);
        Directory.CreateDirectory(shardDirectory);
        var path = ShardFiles.ShardRecordPath(shardDirectory);

        await File.WriteAllTextAsync(path, "{ \"schemaVersion\": 1, \"index\": 2,\n \"attempts\": [ }");
        var broken = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadShardAsync(shardDirectory, CancellationToken.None));
        Assert.Equal((path, 2), (broken.FilePath, broken.Line));

        await File.WriteAllTextAsync(path, "{ \"schemaVersion\": 9 }");
        var version = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadShardAsync(shardDirectory, CancellationToken.None));
        Assert.Equal(path, version.FilePath);
        Assert.Contains("schemaVersion 9 is not supported", version.Message, StringComparison.Ordinal);

        // Without its attempts a record could not say whether the shard finished.
        await File.WriteAllTextAsync(path, "{ \"schemaVersion\": 1, \"index\": 2, \"runId\": \"r\", \"planSha256\": \"p\" }");
        var noAttempts = await Assert.ThrowsAsync<InputFileException>(() => ShardFiles.ReadShardAsync(shardDirectory, CancellationToken.None));
        Assert.Equal(path, noAttempts.FilePath);
        Assert.Contains("attempts", noAttempts.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Machines_group_attempts_by_machine_in_order_of_first_appearance_with_sorted_distinct_shards()
    {
        var a = Attempt("node-a", finished: true);
        var b = Attempt("node-b", finished: true);
        // Same host name, another CPU: another machine (a reused name in a heterogeneous cluster).
        var aOtherCpu = a with { Host = a.Host with { CpuModel = "Intel Xeon 8480+" } };
        // Same machine, facts that may change between attempts (memory, OS update): still one machine.
        var aUpdated = a with { Host = a.Host with { TotalMemoryBytes = 1, OperatingSystem = "Linux 6.2" } };

        var merge = new MergeRecord(
            MergeRecord.CurrentSchemaVersion,
            "run",
            "sha",
            SampleRecords.Epoch,
            [
                new MergedShard(3, 10, [a, b, a]),
                new MergedShard(1, 10, [aUpdated]),
                new MergedShard(2, 10, [aOtherCpu, b]),
                new MergedShard(0, 0, []),
            ]);

        var machines = merge.Machines;

        Assert.Equal(
            [("node-a", "AMD EPYC 7763", "1,3"), ("node-b", "AMD EPYC 7763", "2,3"), ("node-a", "Intel Xeon 8480+", "2")],
            machines.Select(m => (m.Host.HostName, m.Host.CpuModel, string.Join(",", m.Shards))));
        Assert.Equal(a.Host.TotalMemoryBytes, machines[0].Host.TotalMemoryBytes);
    }

    [Fact]
    public async Task A_merge_record_round_trips_without_its_derived_machines()
    {
        Assert.Null(await ShardFiles.ReadMergeAsync(_directory, CancellationToken.None));
        var merge = new MergeRecord(
            MergeRecord.CurrentSchemaVersion,
            "run",
            "sha",
            SampleRecords.Epoch,
            [new MergedShard(0, 5, [Attempt("node-a", finished: true)]), new MergedShard(1, 7, [Attempt("node-b", finished: false), Attempt("node-b", finished: true)])]);

        await ShardFiles.WriteMergeAsync(merge, _directory, CancellationToken.None);
        var back = await ShardFiles.ReadMergeAsync(_directory, CancellationToken.None);

        Assert.NotNull(back);
        Assert.Equal(HarnessJson.Serialize(merge), HarnessJson.Serialize(back));
        Assert.Equal(merge.Machines.Select(m => (m.Host.HostName, string.Join(",", m.Shards))), back.Machines.Select(m => (m.Host.HostName, string.Join(",", m.Shards))));
        Assert.DoesNotContain("machines", await File.ReadAllTextAsync(ShardFiles.MergePath(_directory)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, "000")]
    [InlineData(7, "007")]
    [InlineData(42, "042")]
    [InlineData(999, "999")]
    [InlineData(1000, "1000")]
    public void Shard_directories_are_zero_padded_to_three_digits(int index, string name)
    {
        using (new CultureScope("ar-SA"))
        {
            Assert.Equal(Path.Combine(_directory, "shards", name), ShardFiles.ShardDirectory(_directory, index));
        }

        Assert.Equal(Path.Combine(_directory, "shards", name, "shard.json"), ShardFiles.ShardRecordPath(ShardFiles.ShardDirectory(_directory, index)));
    }

    // run.json (any bytes: the plan only hashes them) and a three-shard plan of it.
    private async Task<ShardPlan> PlanWithRunJsonAsync()
    {
        await RunManifestFile.WriteAsync(SampleRecords.Manifest(), _directory, CancellationToken.None);
        var runSha = ShardFiles.Sha256Of(await File.ReadAllBytesAsync(RunManifestFile.PathIn(_directory)));
        ShardUnit[] units =
        [
            new("a", "arith", 3, 0.5), new("a", "stream", 4, 0.5, Whole: "sequential verdict"),
            new("b", "arith", 3, 0.5), new("b", "dates", 2, 0.75),
        ];
        var shards = ShardPartitioner.Partition(units, 3, ids => new ShardResources(4, 3L * 1024 * 1024 * 1024 * ids.Count));
        return new ShardPlan(ShardPlan.CurrentSchemaVersion, "2025-03-14T09-26-53-abc123", runSha, "items x bytes of the model file", shards);
    }

    private static ShardRecord Record(ImmutableArray<ShardAttempt> attempts) =>
        new(ShardRecord.CurrentSchemaVersion, 7, "run", "sha", attempts);

    private static ShardAttempt Attempt(string host, bool finished) =>
        new(
            SampleRecords.Host() with { HostName = host },
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string> { ["SLURM_JOB_ID"] = "4711", ["SLURM_ARRAY_TASK_ID"] = "7" }),
            null,
            SampleRecords.Epoch,
            finished ? SampleRecords.Epoch.AddMinutes(3) : null,
            finished ? 12 : null);
}
