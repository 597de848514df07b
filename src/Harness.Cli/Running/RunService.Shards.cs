using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Contention;
using Harness.Core.Downloads;
using Harness.Core.Energy;
using Harness.Core.Hosting;
using Harness.Core.Scoring;
using Harness.Core.Judging;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Sharding;
using Harness.Core.Suites;
using Harness.Energy;
using Harness.Store.Sqlite;

namespace Harness.Cli.Running;

/// <summary>A plan folder as <c>harness plan</c> wrote it.</summary>
internal sealed record PlanResult(string PlanDirectory, RunManifest Manifest, ShardPlan Plan, string PlanSha256);

/// <summary>What one invocation of a shard did.</summary>
/// <param name="ItemsAssigned">Items the plan gives the shard (a sequential stream counts in full, though it may stop early).</param>
/// <param name="ItemsRecorded">Item records in the shard's store after this invocation, from every attempt.</param>
internal sealed record ShardRunResult(
    string ShardDirectory, int Index, int ShardCount, IReadOnlyList<ModelOutcome> Outcomes, int ItemsAssigned, int ItemsRecorded, int ItemsRecordedNow);

/// <summary>
/// Plans a run as shards (<c>harness plan</c>) and runs one shard of such a plan (<c>harness run --plan DIR --shard I</c>).
/// A shard is a run restricted to its work: the same run.json, suites and models (checked by sha256 on every node),
/// its own store in <c>shards/NNN/</c>, resumed from that store when the scheduler runs it again.
/// </summary>
internal sealed partial class RunService
{
    private const string CostModelText =
        "items x (model file bytes + 32 MiB per item); a served model counts the mean file size of the plan's local models, or 1 GiB without any";

    // An item's fixed cost (rendering, scoring, one fsynced commit, the worker round trip), as the bytes a model would
    // read in that time: without it a plan of tiny models would give the larger one a handful of items per shard.
    private const double PerItemOverheadBytes = 32d * 1024 * 1024;

    private const string SequentialWhole =
        "sequential verdict: the suite's items run in the recorded order, one stream, until the verdict decides";

    /// <summary>Plans a run into <paramref name="outputDirectory"/> (run.json, plan.json) without running anything.</summary>
    public async Task<PlanResult> PlanAsync(
        NewRunOptions options, string outputDirectory, int shardCount, IProgress<DownloadProgress>? downloads, CancellationToken cancellationToken)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(shardCount, 1);
        if (options.Comparison is not null)
        {
            throw new InputFileException(outputDirectory, null, "harness plan shards a run, not a comparison (its drift pass needs every model in one place)");
        }

        outputDirectory = Path.GetFullPath(outputDirectory);
        if (Directory.Exists(outputDirectory) && Directory.EnumerateFileSystemEntries(outputDirectory).Any())
        {
            throw new InputFileException(outputDirectory, null, "the --output folder exists and is not empty; a plan folder is written once, into a new folder");
        }

