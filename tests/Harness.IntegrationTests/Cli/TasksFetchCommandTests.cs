using Harness.Tests.Tasks;
using System.Text.Json;
using Harness.Core.Runs;
using Harness.Store.Sqlite;
using Harness.Tests.Downloads;

namespace Harness.IntegrationTests.Cli;

/// <summary>
/// <c>harness tasks fetch</c> as a user runs it, against a loopback HTTP server that serves ../shared/datasets under
/// raw.githubusercontent.com's layout (no test touches the internet), then <c>harness run</c> on the fetched suite.
/// </summary>
[Trait("Category", "Model")]
public sealed class TasksFetchCommandTests : IDisposable
{
    private const string NutcrackerCommit = "95fa9aa468d4d0e179e2e950cc68cd5058463503";
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    private readonly string root = Directory.CreateTempSubdirectory("harness-fetch-").FullName;

    public void Dispose()
    {
        try
        {
            Directory.Delete(root, recursive: true);
        }
        catch (IOException)
        {
            // A worker may still be closing the store; the temp folder is left for the OS.
        }
    }

    /// <summary>Serves <c>/brucewlee/nutcracker-db/&lt;commit&gt;/db/&lt;task&gt;/&lt;file&gt;</c> from the shared copy; <paramref name="corrupt"/> flips one byte.</summary>
    private static LoopbackHttpServer Mirror(Func<bool> corrupt) => new(path =>
    {
        var prefix = $"/brucewlee/nutcracker-db/{NutcrackerCommit}/db/";
        if (!path.StartsWith(prefix, StringComparison.Ordinal))
        {
            return new(404, "not here"u8.ToArray());
        }

        var file = SharedDatasets.PathOf(Path.Combine("nutcracker-db", path[prefix.Length..]));
        if (!File.Exists(file))
        {
            return new(404, "not here"u8.ToArray());
        }

        var bytes = File.ReadAllBytes(file);
        if (corrupt())
        {
            bytes[bytes.Length / 2] ^= 0x01;
        }

        return new(200, bytes);
    });

    private Task<HarnessProcess.Result> HarnessAsync(string cache, params string[] args)
    {
        var start = HarnessProcess.StartInfo(root, args);
        start.Environment["HARNESS_CACHE"] = cache;
        return HarnessProcess.RunToEndAsync(start, Timeout, $"harness {string.Join(' ', args)}");
    }

    [RequiresSharedDatasetFact("nutcracker-db")]
    public async Task Fetch_over_http_is_cached_verified_and_the_suite_runs_with_acc_and_acc_norm()
    {
        var corrupt = false;
        await using var server = Mirror(() => corrupt);
        var mirror = server.BaseUri.AbsoluteUri.TrimEnd('/');
        var cache = Path.Combine(root, "cache");
        var tasks = Path.Combine(root, "tasks");
        var suite = Path.Combine(tasks, "arc-easy");

        var first = await HarnessAsync(cache, "tasks", "fetch", "arc-easy", "--mirror", mirror, "--tasks", tasks);

        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Assert.Equal(1, server.RequestCount);
        Assert.Equal(2376, File.ReadLines(Path.Combine(suite, "items.jsonl")).Count());
        Assert.Contains("95fa9aa468d4d0e179e2e950cc68cd5058463503", await File.ReadAllTextAsync(Path.Combine(suite, "SOURCE.md")), StringComparison.Ordinal);

        // The same bytes, offline, give the same folder: --from is up to date with what the download wrote.
        var offline = await HarnessAsync(cache, "tasks", "fetch", "arc-easy", "--from", SharedDatasets.Root, "--tasks", tasks);
        Assert.True(offline.ExitCode == 0, offline.Output + offline.Error);
        Assert.Contains("up to date", offline.Output, StringComparison.Ordinal);

        Directory.Delete(suite, recursive: true);
        var cached = await HarnessAsync(cache, "tasks", "fetch", "arc-easy", "--mirror", mirror, "--tasks", tasks, "--json");
        Assert.True(cached.ExitCode == 0, cached.Output + cached.Error);
        Assert.Equal(1, server.RequestCount);
        using (var json = JsonDocument.Parse(cached.Output))
        {
            Assert.Equal("written", json.RootElement[0].GetProperty("suites")[0].GetProperty("outcome").GetString());
        }

        corrupt = true;
        var emptyCache = Path.Combine(root, "cache2");
        var damaged = await HarnessAsync(emptyCache, "tasks", "fetch", "arc-easy", "--mirror", mirror, "--tasks", Path.Combine(root, "tasks2"));
        Assert.Equal(2, damaged.ExitCode);
        Assert.Contains("checksum mismatch", damaged.Output + damaged.Error, StringComparison.Ordinal);
        Assert.Contains("db/arc-easy/test.json", damaged.Output + damaged.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root, "tasks2", "arc-easy")));

        var unknown = await HarnessAsync(cache, "tasks", "fetch", "arc-esy", "--tasks", tasks);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("did you mean arc-easy?", unknown.Output + unknown.Error, StringComparison.Ordinal);

        // harness run has no item limit, and 2,376 items take minutes on a busy test machine: evaluate the first 8.
        var items = Path.Combine(suite, "items.jsonl");
        await File.WriteAllLinesAsync(items, File.ReadLines(items).Take(8).ToArray());
        var manifest = Path.Combine(root, "models.manifest");
        await File.WriteAllTextAsync(manifest, $"""
            version: 1
            defaults:
              context_size: 512
              threads: 2
              batch_size: 512
              gpu_layers: 0
              chat_template: none
            models:
              - id: stories260k
                path: {JsonSerializer.Serialize(SharedModels.Stories260KPath)}
                format: gguf
            """);

        var run = await HarnessAsync(cache, "run", "--models", manifest, "--tasks", tasks, "--suite", suite, "--results", Path.Combine(root, "results"), "--idle-baseline", "0");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var runDirectory = Directory.GetDirectories(Path.Combine(root, "results")).Single();
        using (var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(runDirectory, "report.json"))))
        {
            var fixedSuite = report.RootElement.GetProperty("fixedSuites").EnumerateArray().Single();
            Assert.Equal("arc-easy", fixedSuite.GetProperty("suite").GetString());
            Assert.Equal(8, fixedSuite.GetProperty("itemCount").GetInt32());
            Assert.Equal(8, fixedSuite.GetProperty("rows")[0].GetProperty("verdict").GetProperty("coverage").GetProperty("evaluated").GetInt32());
        }

        var store = await SqliteRunStore.OpenAsync(runDirectory, CancellationToken.None);
        await using (store)
        {
            var records = new List<ItemRecord>();
            await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
            {
                records.Add(item);
            }

            Assert.Equal(8, records.Count);
            Assert.All(records, r => Assert.StartsWith("Question: ", r.PromptText, StringComparison.Ordinal));
            Assert.All(records, r => Assert.EndsWith("\nAnswer:", r.PromptText, StringComparison.Ordinal));
            Assert.All(records, r => Assert.Equal(["acc_norm", "choice"], r.Scores.Select(s => s.Scorer).Order(StringComparer.Ordinal)));
        }
    }
}
