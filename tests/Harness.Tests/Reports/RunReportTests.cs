using System.Text;
using System.Text.Json;
using Harness.Core.Energy;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Verdicts;
using Harness.Reports.Html;
using Harness.Tests.Serialization;

namespace Harness.Tests.Reports;

public class RunReportTests
{
    // tiny: 190/200 on arith (bar 0.9, p95 ceiling 500 ms) and 3 items on stories; small: load failed.
    // Energy: RAPL measured 1.5 J + 0.01 J per item index, net of a 2 W baseline, ±0.05 J per item.
    private static RunReport Build(bool debug = false)
    {
        RunManifest manifest = SampleRecords.Manifest() with
        {
            Host = SampleRecords.Host(debug),
            Energy = new EnergyPlan(
                [new EnergyMeterProbe("rapl", true, EnergyQuality.Measured, "CPU packages and DRAM", TimeSpan.FromMilliseconds(1), 61e-6, "package-0, dram-0", null),
                 new EnergyMeterProbe("nvml", false, EnergyQuality.Measured, "NVIDIA GPU board power", TimeSpan.FromMilliseconds(100), 0.001, "libnvidia-ml.so.1 not found", "install the NVIDIA driver")],
                ["rapl"], new EnergyEstimateParameters(10, null), TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(3),
                new PowerState(PowerSource.Battery, 87.5, "powersave", 4, null)),
        };
        var items = Enumerable.Range(0, 200)
            .Select(i => SampleRecords.Item("tiny", "arith", $"q{i:D3}", passed: i < 190, totalMs: 100 + i) with
            {
                Energy = new EnergyReading("rapl", EnergyQuality.Measured, "CPU packages and DRAM", EnergyAttribution.Exclusive,
                    TimeSpan.FromMilliseconds(100 + i), 1.5 + 0.01 * i + 2 * (0.1 + 0.001 * i), 2, 1.5 + 0.01 * i, 0.05, null, null, []),
            })
            .Concat(
            [
                SampleRecords.Item("tiny", "stories", "1", passed: true, value: 1.0),
                SampleRecords.Item("tiny", "stories", "2", passed: false, value: 0.5),
                SampleRecords.Item("tiny", "stories", "3", passed: false, value: 0.0),
            ])
            .ToList();
        ModelRunRecord[] models =
        [
            SampleRecords.Model("tiny", ModelRunStatus.Loaded),
            SampleRecords.Model("small", ModelRunStatus.LoadFailed, "small.gguf: bad magic | not a GGUF file", peak: null),
            SampleRecords.Model("tiny", ModelRunStatus.Completed, peak: 1_610_612_736),
        ];
        return RunReportBuilder.Build(manifest, models, items);
    }

    // The run a new user met: the only model did not load, so no suite has a row.
    private static RunReport OnlyModelFailedToLoad()
    {
        RunManifest manifest = SampleRecords.Manifest([SampleRecords.RunModel("small")], SampleRecords.Manifest().Suites);
        return RunReportBuilder.Build(manifest, [SampleRecords.Model("small", ModelRunStatus.LoadFailed, "small.gguf: not a GGUF file (bad magic)", peak: null)], []);
    }

