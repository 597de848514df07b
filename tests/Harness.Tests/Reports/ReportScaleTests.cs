using System.Text.Json;
using Harness.Benchmarks.ReportScale;
using Harness.Cli;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Store.Sqlite;

namespace Harness.Tests.Reports;

/// <summary>
/// The report-scale benchmark's synthetic runs (tests/Harness.Benchmarks/ReportScale, linked here) at a small size: they
/// are run folders <c>harness report</c> reads, and reading records for a report without their prompts changes nothing.
/// </summary>
public sealed class ReportScaleTests : IDisposable
{
    private static readonly SyntheticRunShape Small = new(MmluItems: 60, GenerateItems: 20, OpenItems: 12);

    private readonly string _root = Directory.CreateTempSubdirectory("harness-report-scale-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public async Task A_synthetic_run_is_a_run_folder_harness_report_reads_with_ladders_and_a_frontier()
    {
        string run = await SyntheticRun.WriteAsync(_root, "scale-a", Small, CancellationToken.None);

        int exit = await HarnessApp.RunAsync(["report", run]);

        // The timed-out generations are the model's failures (wrong answers), not errors: the report exits 0.
        Assert.Equal(ExitCodes.Success, exit);
        using var report = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(run, "report.json")));
        JsonElement root = report.RootElement;
        Assert.Equal(10, root.GetProperty("models").GetArrayLength());
        Assert.All(root.GetProperty("models").EnumerateArray(),
            m => Assert.Equal(Small.MmluItems + Small.GenerateItems + Small.OpenItems, m.GetProperty("itemsRecorded").GetInt32()));
        Assert.Equal(["mmlu", "gsm8k-cot"], root.GetProperty("fixedSuites").EnumerateArray().Select(s => s.GetProperty("suite").GetString()));
        Assert.All(root.GetProperty("fixedSuites").EnumerateArray(), s => Assert.Equal(10, s.GetProperty("rows").GetArrayLength()));
        JsonElement frontier = Assert.Single(root.GetProperty("analysis").GetProperty("frontiers").EnumerateArray());
        Assert.Equal("mt-bench-open", frontier.GetProperty("suite").GetString());
        Assert.Equal(10, frontier.GetProperty("entries").GetArrayLength());
        Assert.NotEqual(JsonValueKind.Null, root.GetProperty("quantization").ValueKind);
        Assert.True(File.Exists(Path.Combine(run, "report.md")));
        Assert.Contains("<h2>mmlu", await File.ReadAllTextAsync(Path.Combine(run, "report.html")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Runs_A_and_B_diff_item_by_item_with_the_flips_of_run_B()
    {
        string a = await SyntheticRun.WriteAsync(_root, "scale-a", Small, CancellationToken.None);
        string b = await SyntheticRun.WriteAsync(_root, "scale-b", Small with { Variant = 1 }, CancellationToken.None);

        int exit = await HarnessApp.RunAsync(["report", a, b]);

        Assert.Equal(ExitCodes.Success, exit);
        using var diff = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(b, "diff-scale-a-vs-scale-b.json")));
        Assert.Equal(30, diff.RootElement.GetProperty("suites").GetArrayLength());
        Assert.Equal(10 * (Small.MmluItems + Small.GenerateItems + Small.OpenItems), diff.RootElement.GetProperty("pairedItems").GetInt32());
    }

    [Fact]
    public async Task The_same_shape_writes_the_same_records()
    {
        string first = await SyntheticRun.WriteAsync(_root, "one", Small, CancellationToken.None);
        string second = await SyntheticRun.WriteAsync(_root, "two", Small, CancellationToken.None);

        Assert.Equal(await Payloads(first), await Payloads(second));
        Assert.NotEqual(await Payloads(first), await Payloads(await SyntheticRun.WriteAsync(_root, "three", Small with { Seed = 14 }, CancellationToken.None)));
    }

    [Fact]
    public void A_report_built_from_records_without_prompts_equals_the_one_built_from_full_records()
    {
        RunManifest manifest = SyntheticRun.Manifest("scale-a", Small);
        ItemRecord[] full = [.. Enumerable.Range(0, SyntheticRun.Models.Length).SelectMany(m => SyntheticRun.ItemsOf(m, manifest.Suites, Small))];
        ItemRecord[] lean = [.. full.Select(ReportItems.ForReport)];
        ItemRecord[] fullB = [.. Enumerable.Range(0, SyntheticRun.Models.Length)
            .SelectMany(m => SyntheticRun.ItemsOf(m, manifest.Suites, Small with { Variant = 1 }))];
        ModelRunRecord[] models = [.. SyntheticRun.Models.Select((m, i) => new ModelRunRecord(m.Id, ModelRunStatus.Completed, null, 1_000, null, manifest.CreatedAt))];

        Assert.All(lean, i => Assert.Equal("", i.PromptText));
        Assert.Equal(
            HarnessJson.Serialize(RunReportBuilder.Build(manifest, models, full)),
            HarnessJson.Serialize(RunReportBuilder.Build(manifest, models, lean)));
        Assert.Equal(
            HarnessJson.Serialize(RunDiffBuilder.Build(manifest, full, manifest, fullB)),
            HarnessJson.Serialize(RunDiffBuilder.Build(manifest, lean, manifest, [.. fullB.Select(ReportItems.ForReport)])));
    }

    // report.html and report.json carry tables, charts and intervals per (model, suite), never one row per item: a
    // browser opens a 140,000-item run's page as quickly as a 1,400-item one's.
    [Fact]
    public void Reports_do_not_grow_with_the_number_of_items()
    {
        (string Html, string Json, string Markdown) Render(SyntheticRunShape shape)
        {
            RunManifest manifest = SyntheticRun.Manifest("scale-a", shape);
            ItemRecord[] items = [.. Enumerable.Range(0, SyntheticRun.Models.Length)
                .SelectMany(m => SyntheticRun.ItemsOf(m, manifest.Suites, shape).Select(ReportItems.ForReport))];
            ModelRunRecord[] models = [.. SyntheticRun.Models.Select(m => new ModelRunRecord(m.Id, ModelRunStatus.Completed, null, 1_000, null, manifest.CreatedAt))];
            RunReport report = RunReportBuilder.Build(manifest, models, items);
            return (Harness.Reports.Html.HtmlReportWriter.Render(report), HarnessJson.Serialize(report), MarkdownReportWriter.Render(report));
        }

        var small = Render(Small);
        var large = Render(Small with { MmluItems = 100 * Small.MmluItems });

        // Item counts gain digits and chart coordinates move; nothing is added per item.
        Assert.InRange(large.Html.Length, small.Html.Length * 0.9, small.Html.Length * 1.1);
        Assert.InRange(large.Json.Length, small.Json.Length * 0.9, small.Json.Length * 1.1);
        Assert.InRange(large.Markdown.Length, small.Markdown.Length * 0.9, small.Markdown.Length * 1.1);
    }

    private static async Task<List<string>> Payloads(string run)
    {
        var payloads = new List<string>();
        var store = await SqliteRunStore.OpenAsync(run, CancellationToken.None);
        await using (store)
        {
            await foreach (ItemRecord item in store.ReadItemsAsync(CancellationToken.None))
            {
                payloads.Add(HarnessJson.Serialize(item));
            }
        }

        return payloads;
    }
}
