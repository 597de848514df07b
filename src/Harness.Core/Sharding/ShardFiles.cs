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
        var plan = Deserialize<ShardPlan>(path, bytes, ShardPlan.CurrentSchemaVersion, p => p.SchemaVersion);
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
        return Deserialize<ShardRecord>(path, bytes, ShardRecord.CurrentSchemaVersion, r => r.SchemaVersion);
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
        return Deserialize<MergeRecord>(path, bytes, MergeRecord.CurrentSchemaVersion, r => r.SchemaVersion);
    }

    public static Task WriteMergeAsync(MergeRecord record, string planDirectory, CancellationToken cancellationToken) =>
        WriteAsync(MergePath(planDirectory), record, cancellationToken);

    private static Task WriteAsync<T>(string path, T value, CancellationToken cancellationToken) =>
        AtomicFile.WriteAsync(path, (stream, token) => JsonSerializer.SerializeAsync(stream, value, HarnessJson.IndentedOptions, token), cancellationToken);

    private static T Deserialize<T>(string path, byte[] bytes, int expectedVersion, Func<T, int> versionOf)
        where T : class
    {
        T value;
        try
        {
            value = JsonSerializer.Deserialize<T>(bytes, HarnessJson.Options)
                ?? throw new InputFileException(path, null, "the file holds null");
        }
        catch (JsonException e)
        {
            throw new InputFileException(path, e.LineNumber is { } line ? (int)line + 1 : null, $"invalid {Path.GetFileName(path)}: {e.Message}");
        }

        var version = versionOf(value);
        if (version != expectedVersion)
        {
            throw new InputFileException(path, null, $"schemaVersion {version} is not supported; this build reads schemaVersion {expectedVersion}");
        }

        return value;
    }
}
