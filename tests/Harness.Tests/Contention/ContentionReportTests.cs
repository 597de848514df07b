using System.Text.Json;
using Harness.Core.Contention;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Verdicts;
using Harness.Reports.Html;
using Harness.Tests.Serialization;

namespace Harness.Tests.Contention;

public sealed class ContentionReportTests
{
    private static readonly string[] ModelIds = ["tiny", "small"];

    // Both models answer everything in 2400 ms against a 500 ms ceiling; "tiny" ran while other processes took 43 % of
    // the CPU, "small" on a quiet machine.
    private static RunReport Build()
    {
        var manifest = SampleRecords.Manifest() with
        {
            Contention = new ContentionPlan("fake", TimeSpan.FromSeconds(5), ContentionThresholds.Default),
        };
        var items = ModelIds
            .SelectMany(model => Enumerable.Range(0, 200).Select(i => SampleRecords.Item(model, "arith", $"q{i:D3}", passed: true, totalMs: 2400)))
            .ToList();
        ModelRunRecord[] models =
        [
            SampleRecords.Model("tiny", ModelRunStatus.Loaded),
            SampleRecords.Model("tiny", ModelRunStatus.Completed) with { Contention = ContentionRecorderTests.Contention(other: 0.43, steal: 0.07) },
            SampleRecords.Model("small", ModelRunStatus.Completed) with { Contention = ContentionRecorderTests.Contention(other: 0.02, steal: 0.0) },
        ];
        return RunReportBuilder.Build(manifest, models, items);
    }

    [Fact]
    public void The_threshold_in_run_json_leaves_the_busy_models_latency_undecided_and_decides_the_quiet_one()
    {
        var report = Build();

        var rows = report.FixedSuites[0].Rows.ToDictionary(r => r.ModelId, StringComparer.Ordinal);
        Assert.Equal(VerdictKind.Undecided, rows["tiny"].Verdict.Kind);
        Assert.Contains(rows["tiny"].Verdict.Reasons, r => r.EndsWith(
            "undecided: measured on a busy machine (other processes used 43% of the CPU and the hypervisor stole 7% of the CPU)", StringComparison.Ordinal));
        Assert.Equal(VerdictKind.Insufficient, rows["small"].Verdict.Kind);
        Assert.NotNull(report.Models[0].BusyMachine);
        Assert.Null(report.Models[1].BusyMachine);
        Assert.Equal(0.02, report.Models[1].Contention!.OtherProcessesShare);
    }

    [Fact]
    public void A_run_planned_before_contention_was_recorded_decides_as_before()
    {
        var report = Build();
        var old = RunReportBuilder.Build(
            SampleRecords.Manifest(),
            [SampleRecords.Model("tiny", ModelRunStatus.Completed) with { Contention = ContentionRecorderTests.Contention(other: 0.43, steal: 0.07) }],
            [.. Enumerable.Range(0, 200).Select(i => SampleRecords.Item("tiny", "arith", $"q{i:D3}", passed: true, totalMs: 2400))]);

        Assert.Null(old.Models[0].BusyMachine);
        Assert.Equal(VerdictKind.Insufficient, old.FixedSuites[0].Rows[0].Verdict.Kind);
        Assert.Equal(ContentionThresholds.Default, report.Contention!.Thresholds);
    }

    [Fact]
    public void Report_md_shows_each_models_contention_and_marks_its_timings_identically_under_de_DE()
    {
        var report = Build();
        var invariant = MarkdownReportWriter.Render(report);
        string german;
        using (new CultureScope("de-DE"))
        {
            german = MarkdownReportWriter.Render(report);
        }

        Assert.Equal(invariant, german);
        Assert.Contains("- Contention: busy above 10% of the CPU used by other processes or 5% stolen; read from fake\n", german, StringComparison.Ordinal);
        Assert.Contains("> **Busy machine:** tiny (other processes used 43% of the CPU and the hypervisor stole 7% of the CPU).", german, StringComparison.Ordinal);
        Assert.Contains("| model | other processes | steal | harness | worker | load 1m start / end / max | cores | window | busy |", german, StringComparison.Ordinal);
        Assert.Contains(
            "| tiny | 43% | 7% | 8% | 61% | 0.50 / 2.25 / 2.50 | 2 | 42 s | other processes used 43% of the CPU and the hypervisor stole 7% of the CPU |",
            german, StringComparison.Ordinal);
        Assert.Contains("| small | 2% | 0% | 8% | 61% | 0.50 / 2.25 / 2.50 | 2 | 42 s | no |", german, StringComparison.Ordinal);
        Assert.Contains("| 2400 / 2400 ms ⚠ busy |", german, StringComparison.Ordinal);
        Assert.Single(german.Split('\n'), l => l.StartsWith("| small | 100.0%", StringComparison.Ordinal) && l.Contains("| 2400 / 2400 ms |", StringComparison.Ordinal));
    }

    [Fact]
    public void Report_html_shows_the_contention_table_and_the_mark()
    {
        string html;
        using (new CultureScope("de-DE"))
        {
            html = HtmlReportWriter.Render(Build());
        }

        Assert.Contains("<h3>Machine contention during each model's items</h3>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"id\">tiny</td><td class=\"num\">43%</td><td class=\"num\">7%</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"num\">0.50 / 2.25 / 2.50</td>", html, StringComparison.Ordinal);
        Assert.Contains("2400 / 2400 ms ⚠ busy", html, StringComparison.Ordinal);
        Assert.Contains("<strong>Busy machine:</strong>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("0,50", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_json_carries_the_figures_the_reason_and_the_thresholds()
    {
        var json = JsonSerializer.Serialize(Build(), HarnessJson.IndentedOptions);

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        var tiny = root.GetProperty("models")[0];
        Assert.Equal(0.43, tiny.GetProperty("contention").GetProperty("otherProcessesShare").GetDouble());
        Assert.Equal(42000, tiny.GetProperty("contention").GetProperty("window").GetDouble());
        Assert.StartsWith("other processes used 43%", tiny.GetProperty("busyMachine").GetProperty("reason").GetString(), StringComparison.Ordinal);
        Assert.Equal(0.1, root.GetProperty("contention").GetProperty("thresholds").GetProperty("maxOtherProcessesShare").GetDouble());
        var back = HarnessJson.Deserialize<RunReport>(json);
        Assert.Equal(0.43, back.Models[0].Contention!.OtherProcessesShare);
    }
}