        var draft = await DraftAsync(options, cancellationToken);
        Directory.CreateDirectory(outputDirectory);
        try
        {
            using (RunFolderLock.Acquire(outputDirectory))
            {
                var frozen = await FreezeAsync(draft, options, downloads, cancellationToken);
                var failures = frozen.Failures.Concat(frozen.JudgeFailures).ToList();
                if (failures.Count > 0)
                {
                    // A shard on another node cannot do better than this machine: a model must resolve before it is planned.
                    throw new InputFileException(draft.Manifest.FilePath, null,
                        $"every model of a plan must resolve; {string.Join("; ", failures.Select(f => f.Message))}");
                }

                await RunManifestFile.WriteAsync(frozen.Manifest, outputDirectory, cancellationToken);
                var runJsonSha = ShardFiles.Sha256Of(await File.ReadAllBytesAsync(RunManifestFile.PathIn(outputDirectory), cancellationToken));
                var shards = ShardPartitioner.Partition(
                    Units(frozen.Manifest, draft.Prepared), shardCount, ids => Resources(frozen.Manifest, ids));
                var plan = new ShardPlan(ShardPlan.CurrentSchemaVersion, frozen.Manifest.RunId, runJsonSha, CostModelText, shards);
                await ShardFiles.WritePlanAsync(plan, outputDirectory, cancellationToken);
                var (_, planSha) = await ShardFiles.ReadPlanAsync(outputDirectory, cancellationToken);
                return new PlanResult(outputDirectory, frozen.Manifest, plan, planSha);
            }
        }
        catch
        {
            // Nothing but this command wrote here (the folder was empty or new): leave no half-written plan behind.
            Directory.Delete(outputDirectory, recursive: true);
            throw;
        }
    }

    /// <summary>
    /// Runs shard <paramref name="index"/> of the plan in <paramref name="planDirectory"/>, or resumes it from its store.
    /// Appends an attempt (this machine, the scheduler's job) to its shard.json before the first item and marks it
    /// finished when the shard has run out of work.
    /// </summary>
    public async Task<ShardRunResult> RunShardAsync(
        string planDirectory, int index, IRunObserver? observer, IProgress<DownloadProgress>? downloads, CancellationToken cancellationToken)
    {
        planDirectory = Path.GetFullPath(planDirectory);
        var (plan, planSha) = await ShardFiles.ReadPlanAsync(planDirectory, cancellationToken);
        if (index < 0 || index >= plan.Shards.Length)
        {
            throw new InputFileException(ShardFiles.PlanPath(planDirectory), null,
                $"there is no shard {index}: this plan has {plan.Shards.Length} shard{(plan.Shards.Length == 1 ? "" : "s")} (0..{plan.Shards.Length - 1})");
        }

        var shard = plan.Shards[index];
        var runManifest = await RunManifestFile.ReadAsync(planDirectory, cancellationToken);
        var shardDirectory = ShardFiles.ShardDirectory(planDirectory, index);
        Directory.CreateDirectory(shardDirectory);
        // One writer per shard: a second copy of the same array task stops here, before it touches the store.
        using var folderLock = RunFolderLock.Acquire(shardDirectory);
        var record = await ShardFiles.ReadShardAsync(shardDirectory, cancellationToken)
            ?? new ShardRecord(ShardRecord.CurrentSchemaVersion, index, runManifest.RunId, planSha, []);
        if (!string.Equals(record.PlanSha256, planSha, StringComparison.Ordinal) || record.Index != index)
        {
            throw new InputFileException(ShardFiles.ShardRecordPath(shardDirectory), null,
                $"this folder holds shard {record.Index} of plan {record.PlanSha256}, not shard {index} of this plan ({planSha}); nothing was run");
        }

        // Only the shard's own suites are read, hashed and given scorers: a shard of a 14-suite plan pays for its two.
        var suites = LoadPlannedSuites(runManifest, shard.Work.Select(w => w.Suite).ToHashSet(StringComparer.Ordinal));
        var modelIds = shard.ModelIds;
        var models = runManifest.Models.Where(m => modelIds.Contains(m.Entry.Id)).ToList();
        var judged = suites.SelectMany(s => s.Scorers)
            .Where(s => s.Name == JudgeSpec.ScorerName).ToList();
        var judgeModels = (runManifest.Judges?.Models ?? []).Where(_ => judged.Count > 0).ToList();
        ThrowIfMissing(
            ModelFileCheck.Check(runManifest.ManifestPath, [.. models.Concat(judgeModels).Where(m => m.FileSha256.Length > 0).Select(m => m.Entry)], readHeaders: false),
            shardDirectory);

        var attempt = new ShardAttempt(
            HostProbe.Probe(), SchedulerJob.FromEnvironment(), ShardEnergy(runManifest.Energy), timeProvider.GetUtcNow());
        record = record with { Attempts = record.Attempts.Add(attempt) };
        await ShardFiles.WriteShardAsync(record, shardDirectory, cancellationToken);

        // Each node resolves through its own cache (or the shared filesystem), and gets the bytes that were planned.
        var (resolved, failures, judges) = await ResolveAsPlannedAsync(runManifest, models, judgeModels, downloads, cancellationToken);
        var prepared = Prepare(suites, runManifest.Sequential).ToDictionary(p => p.Suite.Name, StringComparer.Ordinal);

        var store = await SqliteRunStore.OpenAsync(shardDirectory, cancellationToken);
        await using (store)
        {
            var before = (await store.GetRecordedKeysAsync(cancellationToken)).Count;
            var outcomes = await RecordFailuresAsync(store, failures, observer, cancellationToken);
            var coordinator = Coordinator(store, runManifest, attempt.Energy);
            // Model by model, each with only its own ranges: one load per model, as in a run.
            foreach (var model in resolved)
            {
                var work = shard.Work.Where(w => w.ModelId == model.Entry.Id).Select(w => Restrict(prepared[w.Suite], w)).ToList();
                outcomes.AddRange(await coordinator.RunAsync([model], work, observer, cancellationToken));
            }

            // The shard's store holds only its own items, so the judge pass judges exactly the shard's answers.
            await JudgeAsync(store, [.. prepared.Values], judges, observer, cancellationToken);

            var after = (await store.GetRecordedKeysAsync(cancellationToken)).Count;
            record = record with { Attempts = record.Attempts.SetItem(record.Attempts.Length - 1, attempt with { FinishedAt = timeProvider.GetUtcNow(), ItemsRecorded = after - before }) };
            await ShardFiles.WriteShardAsync(record, shardDirectory, CancellationToken.None);
            return new ShardRunResult(shardDirectory, index, plan.Shards.Length, outcomes, shard.ItemCount, after, after - before);
        }
    }

    // A shard's part of a suite: a range of its items in file order; a whole (sequential) stream keeps its recorded order.
    private static PreparedSuite Restrict(PreparedSuite prepared, ShardWork work) =>
        work.FirstItem == 0 && work.ItemCount == prepared.Suite.Items.Length
            ? prepared
            : prepared with { Suite = prepared.Suite with { Items = prepared.Suite.Items.Slice(work.FirstItem, work.ItemCount) } };

    // Every (model, suite) in plan order. A sequential stream is never cut; a pairwise judge needs every model's
    // answer to an item in the shard that judges it, so its suite's units travel together.
    private static List<ShardUnit> Units(RunManifest manifest, ImmutableArray<PreparedSuite> suites)
    {
        var local = manifest.Models.Where(m => !m.Served && m.FileSizeBytes > 0).Select(m => (double)m.FileSizeBytes).ToList();
        var servedCost = local.Count > 0 ? local.Average() : 1024d * 1024 * 1024;
        var units = new List<ShardUnit>();
        foreach (var model in manifest.Models)
        {
            var cost = (model.Served || model.FileSizeBytes <= 0 ? servedCost : model.FileSizeBytes) + PerItemOverheadBytes;
            foreach (var prepared in suites)
            {
                var pairwise = prepared.Scorers.OfType<JudgeScorer>().Any(j => j.Spec.Mode == JudgeMode.Pairwise);
                units.Add(new ShardUnit(
                    model.Entry.Id, prepared.Suite.Name, prepared.Suite.Items.Length, cost,
                    prepared.SequentialOrder is not null ? SequentialWhole
                        : pairwise ? $"pairwise judge of suite '{prepared.Suite.Name}': every model's answer to an item is judged in one shard" : null,
                    pairwise ? "pairwise:" + prepared.Suite.Name : null));
            }
        }

        return units;
    }

    // What a node needs: the most threads and the largest model of the shard (models load one at a time), and the judges.
    private static ShardResources Resources(RunManifest manifest, IReadOnlyCollection<string> modelIds)
    {
        var models = manifest.Models.Where(m => modelIds.Contains(m.Entry.Id)).Concat(manifest.Judges?.Models ?? []).ToList();
        if (models.Count == 0 || modelIds.Count == 0)
        {
            return new ShardResources(1, OneGiB);
        }

        var cpus = Math.Max(1, models.Max(m => m.Entry.Backend.Threads));
        var memory = models.Max(m => (long)Math.Ceiling(m.FileSizeBytes * 1.5)) + OneGiB;
        return new ShardResources(cpus, memory);
    }

    private const long OneGiB = 1L << 30;

    // Each node measures with its own meters: the plan's settings (estimate parameters, sampling, baseline) and its choice
    // to force the estimate carry over; which meters exist is this machine's.
    private EnergyPlan? ShardEnergy(EnergyPlan? planned)
    {
        if (planned is null)
        {
            return null;
        }

        var forced = planned.Selected.IsEmpty && planned.Probes.Any(p => p.Usable && p.Quality == EnergyQuality.Measured);
        var choice = EnergyMeterCatalog.Choose(energy.Meters(), forced);
        return planned with { Probes = choice.Probes, Selected = choice.Selected, PowerAtStart = energy.Power.Read() };
    }
}

