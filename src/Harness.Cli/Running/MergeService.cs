using System.Collections.Immutable;
using Harness.Core.Contention;
using Harness.Core.Judging;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Sharding;
using Harness.Core.Suites;
using Harness.Store.Sqlite;

namespace Harness.Cli.Running;

/// <summary>What <c>harness merge</c> produced.</summary>
internal sealed record MergeResult(string PlanDirectory, RunManifest Manifest, MergeRecord Merge, IReadOnlyList<ModelRunRecord> Models, RunReport Report);

/// <summary>
/// <c>harness merge DIR</c>: checks every shard of a plan (its plan hash, its machine record, that it finished and
/// recorded exactly the items the plan gave it), copies the shards' records into one store in the plan folder and
/// writes the ordinary reports from it. Built beside and swapped in, so a failed merge leaves no half-merged store,
/// and merging again rebuilds the same store.
/// </summary>
internal sealed class MergeService(TimeProvider timeProvider)
{
    /// <summary>How often <c>--wait</c> reads the shards' records.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    public async Task<MergeResult> MergeAsync(string planDirectory, TimeSpan wait, CancellationToken cancellationToken)
    {
        planDirectory = Path.GetFullPath(planDirectory);
        var (plan, planSha) = await ShardFiles.ReadPlanAsync(planDirectory, cancellationToken);
        var manifest = await RunManifestFile.ReadAsync(planDirectory, cancellationToken);
        var records = await WaitForShardsAsync(planDirectory, plan, planSha, wait, cancellationToken);
        using var folderLock = RunFolderLock.Acquire(planDirectory);

        // Which shard owns each (model, suite, item): the ranges of plan.json over the suites as planned (sha256-checked).
        var suites = RunService.LoadPlannedSuites(manifest).ToDictionary(s => s.Name, StringComparer.Ordinal);
        var owner = new Dictionary<ItemKey, (int Shard, ShardWork Work, int Position)>();
        var position = 0;
        foreach (var shard in plan.Shards)
        {
            foreach (var work in shard.Work)
            {
                var items = suites[work.Suite].Items;
                for (var i = work.FirstItem; i < work.FirstItem + work.ItemCount; i++)
                {
                    owner.Add(new ItemKey(work.ModelId, work.Suite, items[i].Id), (shard.Index, work, position++));
                }
            }
        }

        var merging = Path.Combine(planDirectory, $".merging-{Guid.NewGuid():N}");
        try
        {
            var merged = new List<(int Position, ItemRecord Item)>();
            var judgements = new List<JudgementRecord>();
            var models = new Dictionary<string, List<(int Shard, ModelRunRecord Record, int Items)>>(StringComparer.Ordinal);
            var merges = ImmutableArray.CreateBuilder<MergedShard>();
            foreach (var shard in plan.Shards)
            {
                var shardDirectory = ShardFiles.ShardDirectory(planDirectory, shard.Index);
                var store = await SqliteRunStore.OpenAsync(shardDirectory, cancellationToken);
                await using (store)
                {
                    var own = new List<ItemRecord>();
                    await foreach (var item in store.ReadItemsAsync(cancellationToken))
                    {
                        if (!owner.TryGetValue(item.Key, out var at) || at.Shard != shard.Index)
                        {
                            throw new InputFileException(planDirectory, null, at.Work is null
                                ? $"shard {shard.Index} recorded ({item.Key.ModelId}, {item.Key.Suite}, {item.Key.ItemId}), which is not in the plan; {shardDirectory} is not this plan's shard"
                                : $"shard {shard.Index} recorded ({item.Key.ModelId}, {item.Key.Suite}, {item.Key.ItemId}), which the plan gives to shard {at.Shard}; {shardDirectory} is not this plan's shard");
                        }

                        own.Add(item);
                        merged.Add((at.Position, item));
                    }

                    var statuses = await store.ReadModelsAsync(cancellationToken);
                    CheckComplete(planDirectory, shard, statuses, own, suites, manifest.Sequential);
                    foreach (var status in statuses)
                    {
                        if (!models.TryGetValue(status.ModelId, out var list))
                        {
                            models[status.ModelId] = list = [];
                        }

                        list.Add((shard.Index, status, own.Count(i => i.Key.ModelId == status.ModelId)));
                    }

                    await foreach (var judgement in store.ReadJudgementsAsync(cancellationToken))
                    {
                        judgements.Add(judgement);
                    }

                    merges.Add(new MergedShard(shard.Index, own.Count, records[shard.Index].Attempts));
                }
            }

            var mergedModels = manifest.Models.Select(m => m.Entry.Id).Where(models.ContainsKey)
                .Select(id => Combine(models[id])).ToList();
            var target = await SqliteRunStore.OpenAsync(merging, cancellationToken);
            await using (target)
            {
                // In plan order, so the merged store is the same whichever shard finished first.
                await target.AppendItemsAsync([.. merged.OrderBy(m => m.Position).Select(m => m.Item)], cancellationToken);
                foreach (var record in mergedModels)
                {
                    await target.RecordModelAsync(record, cancellationToken);
                }

                foreach (var judgement in judgements)
                {
                    await target.AppendJudgementAsync(judgement, cancellationToken);
                }
            }

            // Swap the new store in; an older merge's store (and its WAL, if a reader left one) goes.
            var storePath = Path.Combine(planDirectory, SqliteRunStore.FileName);
            foreach (var stale in new[] { storePath + "-wal", storePath + "-shm" })
            {
                File.Delete(stale);
            }

            File.Move(Path.Combine(merging, SqliteRunStore.FileName), storePath, overwrite: true);
            AtomicFile.FlushDirectory(planDirectory);
            var mergeRecord = new MergeRecord(MergeRecord.CurrentSchemaVersion, manifest.RunId, planSha, timeProvider.GetUtcNow(), merges.ToImmutable());
            await ShardFiles.WriteMergeAsync(mergeRecord, planDirectory, cancellationToken);
            var reopened = await SqliteRunStore.OpenAsync(planDirectory, cancellationToken);
            await using (reopened)
            {
                var report = await ReportService.WriteAsync(planDirectory, manifest, reopened, cancellationToken);
                return new MergeResult(planDirectory, manifest, mergeRecord, mergedModels, report);
            }
        }
        finally
        {
            if (Directory.Exists(merging))
            {
                Directory.Delete(merging, recursive: true);
            }
        }
    }

