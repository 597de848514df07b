using System.Collections.Immutable;
using Harness.Core.Energy;
using Harness.Core.Runs;

namespace Harness.Core.Sharding;

/// <summary>
/// <c>plan.json</c> of a plan folder: how the run planned in <c>run.json</c> (same folder) is cut into shards. Written
/// once by <c>harness plan</c>; every shard and the merge check they read the same bytes (the sha256 of plan.json, <see cref="ShardFiles.ReadPlanAsync"/>).
/// </summary>
/// <param name="RunManifestSha256">sha256 of the plan folder's run.json bytes: the plan's models, suites, settings and hashes.</param>
/// <param name="CostModel">How <see cref="Shard.ExpectedCost"/> was computed, in words, for the reader of the file.</param>
public sealed record ShardPlan(
    int SchemaVersion,
    string RunId,
    string RunManifestSha256,
    string CostModel,
    ImmutableArray<Shard> Shards)
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>The work of every shard, in shard order.</summary>
    public IEnumerable<ShardWork> AllWork => Shards.SelectMany(s => s.Work);
}

/// <summary>One shard: a list of (model, suite, item range) in the order it runs them, and what it needs from a node.</summary>
/// <param name="ExpectedCost">Sum of the work's costs (items x model bytes, see <see cref="ShardPartitioner"/>), comparable between shards of one plan.</param>
public sealed record Shard(int Index, ImmutableArray<ShardWork> Work, double ExpectedCost, ShardResources Resources)
{
    /// <summary>Models this shard loads, in the order it loads them (one load each).</summary>
    public ImmutableArray<string> ModelIds => [.. Work.Select(w => w.ModelId).Distinct(StringComparer.Ordinal)];

    public int ItemCount => Work.Sum(w => w.ItemCount);
}

/// <summary>
/// Items <paramref name="FirstItem"/> .. <paramref name="FirstItem"/> + <paramref name="ItemCount"/> - 1 of a suite (in
/// the order of its items file) for one model.
/// </summary>
/// <param name="Whole">Why the range is the whole suite and was never split (a sequential verdict's stream, a pairwise
/// judge that needs every model's answer to an item); null for a range the partition was free to cut.</param>
public sealed record ShardWork(string ModelId, string Suite, int FirstItem, int ItemCount, string? Whole = null);

/// <summary>What a node needs for one shard: the most threads and memory of the models it loads (one at a time).</summary>
/// <param name="Cpus">The largest <c>threads</c> among the shard's models (at least 1).</param>
/// <param name="MemoryBytes">An estimate of the largest model's need: its file size x 1.5 + 1 GiB for the harness and its worker.</param>
public sealed record ShardResources(int Cpus, long MemoryBytes);

/// <summary>
/// <c>shards/&lt;index&gt;/shard.json</c>: a shard's machine record. Every invocation of the shard (the first, and each
/// resume after a kill or a requeue) appends an attempt with the machine it ran on.
/// </summary>
/// <param name="PlanSha256">sha256 of the plan.json bytes the shard ran.</param>
public sealed record ShardRecord(int SchemaVersion, int Index, string RunId, string PlanSha256, ImmutableArray<ShardAttempt> Attempts)
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>The last attempt ran every item of the shard that was not recorded before it (its models may have crashed).</summary>
    public bool Finished => !Attempts.IsEmpty && Attempts[^1].FinishedAt is not null;
}

/// <summary>One invocation of a shard on one machine.</summary>
/// <param name="Scheduler">What the scheduler said of the job (<c>SLURM_JOB_ID</c>, <c>SLURM_ARRAY_JOB_ID</c>, the pod name, ...); empty when run by hand.</param>
/// <param name="Energy">The meters probed and used on this machine (a cluster's nodes may differ).</param>
/// <param name="FinishedAt">When the attempt ran out of work; null while it runs, and forever when it was killed.</param>
/// <param name="ItemsRecorded">Items this attempt recorded (set when it finishes).</param>
public sealed record ShardAttempt(
    HostFacts Host,
    ImmutableSortedDictionary<string, string> Scheduler,
    EnergyPlan? Energy,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt = null,
    int? ItemsRecorded = null);

/// <summary>
/// <c>merge.json</c>: what <c>harness merge</c> checked and took from each shard, and the machines the items ran on. The
/// reports of a merged run name the machines from it.
/// </summary>
public sealed record MergeRecord(
    int SchemaVersion,
    string RunId,
    string PlanSha256,
    DateTimeOffset MergedAt,
    ImmutableArray<MergedShard> Shards)
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>
    /// Distinct machines and the shards each ran, in order of first appearance. A machine is its node name where the
    /// scheduler gives one (<c>NODE_NAME</c>: a Kubernetes pod's host name is the pod's, not the node's), else its host
    /// name, with its CPU model and core count.
    /// </summary>
    public ImmutableArray<MachineShards> Machines =>
    [
        .. Shards.SelectMany(s => s.Attempts.Select(a => (Shard: s.Index, a.Host, Node: a.Scheduler?.GetValueOrDefault(NodeNameVariable))))
            .GroupBy(x => (Name: x.Node ?? x.Host.HostName, x.Host.CpuModel, x.Host.LogicalCores))
            .Select(g => new MachineShards(g.First().Host, [.. g.Select(x => x.Shard).Distinct().Order()], g.First().Node)),
    ];

    /// <summary>The variable a Kubernetes pod gets its node's name in (downward API <c>spec.nodeName</c>).</summary>
    public const string NodeNameVariable = "NODE_NAME";
}

/// <summary>A shard as merged: its attempts and how many item records it gave.</summary>
public sealed record MergedShard(int Index, int Items, ImmutableArray<ShardAttempt> Attempts);

/// <summary>A machine of a sharded run and the shards that ran (or partly ran) on it.</summary>
/// <param name="Node">The scheduler's node name where it differs from the host name (a Kubernetes pod's); null otherwise.</param>
public sealed record MachineShards(HostFacts Host, ImmutableArray<int> Shards, string? Node = null)
{
    /// <summary>What to call the machine: the node's name, else the host's.</summary>
    public string Name => Node ?? Host.HostName;
}