/// <summary>What the scheduler says about the job a shard runs in; recorded with each attempt.</summary>
internal static class SchedulerJob
{
    private static readonly string[] Variables =
    [
        "SLURM_JOB_ID", "SLURM_ARRAY_JOB_ID", "SLURM_ARRAY_TASK_ID", "SLURM_RESTART_COUNT", "SLURMD_NODENAME", "SLURM_CLUSTER_NAME",
        "JOB_COMPLETION_INDEX", MergeRecord.NodeNameVariable,
    ];

    public static ImmutableSortedDictionary<string, string> FromEnvironment()
    {
        var values = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var name in Variables)
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                values[name] = value;
            }
        }

        // Kubernetes names the pod through HOSTNAME; it means something only inside an Indexed Job.
        if (values.ContainsKey("JOB_COMPLETION_INDEX") && Environment.GetEnvironmentVariable("HOSTNAME") is { Length: > 0 } pod)
        {
            values["POD_NAME"] = pod;
        }

        return values.ToImmutable();
    }

    /// <summary>The shard index the scheduler gave this process, or null outside an array task / indexed job.</summary>
    /// <exception cref="FormatException">The variable is set but not a number.</exception>
    public static int? ShardIndexFromEnvironment()
    {
        foreach (var name in new[] { "SLURM_ARRAY_TASK_ID", "JOB_COMPLETION_INDEX" })
        {
            if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
            {
                return int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                    ? index
                    : throw new FormatException($"{name}={value} is not a shard index");
            }
        }

        return null;
    }
}
