using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Harness.Core.Sharding;

/// <summary>
/// <c>--emit k8s</c>: a <c>batch/v1</c> Indexed Job that runs one pod per shard (<c>k8s/shards-job.yaml</c>) and a
/// second Job that waits for every shard and merges them (<c>k8s/merge-job.yaml</c>). Kubernetes has no dependency
/// between Jobs, so the merge job is applied with the shards and polls the plan folder (<c>harness merge --wait</c>).
/// </summary>
/// <remarks>
/// <para>
/// Pods see the plan, the suites and the local models through one PersistentVolumeClaim mounted at the deepest folder
/// that holds every <see cref="SchedulerJobSpec.SharedPaths"/> entry, so every absolute path in run.json resolves inside
/// the pod as it did on the planning machine. <c>HARNESS_CACHE</c> points at a folder on that volume, where models
/// with a url and sha256 are downloaded once for every pod.
/// </para>
/// <para>
/// <c>restartPolicy: Never</c>: a failed shard pod is replaced by a new pod, perhaps on another node (a node that ran
/// out of memory or died is no place to retry), the failed pod's log stays readable, and Kubernetes only accepts a
/// <c>podFailurePolicy</c> with <c>Never</c>. The new pod reruns the same command, which resumes the shard from its
/// store. <c>backoffLimitPerIndex</c> (Kubernetes 1.29 and later) gives each shard its own retries, so one shard that
/// keeps failing does not use up the others'. Exit codes 2, 3 and 4 fail the index at once: bad input, or a shard that
/// ran to its end with a model failure or verdict errors recorded; a retry would not change either.
/// </para>
/// <para>
/// The files are YAML written here line by line: every string is double-quoted (JSON-style escapes, which YAML
/// shares), so a path with a space, a colon or a <c>#</c> survives, and no value can turn into a YAML 1.1 boolean
/// (<c>on</c>, <c>no</c>) or a number when Kubernetes' parser reads it.
/// </para>
/// </remarks>
public sealed class KubernetesJobEmitter : ISchedulerEmitter
{
    /// <summary>Image used when the plan names none: a placeholder to replace (docs/scale-out.md).</summary>
    public const string PlaceholderImage = "harness:latest";

    /// <summary>PersistentVolumeClaim used when the plan names none.</summary>
    public const string DefaultVolumeClaim = "harness-data";

    /// <summary>Folder of <c>HARNESS_CACHE</c> under the volume's mount path.</summary>
    public const string CacheFolderName = ".harness-cache";

    /// <summary>How long the merge job waits for every shard when the caller does not say: a week.</summary>
    public static readonly TimeSpan DefaultMergeWait = TimeSpan.FromDays(7);

    /// <summary>Retries of a failed shard pod when the caller does not say.</summary>
    public const int DefaultRetriesPerShard = 3;

    /// <summary>
    /// What the merge pod asks for: it waits more than it works, and merging reads the shard stores and writes the
    /// reports without loading a model. Edit merge-job.yaml for a run whose reports need more memory.
    /// </summary>
    public static readonly ShardResources MergeResources = new(1, 2L * 1024 * 1024 * 1024);

    /// <summary>Relative path of the shards' Indexed Job.</summary>
    public const string ShardsJobPath = "k8s/shards-job.yaml";

    /// <summary>Relative path of the merge Job.</summary>
    public const string MergeJobPath = "k8s/merge-job.yaml";

    /// <summary>Label that ties the two Jobs and their pods to one run (value: the sanitised run id).</summary>
    public const string RunIdLabel = "harness/run-id";

    private const string VolumeName = "harness-data";

    // An Indexed Job's pods are named <job>-<index>, which must stay a 63-character DNS label with any index.
    private const int MaxRunLabelLength = 40;

    private readonly TimeSpan mergeWait;
    private readonly int retriesPerShard;

    /// <summary>An emitter with <see cref="DefaultMergeWait"/> and <see cref="DefaultRetriesPerShard"/>.</summary>
    public KubernetesJobEmitter()
        : this(DefaultMergeWait, DefaultRetriesPerShard)
    {
    }

