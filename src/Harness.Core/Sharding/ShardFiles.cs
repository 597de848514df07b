using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;
using Harness.Core.Serialization;
using Harness.Core.Suites;

namespace Harness.Core.Sharding;

/// <summary>
/// The files of a plan folder: <c>run.json</c> (the plan, as a run's), <c>plan.json</c> (the shards),
/// <c>shards/&lt;NNN&gt;/</c> (each shard's store and <c>shard.json</c>) and, once merged, <c>merge.json</c> beside the
/// merged store and reports. Every file is replaced atomically; every read names the file when it is wrong.
/// </summary>
public static class ShardFiles
{
    public const string PlanFileName = "plan.json";
    public const string ShardFileName = "shard.json";
    public const string MergeFileName = "merge.json";
    public const string ShardsDirectoryName = "shards";

    public static string PlanPath(string planDirectory) => Path.Combine(planDirectory, PlanFileName);

    public static string MergePath(string planDirectory) => Path.Combine(planDirectory, MergeFileName);

    /// <summary><c>shards/007</c>: zero-padded, so a listing sorts in shard order.</summary>
    public static string ShardDirectory(string planDirectory, int index) =>
        Path.Combine(planDirectory, ShardsDirectoryName, index.ToString("D3", CultureInfo.InvariantCulture));

    public static string ShardRecordPath(string shardDirectory) => Path.Combine(shardDirectory, ShardFileName);

    public static bool IsPlanFolder(string directory) => File.Exists(PlanPath(directory));

    public static string Sha256Of(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    public static Task WritePlanAsync(ShardPlan plan, string planDirectory, CancellationToken cancellationToken) =>
        WriteAsync(PlanPath(planDirectory), plan, cancellationToken);

    /// <summary>Reads plan.json and checks that run.json is the one it was planned with.</summary>
    /// <returns>The plan and the sha256 of its bytes, the hash every shard and the merge must agree on.</returns>
    /// <exception cref="InputFileException">A file is missing, not of this schema, or run.json changed since the plan was written.</exception>
    public static async Task<(ShardPlan Plan, string PlanSha256)> ReadPlanAsync(string planDirectory, CancellationToken cancellationToken)
    {
        var path = PlanPath(planDirectory);
        if (!File.Exists(path))
        {
            throw new InputFileException(path, null, "plan.json not found; a plan folder is written by harness plan --shards N --output DIR");
        }

        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        var plan = Deserialize<ShardPlan>(path, bytes, ShardPlan.CurrentSchemaVersion, MissingField);
        var runJson = Path.Combine(planDirectory, RunManifestFile.FileName);
        var runSha = File.Exists(runJson) ? Sha256Of(await File.ReadAllBytesAsync(runJson, cancellationToken).ConfigureAwait(false)) : "missing";
        if (!string.Equals(runSha, plan.RunManifestSha256, StringComparison.Ordinal))
        {
            throw new InputFileException(runJson, null,
                $"run.json does not match the plan (plan.json says sha256 {plan.RunManifestSha256}, the file has {runSha}); plan again with harness plan");
        }

        for (var i = 0; i < plan.Shards.Length; i++)
        {
            if (plan.Shards[i].Index != i)
            {
                throw new InputFileException(path, null, $"shard {i} of {plan.Shards.Length} has index {plan.Shards[i].Index}; the shards must be listed 0..N-1 in order");
            }
        }

        return (plan, Sha256Of(bytes));
    }

    /// <summary>The shard's record, or null where the shard never started.</summary>
    public static async Task<ShardRecord?> ReadShardAsync(string shardDirectory, CancellationToken cancellationToken)
    {
        var path = ShardRecordPath(shardDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return Deserialize<ShardRecord>(path, bytes, ShardRecord.CurrentSchemaVersion, MissingField);
    }

    public static Task WriteShardAsync(ShardRecord record, string shardDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(record);
        Directory.CreateDirectory(shardDirectory);
        return WriteAsync(ShardRecordPath(shardDirectory), record, cancellationToken);
    }

    /// <summary>merge.json, or null where the folder was never merged (or is an ordinary run folder).</summary>
    public static async Task<MergeRecord?> ReadMergeAsync(string planDirectory, CancellationToken cancellationToken)
    {
        var path = MergePath(planDirectory);
        if (!File.Exists(path))
        {
            return null;
        }

        var bytes = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        return Deserialize<MergeRecord>(path, bytes, MergeRecord.CurrentSchemaVersion, MissingField);
    }

    public static Task WriteMergeAsync(MergeRecord record, string planDirectory, CancellationToken cancellationToken) =>
        WriteAsync(MergePath(planDirectory), record, cancellationToken);

    private static Task WriteAsync<T>(string path, T value, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(path, (stream, token) => JsonSerializer.SerializeAsync(stream, value, HarnessJson.IndentedOptions, token), cancellationToken);

    // After the version (VersionedJson), the fields every later reader dereferences must be there: a missing array would
    // otherwise surface as a NullReferenceException far from the file.
    private static T Deserialize<T>(string path, byte[] bytes, int expectedVersion, Func<T, string?> missingField)
        where T : class
    {
        var name = Path.GetFileName(path);
        var value = VersionedJson.Deserialize<T>(path, bytes, expectedVersion, name);
        if (missingField(value) is { } field)
        {
            throw new InputFileException(path, null, $"invalid {name}: \"{field}\" is missing");
        }

        return value;
    }

    private static string? MissingField(ShardPlan plan)
    {
        if (plan.RunId is null)
        {
            return "runId";
        }

        if (plan.RunManifestSha256 is null)
        {
            return "runManifestSha256";
        }

        if (plan.Shards.IsDefault)
        {
            return "shards";
        }

        for (var i = 0; i < plan.Shards.Length; i++)
        {
            var shard = plan.Shards[i];
            if (shard is null)
            {
                return $"shards[{i}]";
            }

            if (shard.Work.IsDefault)
            {
                return $"shards[{i}].work";
            }

            if (shard.Resources is null)
            {
                return $"shards[{i}].resources";
            }

            for (var j = 0; j < shard.Work.Length; j++)
            {
                if (shard.Work[j] is not { ModelId: not null, Suite: not null })
                {
                    return $"shards[{i}].work[{j}].modelId/suite";
                }
            }
        }

        return null;
    }

    private static string? MissingField(ShardRecord record) =>
        record.RunId is null ? "runId"
        : record.PlanSha256 is null ? "planSha256"
        : MissingField(record.Attempts, "attempts");

    private static string? MissingField(MergeRecord record)
    {
        if (record.RunId is null)
        {
            return "runId";
        }

        if (record.PlanSha256 is null)
        {
            return "planSha256";
        }

        if (record.Shards.IsDefault)
        {
            return "shards";
        }

        for (var i = 0; i < record.Shards.Length; i++)
        {
            if (record.Shards[i] is null)
            {
                return $"shards[{i}]";
            }

            if (MissingField(record.Shards[i].Attempts, $"shards[{i}].attempts") is { } field)
            {
                return field;
            }
        }

        return null;
    }

    private static string? MissingField(ImmutableArray<ShardAttempt> attempts, string name)
    {
        if (attempts.IsDefault)
        {
            return name;
        }

        for (var i = 0; i < attempts.Length; i++)
        {
            if (attempts[i] is null)
            {
                return $"{name}[{i}]";
            }

            if (attempts[i].Host is null)
            {
                return $"{name}[{i}].host";
            }

            if (attempts[i].Scheduler is null)
            {
                return $"{name}[{i}].scheduler";
            }
        }

        return null;
    }
}