    // Every shard must have started under this plan, left a machine record and finished; with a wait, unfinished ones are polled.
    private async Task<ShardRecord[]> WaitForShardsAsync(
        string planDirectory, ShardPlan plan, string planSha, TimeSpan wait, CancellationToken cancellationToken)
    {
        var deadline = timeProvider.GetUtcNow() + wait;
        while (true)
        {
            var records = new ShardRecord?[plan.Shards.Length];
            var problems = new List<string>();
            foreach (var shard in plan.Shards)
            {
                var directory = ShardFiles.ShardDirectory(planDirectory, shard.Index);
                var record = records[shard.Index] = await ShardFiles.ReadShardAsync(directory, cancellationToken);
                if (record is null)
                {
                    problems.Add($"shard {shard.Index} never started (no {ShardFiles.ShardsDirectoryName}/{Path.GetFileName(directory)}/{ShardFiles.ShardFileName})");
                }
                else if (!string.Equals(record.PlanSha256, planSha, StringComparison.Ordinal) || record.Index != shard.Index)
                {
                    // Never waited for: a shard of another plan will not become this plan's.
                    throw new InputFileException(planDirectory, null,
                        $"shard {shard.Index} ({ShardFiles.ShardRecordPath(directory)}) ran shard {record.Index} of plan {record.PlanSha256}, not this plan ({planSha}); nothing was merged");
                }
                else if (record.Attempts.IsEmpty)
                {
                    problems.Add($"shard {shard.Index} has no machine record (its shard.json lists no attempt)");
                }
                else if (!record.Finished)
                {
                    var last = record.Attempts[^1];
                    problems.Add($"shard {shard.Index} has not finished (its last attempt started {last.StartedAt.ToUniversalTime():yyyy-MM-dd HH:mm:ss} UTC on {last.Host.HostName} and is still running or was killed)");
                }
            }

            if (problems.Count == 0)
            {
                return records!;
            }

            var left = deadline - timeProvider.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                throw new InputFileException(planDirectory, null,
                    $"{string.Join("; ", problems)}; run each with `harness run --plan {planDirectory} --shard <index>` (it resumes where it stopped), then merge again; nothing was merged");
            }

            await Task.Delay(left < PollInterval ? left : PollInterval, timeProvider, cancellationToken);
        }
    }

    // A finished shard has every item of its ranges, except where its model failed to load or crashed (then the merged
    // run shows the model as such, as a single run would) or where a sequential stream decided before its last item.
    private static void CheckComplete(
        string planDirectory, Shard shard, IReadOnlyList<ModelRunRecord> statuses, List<ItemRecord> own, Dictionary<string, Suite> suites,
        SequentialPlan? sequential)
    {
        var recorded = own.Select(i => i.Key).ToHashSet();
        foreach (var work in shard.Work.Where(w => sequential?.OrderOf(w.Suite) is null))
        {
            var status = statuses.FirstOrDefault(s => s.ModelId == work.ModelId)?.Status;
            if (status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed)
            {
                continue;
            }

            var items = suites[work.Suite].Items;
            var missing = Enumerable.Range(work.FirstItem, work.ItemCount)
                .Where(i => !recorded.Contains(new ItemKey(work.ModelId, work.Suite, items[i].Id))).ToList();
            if (missing.Count > 0)
            {
                throw new InputFileException(planDirectory, null,
                    $"shard {shard.Index} says it finished, but {missing.Count} of its {work.ItemCount} items of ({work.ModelId}, {work.Suite}) have no record (first: '{items[missing[0]].Id}') and the model's status is {status?.ToString() ?? "missing"}; run the shard again (`harness run --plan {planDirectory} --shard {shard.Index}`); nothing was merged");
            }
        }
    }

    /// <summary>
    /// One model's record from its shards' records. A failure anywhere is the model's (the worst status wins, with its
    /// message); the peak memory is the highest; the load facts and energy facts are those of the shard that ran most
    /// of its items; contention is the busiest shard's, so a latency ceiling measured on a busy node stays undecided.
    /// </summary>
    internal static ModelRunRecord Combine(IReadOnlyList<(int Shard, ModelRunRecord Record, int Items)> records)
    {
        var main = records.OrderByDescending(r => r.Items).ThenBy(r => r.Shard).First().Record;
        var worst = records.Select(r => r.Record).OrderBy(r => Severity(r.Status)).First();
        var busiest = records.Select(r => r.Record.Contention).OfType<ModelContention>()
            .OrderByDescending(c => c.OtherProcessesShare ?? 0).ThenByDescending(c => c.StealShare ?? 0).FirstOrDefault();
        var peaks = records.Select(r => r.Record.PeakResidentMemoryBytes).OfType<long>().ToList();
        return main with
        {
            Status = worst.Status,
            Failure = worst.Failure,
            PeakResidentMemoryBytes = peaks.Count > 0 ? peaks.Max() : null,
            UpdatedAt = records.Max(r => r.Record.UpdatedAt),
            Contention = busiest ?? main.Contention,
        };
    }

    private static int Severity(ModelRunStatus status) => status switch
    {
        ModelRunStatus.LoadFailed => 0,
        ModelRunStatus.Crashed => 1,
        ModelRunStatus.Loaded => 2,
        _ => 3,
    };
}