    /// <param name="mergeWait">The merge job's <c>--wait</c>: how long it polls for unfinished shards before it gives up (exit 2).</param>
    /// <param name="retriesPerShard">The shards Job's <c>backoffLimitPerIndex</c>: new pods for one shard after its pod failed.</param>
    public KubernetesJobEmitter(TimeSpan mergeWait, int retriesPerShard)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(mergeWait, TimeSpan.FromSeconds(1));
        ArgumentOutOfRangeException.ThrowIfNegative(retriesPerShard);
        this.mergeWait = mergeWait;
        this.retriesPerShard = retriesPerShard;
    }

    public string Name => "k8s";

    public IReadOnlyList<EmittedFile> Emit(SchedulerJobSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentOutOfRangeException.ThrowIfLessThan(spec.ShardCount, 1);
        ArgumentException.ThrowIfNullOrWhiteSpace(spec.HarnessCommand);
        var mountPath = MountPath([spec.PlanDirectory, .. spec.SharedPaths]);
        var planDirectory = Normalize(spec.PlanDirectory);
        var names = new KubernetesNames(RunLabel(spec.RunId));
        var job = new JobShape(
            Image: spec.Image ?? PlaceholderImage,
            ImageIsPlaceholder: spec.Image is null,
            Claim: spec.VolumeClaim ?? DefaultVolumeClaim,
            MountPath: mountPath,
            RunId: spec.RunId,
            RunLabel: names.RunLabel,
            PlanDirectory: planDirectory);

        var shardCommand = $"exec {spec.HarnessCommand} run --plan {ShellQuote(planDirectory)}";
        var mergeSeconds = ((long)Math.Ceiling(mergeWait.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        var mergeCommand = $"exec {spec.HarnessCommand} merge {ShellQuote(planDirectory)} --wait {mergeSeconds}";
        return
        [
            new EmittedFile(ShardsJobPath, ShardsJob(spec, job, names.ShardsJob, shardCommand)),
            new EmittedFile(MergeJobPath, MergeJob(spec, job, names.MergeJob, mergeCommand)),
        ];
    }

    private string ShardsJob(SchedulerJobSpec spec, JobShape job, string name, string command)
    {
        var y = new YamlLines();
        y.Line(0, $"# {spec.ShardCount} shard(s) of plan {Quote(job.PlanDirectory)}: one pod per shard; each pod reads its shard index");
        y.Line(0, "# from JOB_COMPLETION_INDEX. A failed pod is replaced and the new one resumes the shard. See docs/scale-out.md.");
        Header(y, job, name, "shard");
        y.Line(0, "spec:");
        y.Line(1, "completionMode: \"Indexed\"");
        y.Line(1, $"completions: {Int(spec.ShardCount)}");
        y.Line(1, "# How many shards run at once; lower it to leave room on the cluster.");
        y.Line(1, $"parallelism: {Int(spec.ShardCount)}");
        y.Line(1, $"backoffLimitPerIndex: {Int(retriesPerShard)}");
        PodFailurePolicy(y, "FailIndex");
        Template(y, job, "shard", command, Resources(spec.PerTask), onRetry: "resumes the shard");
        return y.ToString();
    }

    private static string MergeJob(SchedulerJobSpec spec, JobShape job, string name, string command)
    {
        var y = new YamlLines();
        y.Line(0, $"# Merges the {spec.ShardCount} shard(s) of plan {Quote(job.PlanDirectory)} once every shard.json says finished");
        y.Line(0, "# (Kubernetes has no dependency between Jobs: apply it with the shards; it polls). See docs/scale-out.md.");
        Header(y, job, name, "merge");
        y.Line(0, "spec:");
        y.Line(1, "completions: 1");
        y.Line(1, "parallelism: 1");
        y.Line(1, "backoffLimit: 2");
        PodFailurePolicy(y, "FailJob");
        Template(y, job, "merge", command, MergeResources, onRetry: "waits and merges again");
        return y.ToString();
    }

    private static void Header(YamlLines y, JobShape job, string name, string component)
    {
        y.Line(0, "apiVersion: \"batch/v1\"");
        y.Line(0, "kind: \"Job\"");
        y.Line(0, "metadata:");
        y.Line(1, $"name: {Quote(name)}");
        Labels(y, 1, job, component);
        y.Line(1, "annotations:");
        y.Line(2, $"harness/run-id: {Quote(job.RunId)}");
        y.Line(2, $"harness/plan: {Quote(job.PlanDirectory)}");
    }

    private static void Labels(YamlLines y, int depth, JobShape job, string component)
    {
        y.Line(depth, "labels:");
        y.Line(depth + 1, "app.kubernetes.io/name: \"harness\"");
        y.Line(depth + 1, $"app.kubernetes.io/component: {Quote(component)}");
        y.Line(depth + 1, $"{RunIdLabel}: {Quote(job.RunLabel)}");
    }

    // Exit codes of harness run / merge that a new pod cannot change: 2 bad input (or, for merge, a shard missing or
    // not finished within --wait), 3 a model failed to load or crashed, 4 verdict errors; both last ones are results.
    // Pods stopped by the cluster (node drain, preemption) are retried without using up the retries.
    private static void PodFailurePolicy(YamlLines y, string action)
    {
        y.Line(1, "podFailurePolicy:");
        y.Line(2, "rules:");
        y.Line(2, $"- action: {Quote(action)}");
        y.Line(3, "onExitCodes:");
        y.Line(4, "containerName: \"harness\"");
        y.Line(4, "operator: \"In\"");
        y.Line(4, "values: [2, 3, 4]");
        y.Line(2, "- action: \"Ignore\"");
        y.Line(3, "onPodConditions:");
        y.Line(3, "- type: \"DisruptionTarget\"");
        y.Line(4, "status: \"True\"");
    }

    private static void Template(YamlLines y, JobShape job, string component, string command, ShardResources resources, string onRetry)
    {
        y.Line(1, "template:");
        y.Line(2, "metadata:");
        Labels(y, 3, job, component);
        y.Line(2, "spec:");
        y.Line(3, $"# Never: a failed pod is replaced by a new pod (maybe on another node) that {onRetry}; the failed pod's log stays.");
        y.Line(3, "restartPolicy: \"Never\"");
        y.Line(3, "containers:");
        y.Line(3, "- name: \"harness\"");
        if (job.ImageIsPlaceholder)
        {
            y.Line(4, "# Placeholder: an image with the harness at the path HarnessCommand names (harness plan --k8s-image).");
        }

        y.Line(4, $"image: {Quote(job.Image)}");
        y.Line(4, "command:");
        y.Line(4, "- \"/bin/sh\"");
        y.Line(4, "- \"-c\"");
        y.Line(4, $"- {Quote(command)}");
        y.Line(4, "env:");
        y.Line(4, "- name: \"HARNESS_CACHE\"");
        y.Line(5, $"value: {Quote(CachePath(job.MountPath))}");
        y.Line(4, "resources:");
        foreach (var kind in (string[])["requests", "limits"])
        {
            y.Line(5, $"{kind}:");
            y.Line(6, $"cpu: {Quote(Int(resources.Cpus))}");
            y.Line(6, $"memory: {Quote(MemoryQuantity(resources.MemoryBytes))}");
        }

        y.Line(4, "volumeMounts:");
        y.Line(4, $"- name: {Quote(VolumeName)}");
        y.Line(5, $"mountPath: {Quote(job.MountPath)}");
        y.Line(3, "volumes:");
        y.Line(3, $"- name: {Quote(VolumeName)}");
        y.Line(4, "persistentVolumeClaim:");
        y.Line(5, $"claimName: {Quote(job.Claim)}");
    }

    private static ShardResources Resources(ShardResources perTask) =>
        new(Math.Max(1, perTask.Cpus), Math.Max(1, perTask.MemoryBytes));

    /// <summary>Memory as a Kubernetes quantity in MiB, rounded up: <c>3072Mi</c>.</summary>
    public static string MemoryQuantity(long bytes)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(bytes);
        const long mebibyte = 1024 * 1024;
        return string.Create(CultureInfo.InvariantCulture, $"{(bytes + mebibyte - 1) / mebibyte}Mi");
    }

    /// <summary><c>HARNESS_CACHE</c> inside the pods: a folder on the volume.</summary>
    public static string CachePath(string mountPath) => mountPath.EndsWith('/') ? mountPath + CacheFolderName : $"{mountPath}/{CacheFolderName}";

    /// <summary>
    /// The deepest folder that holds every path, where the volume is mounted. Paths are absolute POSIX paths (the pods
    /// run Linux); the plan folder must be among them, so the result is a folder and never a model file.
    /// </summary>
    /// <exception cref="ArgumentException">A path is not absolute, climbs with <c>..</c>, or the paths share only <c>/</c>
    /// (a volume cannot be mounted over the image's root).</exception>
    public static string MountPath(IReadOnlyCollection<string> paths)
    {
        ArgumentNullException.ThrowIfNull(paths);
        if (paths.Count == 0)
        {
            throw new ArgumentException("no path to mount", nameof(paths));
        }

        string[]? common = null;
        foreach (var path in paths)
        {
            var segments = Segments(path);
            if (common is null)
            {
                common = segments;
                continue;
            }

            var n = 0;
            while (n < common.Length && n < segments.Length && string.Equals(common[n], segments[n], StringComparison.Ordinal))
            {
                n++;
            }

            common = common[..n];
        }

        if (common!.Length == 0)
        {
            throw new ArgumentException(
                $"the plan folder, suites and models share no folder below / ({string.Join(", ", paths)}); put them under one folder (the volume) before planning for Kubernetes",
                nameof(paths));
        }

        return "/" + string.Join('/', common);
    }

    private static string Normalize(string path) => "/" + string.Join('/', Segments(path));

    private static string[] Segments(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!path.StartsWith('/'))
        {
            throw new ArgumentException($"'{path}' is not an absolute POSIX path; Kubernetes pods run Linux and see the volume at absolute paths", nameof(path));
        }

        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Where(s => s != ".").ToArray();
        if (segments.Contains(".."))
        {
            throw new ArgumentException($"'{path}' climbs with '..'; give the full path", nameof(path));
        }

        return segments;
    }

    /// <summary>
    /// The run id as a DNS-1123 label fragment: lowercase <c>[a-z0-9-]</c>, starting and ending with a letter or digit,
    /// at most 40 characters. An id that had to change keeps 8 hex digits of its sha256 at the end, so two ids that
    /// sanitise alike still get different names.
    /// </summary>
    public static string RunLabel(string runId)
    {
        ArgumentNullException.ThrowIfNull(runId);
        var builder = new StringBuilder(runId.Length);
        foreach (var c in runId.ToLowerInvariant())
        {
            var keep = c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
            if (keep)
            {
                builder.Append(c);
            }
            else if (builder.Length > 0 && builder[^1] != '-')
            {
                builder.Append('-');
            }
        }

        var label = builder.ToString().Trim('-');
        if (label.Length > 0 && string.Equals(label, runId, StringComparison.Ordinal) && label.Length <= MaxRunLabelLength)
        {
            return label;
        }

        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(runId)))[..8];
        var room = MaxRunLabelLength - hash.Length - 1;
        var head = label.Length > room ? label[..room].TrimEnd('-') : label;
        return head.Length == 0 ? $"run-{hash}" : $"{head}-{hash}";
    }

    /// <summary>A string as a POSIX shell word: single quotes, each <c>'</c> written as <c>'\''</c>.</summary>
    public static string ShellQuote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
    }

    /// <summary>
    /// A YAML double-quoted scalar: <c>"</c> and <c>\</c> escaped, control characters as <c>\uXXXX</c>, everything
    /// else as written. JSON's escapes are YAML's, so the same text is also a JSON string.
    /// </summary>
    public static string Quote(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var builder = new StringBuilder(text.Length + 2).Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"':
                    builder.Append("\\\"");
                    break;
                case '\\':
                    builder.Append("\\\\");
                    break;
                case '\n':
                    builder.Append("\\n");
                    break;
                case '\t':
                    builder.Append("\\t");
                    break;
                case '\r':
                    builder.Append("\\r");
                    break;
                // C0 and C1 controls, DEL, the byte-order mark and U+2028/2029 would break the line or the reader.
                case < ' ' or (>= '\u007F' and <= '\u009F') or '\uFEFF' or '\u2028' or '\u2029':
                    builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
                    break;
                default:
                    builder.Append(c);
                    break;
            }
        }

        return builder.Append('"').ToString();
    }

    private static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);

    private sealed record JobShape(string Image, bool ImageIsPlaceholder, string Claim, string MountPath, string RunId, string RunLabel, string PlanDirectory);

    private sealed record KubernetesNames(string RunLabel)
    {
        public string ShardsJob => $"harness-{RunLabel}-shards";

        public string MergeJob => $"harness-{RunLabel}-merge";
    }

    private sealed class YamlLines
    {
        private readonly StringBuilder text = new();

        public void Line(int depth, string line) => text.Append(' ', depth * 2).Append(line).Append('\n');

        public override string ToString() => text.ToString();
    }
}
