using System.Collections.Immutable;
using System.Diagnostics;
using System.Text.Json;
using Harness.Core.Gguf;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Store.Sqlite;
using Microsoft.Data.Sqlite;

namespace Harness.IntegrationTests.Cli;

/// <summary>The CLI as a user runs it: real processes, real workers, real llama.cpp on the project's own models.</summary>
[Trait("Category", "Model")]
public sealed class RunCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task A_run_writes_store_run_json_and_reports_and_report_rebuilds_them_identically()
    {
        using var ws = new HarnessProcess.Workspace();

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--suite", "tasks/arith", "--suite", "tasks/sentiment", "--model", "tiny-bigram");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var dir = ws.SingleRunDirectory();
        foreach (var file in new[] { "store.sqlite", "run.json", "report.md", "report.json", "report.html" })
        {
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
        }

        var manifest = await RunManifestFile.ReadAsync(dir, CancellationToken.None);
        Assert.Equal(RunManifest.CurrentSchemaVersion, manifest.SchemaVersion);
        Assert.Equal(["arith", "sentiment"], manifest.Suites.Select(s => s.Name));
        Assert.Equal(64, Assert.Single(manifest.Models).FileSha256.Length);
        Assert.Equal("c0c7e14", manifest.Versions["llama.cpp"]);
        Assert.True(manifest.Host.LogicalCores > 0);

        var items = await ReadItemsAsync(dir);
        Assert.Equal(400, items.Count);
        Assert.All(items, i => Assert.False(string.IsNullOrEmpty(i.PromptText)));
        // Every item carries energy from the sources the plan chose (the estimate on a machine without meters).
        var energy = Assert.IsType<Harness.Core.Energy.EnergyPlan>(manifest.Energy);
        Assert.All(items, i => Assert.Equal(string.Join('+', energy.Selected), i.Energy?.Source));
        Assert.All(items.Where(i => i.Key.Suite == "sentiment"), i => Assert.Equal(2, i.Choices.Length));
        Assert.All(items.Where(i => i.Key.Suite == "arith"), i => Assert.True(i.Metrics.PromptTokens > 0));

        var markdown = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"));
        Assert.Contains("## arith", markdown, StringComparison.Ordinal);
        Assert.Contains("insufficient", markdown, StringComparison.Ordinal);
        Assert.Contains("## Energy and environment", markdown, StringComparison.Ordinal);
        Assert.Contains("J/correct answer", markdown, StringComparison.Ordinal);

        var json = await File.ReadAllBytesAsync(Path.Combine(dir, "report.json"));
        File.Delete(Path.Combine(dir, "report.json"));
        var rebuilt = await HarnessProcess.RunAsync(ws.Root, Timeout, "report", dir);
        Assert.True(rebuilt.ExitCode == 0, rebuilt.Output + rebuilt.Error);
        Assert.Equal(json, await File.ReadAllBytesAsync(Path.Combine(dir, "report.json")));
    }

    [Fact]
    public async Task The_same_run_twice_gives_the_same_outputs()
    {
        using var first = new HarnessProcess.Workspace();
        using var second = new HarnessProcess.Workspace();
        string[] args = ["run", "--suite", "tasks/dates", "--suite", "tasks/reverse", "--model", "tiny-bigram-f32", "--json"];

        var a = await HarnessProcess.RunAsync(first.Root, Timeout, args);
        var b = await HarnessProcess.RunAsync(second.Root, Timeout, args);

        Assert.Equal(0, a.ExitCode);
        Assert.Equal(0, b.ExitCode);
        Assert.Equal(Outputs(await ReadItemsAsync(first.SingleRunDirectory())), Outputs(await ReadItemsAsync(second.SingleRunDirectory())));
        using var summary = JsonDocument.Parse(a.Output);
        Assert.Equal("completed", summary.RootElement.GetProperty("outcomes")[0].GetProperty("status").GetString());
    }

    [Fact]
    public async Task Kill_9_mid_run_then_resume_finishes_without_losing_or_repeating_an_item()
    {
        using var reference = new HarnessProcess.Workspace();
        using var ws = new HarnessProcess.Workspace();
        string[] plan = ["run", "--suite", "tasks/arith", "--suite", "tasks/dates", "--suite", "tasks/sentiment", "--model", "tiny-bigram", "--model", "tiny-bigram-f32"];

        var uninterrupted = await HarnessProcess.RunAsync(reference.Root, Timeout, plan);
        Assert.Equal(0, uninterrupted.ExitCode);

        using (var victim = Process.Start(HarnessProcess.StartInfo(ws.Root, plan))!)
        {
            _ = victim.StandardOutput.ReadToEndAsync();
            _ = victim.StandardError.ReadToEndAsync();
            var watch = Stopwatch.StartNew();
            while (await CountCommittedAsync(ws.Results) < 250)
            {
                Assert.False(victim.HasExited, "the run finished before it could be killed");
                Assert.True(watch.Elapsed < Timeout, "the run made no progress");
                await Task.Delay(50);
            }

            victim.Kill(entireProcessTree: true); // SIGKILL to the CLI and its worker: no cleanup runs
            await victim.WaitForExitAsync();
        }

        var dir = ws.SingleRunDirectory();
        var beforeResume = await ReadItemsAsync(dir);
        Assert.InRange(beforeResume.Count, 250, 1199);

        var resumed = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--resume", dir);

        Assert.True(resumed.ExitCode == 0, resumed.Output + resumed.Error);
        var after = await ReadItemsAsync(dir);
        Assert.Equal(1200, after.Count);
        Assert.Equal(after.Count, after.Select(i => i.Key).Distinct().Count());
        // Items recorded before the kill are untouched by the resume.
        Assert.Equal(Outputs(beforeResume), Outputs(after.Where(i => beforeResume.Any(b => b.Key == i.Key)).ToList()));
        Assert.Equal(Outputs(await ReadItemsAsync(reference.SingleRunDirectory())), Outputs(after));
        Assert.True(File.Exists(Path.Combine(dir, "report.md")));
    }

    [Fact]
    public async Task Until_decided_stops_early_and_after_kill_9_a_resume_keeps_the_order_and_reaches_the_same_verdicts()
    {
        using var reference = new HarnessProcess.Workspace();
        using var ws = new HarnessProcess.Workspace();
        // Models that miss the bars by far decide within a few items each, which keeps this test short on a busy machine.
        // Suites without a latency ceiling: greedy outputs repeat exactly, timings do not, so only these verdicts must.
        string[] plan = ["run", "--until-decided", "--order-seed", "5", "--suite", "tasks/dates", "--suite", "tasks/json-extract", "--suite", "tasks/sentiment",
            "--model", "tiny-bigram", "--model", "tiny-bigram-f32"];

        var uninterrupted = await HarnessProcess.RunAsync(reference.Root, Timeout, plan);
        Assert.True(uninterrupted.ExitCode == 0, uninterrupted.Output + uninterrupted.Error);
        var referenceDir = reference.SingleRunDirectory();
        var referenceItems = await ReadItemsAsync(referenceDir);
        Assert.InRange(referenceItems.Count, 1, 1199); // 6 (model, suite) pairs of 200 items, each stopped once decided
        var manifest = await RunManifestFile.ReadAsync(referenceDir, CancellationToken.None);
        Assert.Equal(5, manifest.Sequential!.OrderSeed);
        Assert.Equal(["dates", "json-extract", "sentiment"], manifest.Sequential.Orders.Keys);
        Assert.Contains("of 200 items (sequential)", await File.ReadAllTextAsync(Path.Combine(referenceDir, "report.md")), StringComparison.Ordinal);

        using (var victim = Process.Start(HarnessProcess.StartInfo(ws.Root, plan))!)
        {
            _ = victim.StandardOutput.ReadToEndAsync();
            _ = victim.StandardError.ReadToEndAsync();
            var watch = Stopwatch.StartNew();
            while (await CountCommittedAsync(ws.Results) < referenceItems.Count / 3)
            {
                Assert.False(victim.HasExited, "the run finished before it could be killed");
                Assert.True(watch.Elapsed < Timeout, "the run made no progress");
                await Task.Delay(20);
            }

            victim.Kill(entireProcessTree: true); // SIGKILL to the CLI and its worker: no cleanup runs
            await victim.WaitForExitAsync();
        }

        var dir = ws.SingleRunDirectory();
        var beforeResume = await ReadItemsAsync(dir);
        Assert.InRange(beforeResume.Count, 1, referenceItems.Count - 1);

        var resumed = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--resume", dir);

        Assert.True(resumed.ExitCode == 0, resumed.Output + resumed.Error);
        var after = await ReadItemsAsync(dir);
        Assert.Equal(after.Count, after.Select(i => i.Key).Distinct().Count());
        Assert.Equal(Outputs(beforeResume), Outputs(after.Where(i => beforeResume.Any(b => b.Key == i.Key)).ToList()));
        // Same order, same state: the verdicts and the items each used are those of the uninterrupted run.
        Assert.Equal(await SequentialVerdictsAsync(referenceDir), await SequentialVerdictsAsync(dir));
    }

    // (model, suite, verdict, items used, decided) from report.json.
    private static async Task<List<string>> SequentialVerdictsAsync(string runDirectory)
    {
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(runDirectory, "report.json")));
        var rows = new List<string>();
        foreach (var suite in report.RootElement.GetProperty("fixedSuites").EnumerateArray())
        {
            foreach (var row in suite.GetProperty("rows").EnumerateArray())
            {
                var verdict = row.GetProperty("verdict");
                var sequential = verdict.GetProperty("sequential");
                rows.Add($"{row.GetProperty("modelId").GetString()}|{suite.GetProperty("suite").GetString()}|{verdict.GetProperty("kind").GetString()}|{sequential.GetProperty("itemsUsed").GetInt32()}|{sequential.GetProperty("decided").GetBoolean()}");
            }
        }

        Assert.Equal(6, rows.Count);
        return rows;
    }

    [Fact]
    public async Task A_native_abort_fails_its_model_and_the_others_still_run()
    {
        using var ws = new HarnessProcess.Workspace();
        // A string array where llama.cpp expects float scores trips GGML_ASSERT in gguf.cpp: abort(), not an exception.
        var good = Path.Combine(ws.Root, "models", "tiny-bigram.gguf");
        GgufTestFiles.CopyWithMetadata(good, Path.Combine(ws.Root, "models", "aborts.gguf"), metadata => metadata.Select(m => m.Key == "tokenizer.ggml.scores"
            ? new GgufMetadataEntry(m.Key, GgufValue.Array(m.Value.AsArray<float>().Select(f => f.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToImmutableArray()))
            : m));
        await File.WriteAllTextAsync(Path.Combine(ws.Root, "bad.manifest"), """
            version: 1
            defaults: { context_size: 256, threads: 1, batch_size: 256, gpu_layers: 0, chat_template: none }
            models:
              - { id: aborts, path: models/aborts.gguf }
              - { id: good, path: models/tiny-bigram.gguf }
              - { id: wrong-sha, path: models/tiny-bigram.gguf, sha256: "0000000000000000000000000000000000000000000000000000000000000000" }
            """);

        // A missing file no longer fails one model (the run refuses to start, CommandsAsPrintedTests); a file whose
        // sha256 is not the manifest's does: it is there, so the run starts, and that model does not load.
        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--models", "bad.manifest", "--suite", "tasks/arith");

        Assert.True(run.ExitCode == 3, run.Output + run.Error);
        Assert.Contains("GGML_ASSERT", run.Output, StringComparison.Ordinal);
        Assert.Contains("SIGABRT", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", run.Output, StringComparison.Ordinal); // no stack trace for bad input
        var dir = ws.SingleRunDirectory();
        var store = await SqliteRunStore.OpenAsync(dir, CancellationToken.None);
        await using (store)
        {
            var models = (await store.ReadModelsAsync(CancellationToken.None)).ToDictionary(m => m.ModelId);
            Assert.Equal(ModelRunStatus.Crashed, models["aborts"].Status);
            Assert.Equal(ModelRunStatus.Completed, models["good"].Status);
        }

        Assert.Equal(200, (await ReadItemsAsync(dir)).Count(i => i.Key.ModelId == "good"));
        Assert.Contains("GGML_ASSERT", await File.ReadAllTextAsync(Path.Combine(dir, "report.md")), StringComparison.Ordinal);
        // The Answer says which models gave no result and why, on the console and in the page, before any verdict.
        Assert.Contains("wrong-sha did not load:", run.Output, StringComparison.Ordinal);
        Assert.Contains("aborts crashed:", run.Output, StringComparison.Ordinal);
        var html = await File.ReadAllTextAsync(Path.Combine(dir, "report.html"));
        var answer = html[html.IndexOf("<section class=\"answer\"", StringComparison.Ordinal)..];
        Assert.Contains("<li><b>wrong-sha</b> <span class=\"insufficient\">did not load</span>: ", answer[..answer.IndexOf("</section>", StringComparison.Ordinal)], StringComparison.Ordinal);
        Assert.Contains("checksum mismatch", answer[..answer.IndexOf("</section>", StringComparison.Ordinal)], StringComparison.Ordinal);
    }

    private static List<string> Outputs(IReadOnlyList<ItemRecord> items) =>
        [.. items.Select(i => $"{i.Key}|{i.Status}|{i.RawOutput}|{i.Passed}|{string.Join(',', i.Choices.Select(c => c.LogProbability.ToString("R", System.Globalization.CultureInfo.InvariantCulture)))}")
            .Order(StringComparer.Ordinal)];

    private static async Task<IReadOnlyList<ItemRecord>> ReadItemsAsync(string runDirectory)
    {
        var store = await SqliteRunStore.OpenAsync(runDirectory, CancellationToken.None);
        await using (store)
        {
            var items = new List<ItemRecord>();
            await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
            {
                items.Add(item);
            }

            return items;
        }
    }

    private static async Task<long> CountCommittedAsync(string resultsDirectory)
    {
        var database = Directory.Exists(resultsDirectory)
            ? Directory.GetFiles(resultsDirectory, SqliteRunStore.FileName, SearchOption.AllDirectories).SingleOrDefault()
            : null;
        if (database is null)
        {
            return 0;
        }

        try
        {
            await using var connection = new SqliteConnection($"Data Source={database};Mode=ReadOnly;Pooling=False");
            await connection.OpenAsync();
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT COUNT(*) FROM items";
            return (long)(await command.ExecuteScalarAsync())!;
        }
        catch (SqliteException)
        {
            return 0; // not created yet
        }
    }
}
