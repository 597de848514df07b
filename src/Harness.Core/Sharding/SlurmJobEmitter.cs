using System.Text;

namespace Harness.Core.Sharding;

/// <summary>
/// <c>--emit slurm</c>: a job array with one task per shard (<c>slurm/shards.sbatch</c>), a merge job
/// (<c>slurm/merge.sbatch</c>) and <c>slurm/submit.sh</c>, which queues the array and then the merge with an
/// <c>afterany</c> dependency on it.
/// </summary>
/// <remarks>
/// Why <c>afterany</c> and not <c>afterok</c> (found on Slurm 22.05 with <c>.ci/slurm.sh</c>'s single node):
/// an array task cancelled with <c>scancel</c> marks an <c>afterok</c> dependency on the array failed for good: the merge
/// stays pending with reason <c>DependencyNeverSatisfied</c> even after <c>scontrol requeue</c> has run the task again to
/// success. <c>afterany</c> waits for the requeued task and runs the merge when it ends. It also merges when a shard ends
/// with a model that crashed (exit 3), where the merge's report is what says so; and a shard that never finished makes the
/// merge exit 2 naming it, so an early merge loses nothing. The one early case: between <c>scancel</c> and
/// <c>scontrol requeue</c> the cancelled task counts as ended, so when every other task has ended by then the merge
/// starts and exits 2 naming that shard; <c>scontrol requeue</c> on the running task (no <c>scancel</c>) has no such gap,
/// and <c>sbatch --dependency=afterany:ARRAY_JOB slurm/merge.sbatch</c> in the plan folder queues the merge again.
/// Paths go into <c>#SBATCH</c> lines in double quotes with backslash escapes (sbatch's own parsing of those lines),
/// and into shell code in single quotes, so a plan folder with spaces, quotes, <c>$</c> or <c>#</c> in its path works; a
/// path with <c>%</c> or a backslash is refused, as Slurm reads log paths as file name patterns.
/// </remarks>
public sealed class SlurmJobEmitter : ISchedulerEmitter
{
    /// <summary>The folder, relative to the plan folder, that holds the job files and the tasks' logs.</summary>
    public const string Folder = "slurm";

    /// <summary>CPUs the merge job asks for: it reads the shards' SQLite stores and writes reports, no model.</summary>
    public const int MergeCpus = 1;

    /// <summary>Memory the merge job asks for, in MiB: the stores and the report, no model.</summary>
    public const int MergeMemoryMiB = 2048;

    public string Name => "slurm";

    public IReadOnlyList<EmittedFile> Emit(SchedulerJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        if (spec.ShardCount < 1)
        {
            throw new ArgumentException($"a Slurm array needs at least one shard, the plan has {spec.ShardCount}", nameof(spec));
        }

        if (!Path.IsPathFullyQualified(spec.PlanDirectory))
        {
            throw new ArgumentException($"the plan folder must be an absolute path (every node opens it at the same path): {spec.PlanDirectory}", nameof(spec));
        }

        // slurmstepd reads the whole log path (the working directory included) as a file name pattern: % starts a
        // replacement and a backslash anywhere turns every replacement off and is dropped, so the logs would land elsewhere.
        if (spec.PlanDirectory.AsSpan().IndexOfAny("%\\\n\r") >= 0)
        {
            throw new ArgumentException($"Slurm cannot write logs under a plan folder whose path has %, a backslash or a line break: {spec.PlanDirectory}", nameof(spec));
        }

        if (string.IsNullOrWhiteSpace(spec.HarnessCommand))
        {
            throw new ArgumentException("the harness command is empty", nameof(spec));
        }

        var jobName = JobName(spec.RunId);
        return
        [
            new EmittedFile($"{Folder}/shards.sbatch", ShardsScript(spec, jobName)),
            new EmittedFile($"{Folder}/merge.sbatch", MergeScript(spec, jobName + "-merge")),
            new EmittedFile($"{Folder}/submit.sh", SubmitScript(spec), Executable: true),
        ];
    }

    /// <summary>Memory for <c>--mem</c> in MiB, rounded up so a task never gets less than the plan asked for.</summary>
    public static long MemoryMiB(long bytes) => Math.Max(1, (bytes + (1L << 20) - 1) >> 20);

    /// <summary>
    /// A word for a bash script: single quotes, with each <c>'</c> closed, escaped and reopened; nothing inside is expanded.
    /// </summary>
    public static string ShellQuote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>
    /// A value for an <c>#SBATCH</c> line: sbatch splits those lines itself (not the shell): a backslash escapes the next
    /// character, quotes group, an unquoted <c>#</c> starts a comment. A line break cannot be carried at all.
    /// </summary>
    public static string SbatchQuote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (value.AsSpan().IndexOfAny('\n', '\r') >= 0)
        {
            throw new ArgumentException($"an #SBATCH line cannot carry a line break: {value}", nameof(value));
        }