    [Fact]
    public void Answer_says_the_model_did_not_load_and_why_instead_of_zero_verdicts()
    {
        RunReport report = OnlyModelFailedToLoad();

        string md = MarkdownReportWriter.Render(report);
        Assert.Contains("- **small did not load: small.gguf: not a GGUF file (bad magic)**\n", md, StringComparison.Ordinal);
        Assert.Contains("- small (did not load): frontier on —", md, StringComparison.Ordinal);
        Assert.Contains("- arith: cheapest sufficient: none: no model has results: small did not load\n", md, StringComparison.Ordinal);
        Assert.DoesNotContain("0 insufficient, 0 undecided", md, StringComparison.Ordinal);

        string html = HtmlReportWriter.Render(report);
        string answer = html[html.IndexOf("<section class=\"answer\"", StringComparison.Ordinal)..html.IndexOf("</section>", StringComparison.Ordinal)];
        Assert.Contains("<li><b>small</b> <span class=\"insufficient\">did not load</span>: small.gguf: not a GGUF file (bad magic)</li>", answer, StringComparison.Ordinal);
        Assert.Contains("<b>arith</b> (bar ≥ 90.0%): <span class=\"insufficient\">no model has results: small did not load</span>", answer, StringComparison.Ordinal);
        Assert.Contains("<b>stories</b> (open): <span class=\"undecided\">no model is ranked</span>; no result: small did not load", answer, StringComparison.Ordinal);
        Assert.Contains("<li><b>small</b>: <span class=\"insufficient\">did not load</span></li>", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("0 insufficient, 0 undecided", answer, StringComparison.Ordinal);

        // The console prints these lines at the end of harness run.
        Assert.Equal(
            [
                "small did not load: small.gguf: not a GGUF file (bad magic)",
                "arith (bar ≥ 90.0%): no model has results: small did not load",
                "stories (open): no model is ranked; no result: small did not load",
            ],
            AnswerText.Lines(report));
    }

    [Fact]
    public void A_suite_with_verdicts_still_names_the_model_that_gave_none()
    {
        RunReport report = Build();
        RunReport withoutTiny = report with
        {
            FixedSuites = [report.FixedSuites[0] with { Rows = [report.FixedSuites[0].Rows[0] with { Verdict = report.FixedSuites[0].Rows[0].Verdict with { Kind = VerdictKind.Insufficient } }] }],
        };

        Assert.Equal("no model is sufficient (1 insufficient; no result: small did not load)",
            AnswerText.NoneSufficient(withoutTiny, withoutTiny.FixedSuites[0]));
    }

    [Fact]
    public void Builder_computes_verdicts_rankings_and_performance_from_records()
    {
        RunReport report = Build();

        Assert.Equal(1, report.ReportSchemaVersion);
        Assert.Equal(["tiny", "small"], report.Models.Select(m => m.ModelId));
        Assert.Equal(ModelRunStatus.Completed, report.Models[0].Status);
        Assert.Equal(203, report.Models[0].ItemsRecorded);
        Assert.Equal("small.gguf: bad magic | not a GGUF file", report.Models[1].Failure);

        FixedSuiteRow row = Assert.Single(Assert.Single(report.FixedSuites).Rows);
        Assert.Equal(VerdictKind.Sufficient, row.Verdict.Kind);
        Assert.Equal(0.910423, row.Verdict.PassRate!.Interval.Lower, 5);
        // Totals are 100..299 ms: type-7 p50 = 199.5, p95 = 100 + 0.95 · 199 = 289.05 ms.
        Assert.Equal(TimeSpan.FromMilliseconds(199.5), row.Performance.P50Latency);
        Assert.Equal(TimeSpan.FromMilliseconds(289.05), row.Performance.P95Latency);
        // 8 tokens over half the total time (0.05..0.1495 s); 40 prompt tokens over a quarter.
        Assert.NotNull(row.Performance.MeanGenerationTokensPerSecond);
        Assert.Equal(1_610_612_736, row.PeakResidentMemoryBytes);

        OpenSuiteRow open = Assert.Single(Assert.Single(report.OpenSuites).Rows);
        Assert.Equal(1, open.Rank);
        Assert.Equal(0.5, open.Score.Mean, 12);
        Assert.Null(open.Energy);

        // Mean of 1.5 + 0.01 i over i = 0..199 is 2.495 J; 190 correct answers share 499 J.
        EnergySummary energy = row.Energy!;
        Assert.Equal(2.495, energy.JoulesPerItem.Mean, 9);
        Assert.Equal(499.0 / 190, energy.JoulesPerCorrectAnswer!.Value, 9);
        Assert.Equal(499.0 / 1600, energy.JoulesPerGeneratedToken!.Value, 9);
        Assert.Equal(2.495, row.Verdict.JoulesPerItem!.Value, 9);
    }

    [Fact]
    public void Markdown_shows_energy_beside_its_source_and_uncertainty_and_the_meters_probed()
    {
        string md = MarkdownReportWriter.Render(Build());

        Assert.Contains("- Energy: measured by rapl (CPU packages and DRAM)", md, StringComparison.Ordinal);
        Assert.Contains("- Power at start: battery, battery 87.5%, governor powersave", md, StringComparison.Ordinal);
        Assert.Contains("| tiny | 2.50 [2.41, 2.58] | 0.0500 | 0.312 | 2.63 | – (below the meter's resolution) | 200/200 | measured: rapl |", md, StringComparison.Ordinal);
        Assert.Contains("| nvml | no | NVIDIA GPU board power | 100 ms | libnvidia-ml.so.1 not found | install the NVIDIA driver |", md, StringComparison.Ordinal);
        Assert.DoesNotContain("Energy is estimated", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Performance_means_are_per_item_rates()
    {
        var items = new[]
        {
            SampleRecords.Item("m", "s", "1", passed: true, totalMs: 100),
            SampleRecords.Item("m", "s", "2", passed: true, totalMs: 200),
        };

        PerformanceSummary summary = RunReportBuilder.Summarize(items);

        // Generation takes half the total: 8 / 0.05 s = 160 and 8 / 0.1 s = 80 → mean 120 tok/s.
        Assert.Equal(120, summary.MeanGenerationTokensPerSecond!.Value, 9);
        // Prompt takes a quarter: 40 / 0.025 = 1600 and 40 / 0.05 = 800 → 1200 tok/s.
        Assert.Equal(1200, summary.MeanPromptTokensPerSecond!.Value, 9);
        Assert.Equal(TimeSpan.FromMilliseconds(37.5), summary.MeanTimeToFirstToken);
    }

    [Fact]
    public void Markdown_shows_header_tables_requirement_and_failures()
    {
        string md = MarkdownReportWriter.Render(Build(debug: true));

        Assert.StartsWith("# Harness report: run 2025-03-14T09-26-53-abc123\n", md, StringComparison.Ordinal);
        Assert.Contains("- Host: ci-host, AMD EPYC 7763, 2 logical cores, 24.00 GiB memory\n", md, StringComparison.Ordinal);
        Assert.Contains("- Versions: LLamaSharp 0.30.0, harness 0.1.0\n", md, StringComparison.Ordinal);
        Assert.Contains("**Warning:** Harness ran as a Debug build", md, StringComparison.Ordinal);
        Assert.Contains("## arith (fixed, v2, 200 items)\n", md, StringComparison.Ordinal);
        Assert.Contains(
            "Requirement: pass rate ≥ 90.0% by the lower bound of the two-sided 95% Wilson interval (a one-sided 97.5% bound), p95 latency ≤ 500 ms.\n",
            md,
            StringComparison.Ordinal);
        Assert.Contains("| model | pass rate [interval] | flexible | verdict | coverage | p50 / p95 latency | gen tok/s | peak memory |", md, StringComparison.Ordinal);
        Assert.Contains(
            "| tiny | 95.0% (190/200) [91.0%, 97.3%] | 95.0% | **sufficient** | 200 scored of 200 | 200 / 289 ms |",
            md,
            StringComparison.Ordinal);
        Assert.Contains("| 1.50 GiB |", md, StringComparison.Ordinal);
        Assert.Contains("- tiny: pass rate 190/200: the two-sided 95% Wilson lower bound 91.0% clears the bar 90.0%; p95 latency 289.1 ms is within the ceiling 500 ms\n", md, StringComparison.Ordinal);
        Assert.Contains("## stories (open, v1, 3 items)", md, StringComparison.Ordinal);
        Assert.Contains("| 1 | tiny | 0.500 [0.000, 1.000] | 3 |", md, StringComparison.Ordinal);
        Assert.Contains("## Failed models\n\n- small (loadFailed): small.gguf: bad magic \\| not a GGUF file\n", md, StringComparison.Ordinal);
        Assert.Contains("| small | loadFailed | 2.00 GiB | – | – | – | 0 |", md, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Reports_are_identical_under_a_decimal_comma_culture()
    {
        RunReport report = Build();
        string invariantMd = MarkdownReportWriter.Render(report);
        string invariantJson = await WriteJson(report);

        string germanMd;
        string germanJson;
        using (new CultureScope("de-DE"))
        {
            germanMd = await WriteMarkdown(report);
            germanJson = await WriteJson(report);
        }

        Assert.Equal(invariantMd, germanMd);
        Assert.Equal(invariantJson, germanJson);
        Assert.Contains("95.0% (190/200) [91.0%, 97.3%]", germanMd, StringComparison.Ordinal);
        Assert.DoesNotContain("91,0", germanMd, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_report_is_versioned_and_reads_back()
    {
        var writer = new JsonReportWriter();
        string json = await WriteJson(Build());

        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        Assert.Equal("report.json", writer.FileName);
        Assert.Equal(1, root.GetProperty("reportSchemaVersion").GetInt32());
        JsonElement row = root.GetProperty("fixedSuites")[0].GetProperty("rows")[0];
        Assert.Equal("sufficient", row.GetProperty("verdict").GetProperty("kind").GetString());
        Assert.Equal(289.05, row.GetProperty("performance").GetProperty("p95Latency").GetDouble(), 9);
        Assert.Equal("loadFailed", root.GetProperty("models")[1].GetProperty("status").GetString());
        RunReport back = Core.Serialization.HarnessJson.Deserialize<RunReport>(json);
        Assert.Equal(VerdictKind.Sufficient, back.FixedSuites[0].Rows[0].Verdict.Kind);
    }

    private static async Task<string> WriteJson(RunReport report)
    {
        using var stream = new MemoryStream();
        await new JsonReportWriter().WriteAsync(report, stream, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    private static async Task<string> WriteMarkdown(RunReport report)
    {
        using var stream = new MemoryStream();
        await new MarkdownReportWriter().WriteAsync(report, stream, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
