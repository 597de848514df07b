using Harness.Core.Comparison;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Core.Verdicts;
using Harness.Tests.Serialization;

namespace Harness.Tests.Comparison;

public class ComparisonReportTests
{
    // f16 passes 190/200, q8 loses 2 items (188), q4 loses 50 (140). Bar: 80%, by the two-sided 95% Wilson interval's lower bound.
    private static RunReport Build()
    {
        var plan = new ComparisonPlan("f16", ["q8", "q4"], 8, "/tasks/reference.txt", new string('e', 64));
        var manifest = SampleRecords.Manifest(
            [SampleRecords.RunModel("f16") with { FileSizeBytes = 4000 }, SampleRecords.RunModel("q8") with { FileSizeBytes = 2100 }, SampleRecords.RunModel("q4") with { FileSizeBytes = 1200 }],
            [SampleRecords.FixedSuite("arith", new Requirement(0.8, 0.95, null, null))]) with { Comparison = plan };
        var items = Enumerable.Range(0, 200).SelectMany(i => new[]
        {
            SampleRecords.Item("f16", "arith", $"{i:D3}", passed: i < 190),
            SampleRecords.Item("q8", "arith", $"{i:D3}", passed: i < 188),
            SampleRecords.Item("q4", "arith", $"{i:D3}", passed: i < 140),
        }).ToList();
        ModelRunRecord[] models = [SampleRecords.Model("f16", ModelRunStatus.Completed), SampleRecords.Model("q8", ModelRunStatus.Completed), SampleRecords.Model("q4", ModelRunStatus.Completed)];
        DriftRecord[] drift =
        [
            new("f16", "q8", "arith", "000", 8, [0.001f, 0.003f], [0.01f, -0.01f], 2, null, SampleRecords.Epoch),
            new("f16", "q4", "arith", "000", 8, [0.1f, 0.3f], [0.1f, -0.3f], 1, null, SampleRecords.Epoch),
            new("f16", "q4", "arith", "001", 8, [], [], 0, "too long", SampleRecords.Epoch),
        ];
        PerplexityRecord[] perplexity =
        [
            new("f16", plan.ReferenceSha256, 10, 100, 100 * Math.Log(2.0), SampleRecords.Epoch),
            new("q4", plan.ReferenceSha256, 10, 100, 100 * Math.Log(2.5), SampleRecords.Epoch),
        ];
        return RunReportBuilder.Build(manifest, models, items, drift, perplexity);
    }

    [Fact]
    public void Quality_deltas_are_paired_tests_on_identical_items()
    {
        var comparison = Build().Comparison!;

        var q8 = Assert.Single(comparison.Candidates[0].Quality).PassRate!;
        Assert.Equal(new Harness.Core.Statistics.PairedCounts(188, 2, 0, 10), q8.Counts);
        Assert.Equal(-0.01, q8.Difference, 12);
        Assert.Equal(0.5, q8.PValue, 12);
        Assert.True(q8.Interval.Contains(0));

        var q4 = Assert.Single(comparison.Candidates[1].Quality).PassRate!;
        Assert.Equal(-0.25, q4.Difference, 12);
        Assert.True(q4.Interval.Upper < 0);
        Assert.True(q4.PValue < 1e-9);
    }

    [Fact]
    public void Quality_p_values_are_holm_adjusted_over_every_candidate_and_suite_of_the_report()
    {
        var comparison = Build().Comparison!;
        var q8 = Assert.Single(comparison.Candidates[0].Quality);
        var q4 = Assert.Single(comparison.Candidates[1].Quality);

        // Two tests: the smaller p (q4) is doubled; the larger (q8, 0.5) is multiplied by 1 and kept at least as large.
        Assert.Equal(2 * q4.PassRate!.PValue, q4.AdjustedPValue!.Value, 15);
        Assert.Equal(0.5, q8.AdjustedPValue!.Value, 12);
        Assert.Equal(0.5, q8.RawPValue()!.Value, 12);

        string markdown;
        using (new CultureScope("de-DE"))
        {
            markdown = MarkdownReportWriter.Render(Build());
        }

        Assert.Contains("| p (Holm-adjusted) |", markdown, StringComparison.Ordinal);
        Assert.Contains("| 0.5000 McNemar (0.5000) |", markdown, StringComparison.Ordinal);
        Assert.Contains("| <0.0001 McNemar (<0.0001) |", markdown, StringComparison.Ordinal);
        Assert.Contains("Holm-adjusted over the 2 quality tests of this comparison", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void Drift_perplexity_and_size_come_from_the_stored_records()
    {
        var comparison = Build().Comparison!;
        var q8 = comparison.Candidates[0];
        var q4 = comparison.Candidates[1];

        Assert.Equal(0.002, q8.Drift!.MeanKlDivergence, 6);
        Assert.Equal(1.0, q8.Drift.TopTokenAgreement);
        Assert.Equal(0.01, q8.Drift.RmsDeltaP, 6);
        Assert.Null(q8.PerplexityRatio);

        Assert.Equal(0.2, q4.Drift!.MeanKlDivergence, 6);
        Assert.Equal(1, q4.Drift.FailedItems);
        Assert.Equal(0.5, q4.Drift.TopTokenAgreement);
        Assert.Equal(1.25, q4.PerplexityRatio!.Value, 9);
        Assert.Equal(0.3, q4.SizeRatio!.Value, 9);
        Assert.Equal(2.0, comparison.BasePerplexity!.Perplexity, 9);
    }

    [Fact]
    public void The_ladder_picks_the_smallest_sufficient_model()
    {
        var ladder = Assert.Single(Build().Comparison!.Ladders);

        Assert.Equal(["q4", "q8", "f16"], ladder.Rungs.Select(r => r.ModelId));
        Assert.Equal(VerdictKind.Insufficient, ladder.Rungs[0].Verdict);
        Assert.Equal(VerdictKind.Sufficient, ladder.Rungs[1].Verdict);
        Assert.Equal("q8", ladder.CheapestSufficientModelId);
    }

    [Fact]
    public async Task Markdown_and_json_reports_carry_the_comparison()
    {
        var report = Build();
        var markdown = MarkdownReportWriter.Render(report);

        Assert.Contains("## Comparison against f16", markdown, StringComparison.Ordinal);
        Assert.Contains("Smallest sufficient: **q8**", markdown, StringComparison.Ordinal);
        Assert.Contains("xychart-beta", markdown, StringComparison.Ordinal);
        Assert.Contains("-25.0 pt", markdown, StringComparison.Ordinal);

        using var stream = new MemoryStream();
        await new JsonReportWriter().WriteAsync(report, stream, CancellationToken.None);
        var json = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        Assert.Contains("\"cheapestSufficientModelId\": \"q8\"", json, StringComparison.Ordinal);
    }
}