        return "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";
    }

    /// <summary><c>harness-</c> and the run id, with anything but letters, digits, <c>.</c>, <c>_</c> and <c>-</c> replaced by <c>_</c> (squeue's columns, job name filters).</summary>
    public static string JobName(string runId)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var name = new StringBuilder("harness-", 8 + runId.Length);
        foreach (var c in runId)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' ? c : '_');
        }

        return name.ToString();
    }

    private static string ShardsScript(SchedulerJobSpec spec, string jobName)
    {
        var text = new StringBuilder();
        Line(text, "#!/usr/bin/env bash");
        Line(text, $"# Written by harness plan --emit slurm: one array task per shard of the plan in {OneLine(spec.PlanDirectory)}.");
        Line(text, "# Queue it with slurm/submit.sh, which queues the merge after it. A requeued task (scontrol requeue, a failed node)");
        Line(text, "# resumes its shard where the store left off, and its log continues in the same file.");
        Line(text, $"#SBATCH --job-name={jobName}");
        Line(text, $"#SBATCH --array=0-{spec.ShardCount - 1}");
        Line(text, $"#SBATCH --cpus-per-task={Math.Max(1, spec.PerTask.Cpus)}");
        Line(text, $"#SBATCH --mem={MemoryMiB(spec.PerTask.MemoryBytes)}M");
        Line(text, "#SBATCH --ntasks=1");
        Line(text, "#SBATCH --requeue");
        Line(text, "#SBATCH --open-mode=append");
        Line(text, $"#SBATCH --chdir={SbatchQuote(spec.PlanDirectory)}");
        Line(text, $"#SBATCH --output={Folder}/logs/shard_%A_%a.out");
        Line(text, $"#SBATCH --error={Folder}/logs/shard_%A_%a.err");
        Line(text, "set -euo pipefail");
        Harness(text, spec);
        Line(text, ": \"${SLURM_ARRAY_TASK_ID:?submit this script as a job array: sbatch slurm/shards.sbatch (its #SBATCH lines give the array)}\"");
        Line(text, "echo \"harness shard $SLURM_ARRAY_TASK_ID of job ${SLURM_ARRAY_JOB_ID:-?} on $(hostname), restart ${SLURM_RESTART_COUNT:-0}, $(date -u +%FT%TZ)\" >&2");
        Line(text, "eval \"exec $HARNESS\"' run --plan \"$PLAN_DIR\" --shard \"$SLURM_ARRAY_TASK_ID\"'");
        return text.ToString();
    }

    private static string MergeScript(SchedulerJobSpec spec, string jobName)
    {
        var text = new StringBuilder();
        Line(text, "#!/usr/bin/env bash");
        Line(text, $"# Written by harness plan --emit slurm: merges the shards of the plan in {OneLine(spec.PlanDirectory)} into its store and reports.");
        Line(text, "# slurm/submit.sh queues it with --dependency=afterany on the array; exit 2 names a shard that has not finished.");
        Line(text, $"#SBATCH --job-name={jobName}");
        Line(text, $"#SBATCH --cpus-per-task={MergeCpus}");
        Line(text, $"#SBATCH --mem={MergeMemoryMiB}M");
        Line(text, "#SBATCH --ntasks=1");
        Line(text, "#SBATCH --open-mode=append");
        Line(text, $"#SBATCH --chdir={SbatchQuote(spec.PlanDirectory)}");
        Line(text, $"#SBATCH --output={Folder}/logs/merge_%j.out");
        Line(text, $"#SBATCH --error={Folder}/logs/merge_%j.err");
        Line(text, "set -euo pipefail");
        Harness(text, spec);
        Line(text, "eval \"exec $HARNESS\"' merge \"$PLAN_DIR\"'");
        return text.ToString();
    }

    private static string SubmitScript(SchedulerJobSpec spec)
    {
        var text = new StringBuilder();
        Line(text, "#!/usr/bin/env bash");
        Line(text, $"# Written by harness plan --emit slurm: queues the {spec.ShardCount} shards of the plan in {OneLine(spec.PlanDirectory)} as a job array,");
        Line(text, "# then the merge, which starts when every array task has ended (afterany: a task that was cancelled and requeued");
        Line(text, "# is waited for; see docs/scale-out.md). Arguments go to both sbatch calls (--partition=..., --account=..., --time=...).");
        Line(text, "# Prints the array's job id, then the merge's, one a line.");
        Line(text, "set -euo pipefail");
        Line(text, $"PLAN_DIR={ShellQuote(spec.PlanDirectory)}");
        Line(text, "cd -- \"$PLAN_DIR\"");
        Line(text, $"mkdir -p {Folder}/logs");
        Line(text, $"array_id=$(sbatch --parsable \"$@\" {Folder}/shards.sbatch)");
        Line(text, "array_id=${array_id%%;*}");
        Line(text, $"merge_id=$(sbatch --parsable --dependency=\"afterany:$array_id\" \"$@\" {Folder}/merge.sbatch)");
        Line(text, "merge_id=${merge_id%%;*}");
        Line(text, "echo \"queued shards as array job $array_id and the merge as job $merge_id; logs in $PLAN_DIR/" + Folder + "/logs\" >&2");
        Line(text, "echo \"$array_id\"");
        Line(text, "echo \"$merge_id\"");
        return text.ToString();
    }

    /// <summary>
    /// The plan folder and the harness command as variables. <c>HARNESS</c> is a shell command line (the node's harness,
    /// e.g. <c>dotnet /opt/harness/harness.dll</c>); the environment may override it, as a node may keep the harness elsewhere.
    /// </summary>
    private static void Harness(StringBuilder text, SchedulerJobSpec spec)
    {
        Line(text, $"PLAN_DIR={ShellQuote(spec.PlanDirectory)}");
        Line(text, "# The harness on the node, a shell command line; set HARNESS in the environment (sbatch passes it on) to use another.");
        Line(text, $"HARNESS=${{HARNESS:-{ShellQuote(spec.HarnessCommand)}}}");
    }

    private static string OneLine(string value) => value.ReplaceLineEndings(" ");

    private static void Line(StringBuilder text, string line) => text.Append(line).Append('\n');
}
