using System.Collections.Immutable;

namespace Harness.Core.Sharding;

/// <summary>
/// What a scheduler's job files need to know of a plan (<c>harness plan --emit slurm|k8s</c>). Paths are absolute: the
/// plan folder, the manifest, the suites and local models must be at the same paths on every node (a shared
/// filesystem, or a volume mounted where it was on the planning machine); models with a <c>url</c> may instead come
/// from each node's own cache (<c>HARNESS_CACHE</c>), checked by sha256.
/// </summary>
/// <param name="PlanDirectory">Absolute path of the plan folder.</param>
/// <param name="RunId">The plan's run id (a job name is derived from it).</param>
/// <param name="ShardCount">Array tasks / completions: one per shard, indices 0..N-1.</param>
/// <param name="PerTask">The largest CPUs and memory any shard needs (an array's tasks all ask for the same).</param>
/// <param name="HarnessCommand">The shell command line (its words already quoted for a POSIX shell) that starts this harness build on a node, e.g.
/// <c>dotnet /opt/harness/harness.dll</c>; the job files run <c>$HARNESS run --plan DIR</c> and <c>$HARNESS merge DIR</c>.</param>
/// <param name="SharedPaths">Every absolute path a node must see: the plan folder, the manifest's folder, each suite's
/// folder and each local model file (a Kubernetes volume is mounted over their common root).</param>
/// <param name="Image">Container image for Kubernetes; null: the emitter's documented placeholder.</param>
/// <param name="VolumeClaim">Name of the PersistentVolumeClaim holding the plan, tasks and models (Kubernetes).</param>
public sealed record SchedulerJobSpec(
    string PlanDirectory,
    string RunId,
    int ShardCount,
    ShardResources PerTask,
    string HarnessCommand,
    ImmutableArray<string> SharedPaths,
    string? Image = null,
    string? VolumeClaim = null);

/// <summary>A file an emitter writes, relative to the plan folder.</summary>
public sealed record EmittedFile(string RelativePath, string Content, bool Executable = false);

/// <summary>Writes the job files that run a plan's shards on one scheduler and merge them when they are done.</summary>
public interface ISchedulerEmitter
{
    /// <summary>The <c>--emit</c> value: <c>slurm</c>, <c>k8s</c>.</summary>
    string Name { get; }

    IReadOnlyList<EmittedFile> Emit(SchedulerJobSpec spec);
}
