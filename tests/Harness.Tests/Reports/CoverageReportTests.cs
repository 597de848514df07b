using System.Text;
using System.Text.Json;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Core.Verdicts;
using Harness.Reports.Html;
using Harness.Tests.Serialization;

namespace Harness.Tests.Reports;

/// <summary>Coverage and the error verdict in every report: report.md, report.html, report.json, and the Answer box.</summary>
public class CoverageReportTests
{
    private static readonly Requirement Bar90 = new(0.9, 0.95, null, null);

    // arith (200 items, bar 90%): partial answered 199 (all pass) and never reached the last one; whole answered all
    // 200; broken answered 188 and 12 prompts did not fit its context. stories (open, 3 items): whole answered all 3,
    // partial 2, broken 2 plus one that overflowed.
    private static RunReport Build()
    {
        RunManifest manifest = SampleRecords.Manifest(
            [SampleRecords.RunModel("partial"), SampleRecords.RunModel("whole"), SampleRecords.RunModel("broken")],
            [SampleRecords.FixedSuite("arith", Bar90, 200), SampleRecords.OpenSuite("stories", 3)]);
        static ItemRecord Pass(string model, string suite, int i) => SampleRecords.Item(model, suite, $"q{i:D3}", passed: true, value: 1.0);
        static ItemRecord Overflow(string model, string suite, int i) =>
            SampleRecords.Item(model, suite, $"q{i:D3}", passed: false, status: ItemStatus.Failed) with
            {
                Failure = ItemFailureKind.ContextOverflow,
                Error = $"Model '{model}': the prompt has {303 + i} tokens but the context size is 256; raise context_size or shorten the prompt.",
            };
        List<ItemRecord> items =
        [
            .. Enumerable.Range(0, 199).Select(i => Pass("partial", "arith", i)),
            .. Enumerable.Range(0, 200).Select(i => Pass("whole", "arith", i)),
            .. Enumerable.Range(0, 12).Select(i => Overflow("broken", "arith", i)),
            .. Enumerable.Range(12, 188).Select(i => Pass("broken", "arith", i)),
            .. Enumerable.Range(0, 3).Select(i => Pass("whole", "stories", i)),
            .. Enumerable.Range(0, 2).Select(i => Pass("partial", "stories", i)),
            Overflow("broken", "stories", 0),
            .. Enumerable.Range(1, 2).Select(i => Pass("broken", "stories", i)),
        ];
        return RunReportBuilder.Build(manifest, [], items);
    }

    [Fact]
    public void The_report_carries_coverage_the_error_verdict_and_the_unranked_models()
    {
        RunReport report = Build();
        FixedSuiteReport arith = Assert.Single(report.FixedSuites);
        OpenSuiteReport stories = Assert.Single(report.OpenSuites);

        Assert.Equal(
            [("partial", VerdictKind.Sufficient), ("whole", VerdictKind.Sufficient), ("broken", VerdictKind.Error)],
            arith.Rows.Select(r => (r.ModelId, r.Verdict.Kind)));
        Assert.Equal("199 scored, 1 missing of 200", arith.Rows[0].Verdict.Coverage!.Describe());
        Assert.Equal("188 scored, 12 errored of 200", arith.Rows[2].Verdict.Coverage!.Describe());
        Assert.Equal(["whole"], stories.Rows.Select(r => r.ModelId));
        Assert.Equal(["partial", "broken"], stories.Unranked!.Value.Select(u => u.ModelId));
        Assert.True(report.HasErrors());
        // An error row's pass rate is over part of the suite: it is not a point on the cost-quality plane.
        Assert.DoesNotContain(report.Analysis!.CostQuality, p => p.ModelId == "broken");
        // partial is first in manifest order and ties whole on every cost, so it is the cheapest: on partial coverage.
        CheapestSufficient cheapest = Assert.Single(report.Analysis.Cheapest);
        Assert.Equal("partial", cheapest.ModelId);
        Assert.Equal(1, cheapest.PartialCoverage!.Missing);
    }

    [Fact]
    public void Markdown_says_the_error_first_and_never_names_a_partial_model_without_saying_so()
    {
        string md = MarkdownReportWriter.Render(Build());

        Assert.Contains(
            "## Summary\n\n- **error**: broken on arith: 12 of 200 items not evaluated (contextOverflow, not the model's answer), e.g. item q000: Model 'broken': the prompt has 303 tokens but the context size is 256; raise context_size or shorten the prompt.\n"
            + "- **error**: broken on stories: 1 of 3 items not evaluated (contextOverflow, not the model's answer), e.g. item q000: Model 'broken': the prompt has 303 tokens",
            md, StringComparison.Ordinal);
        Assert.Contains("- partial: frontier on —; sufficient for arith (on 199 of 200 items; the 1 missing counted as failures); cheapest sufficient for arith (on 199 of 200 items; the 1 missing counted as failures)\n", md, StringComparison.Ordinal);
        Assert.Matches(@"- arith: cheapest sufficient: \*\*partial\*\* \(pass 100\.0% \[98\.1%, 100\.0%\] · [^\n]*\(on 199 of 200 items; the 1 missing counted as failures\)\)\n", md);
        Assert.Contains("| model | pass rate [interval] | flexible | verdict | coverage |", md, StringComparison.Ordinal);
        Assert.Contains("| partial | 100.0% (199/199) [98.1%, 100.0%]; with missing items [97.2%, 100.0%] | 100.0% | **sufficient** | 199 scored, 1 missing of 200 |", md, StringComparison.Ordinal);
        Assert.Contains("| broken | 100.0% (188/188) [98.0%, 100.0%] | 100.0% | **error** | 188 scored, 12 errored of 200 |", md, StringComparison.Ordinal);
        Assert.Contains("Not ranked (errored or missing items; a mean over the rest would rank a subset of the suite):\n\n"
            + "- partial: 2 scored, 1 missing of 3; partial mean 1.000 over 2 answers; 1 of 3 items were never recorded", md, StringComparison.Ordinal);
        Assert.Contains("- broken: 2 scored, 1 errored of 3; partial mean 1.000 over 2 answers; 1 of 3 items not evaluated (contextOverflow", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_answer_box_shows_the_error_and_the_partial_coverage()
    {
        string html = HtmlReportWriter.Render(Build());
        string answer = html[html.IndexOf("<section class=\"answer\"", StringComparison.Ordinal)..html.IndexOf("</section>", StringComparison.Ordinal)];

        Assert.Contains("<li><span class=\"error\">error</span>: <b>broken</b> on <b>arith</b>: 12 of 200 items not evaluated (contextOverflow, not the model&#39;s answer), e.g. item q000: Model &#39;broken&#39;: the prompt has 303 tokens but the context size is 256", answer, StringComparison.Ordinal);
        Assert.Matches("cheapest sufficient <span class=\"sufficient\">partial</span> <span class=\"figures\">pass 100.0% [^<]*\\(on 199 of 200 items; the 1 missing counted as failures\\)</span>", answer);
        Assert.Contains("sufficient for arith <span class=\"muted\">(on 199 of 200 items; the 1 missing counted as failures)</span>", answer, StringComparison.Ordinal);
        Assert.Contains("(not ranked, errored or missing items: partial 2 scored, 1 missing of 3, broken 2 scored, 1 errored of 3)", answer, StringComparison.Ordinal);
        Assert.Contains("<td class=\"error\">error</td><td>188 scored, 12 errored of 200</td>", html, StringComparison.Ordinal);
        Assert.Contains("<li><b>partial</b>: <span class=\"undecided\">incomplete</span>, 2 scored, 1 missing of 3;", html, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_carries_the_error_kind_and_coverage_and_reads_back()
    {
        RunReport report = Build();
        string json = await Write(new JsonReportWriter(), report);

        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement broken = document.RootElement.GetProperty("fixedSuites")[0].GetProperty("rows")[2].GetProperty("verdict");
        Assert.Equal("error", broken.GetProperty("kind").GetString());
        JsonElement coverage = broken.GetProperty("coverage");
        Assert.Equal((200, 188, 0, 12, 0), (coverage.GetProperty("total").GetInt32(), coverage.GetProperty("evaluated").GetInt32(),
            coverage.GetProperty("failed").GetInt32(), coverage.GetProperty("errored").GetInt32(), coverage.GetProperty("missing").GetInt32()));
        Assert.Equal("contextOverflow", coverage.GetProperty("errors")[0].GetProperty("kind").GetString());
        Assert.False(coverage.TryGetProperty("answered", out _)); // derived, not stored twice
        Assert.Equal(1, document.RootElement.GetProperty("analysis").GetProperty("cheapest")[0].GetProperty("partialCoverage").GetProperty("missing").GetInt32());
        Assert.Equal(2, document.RootElement.GetProperty("openSuites")[0].GetProperty("unranked").GetArrayLength());

        RunReport back = Core.Serialization.HarnessJson.Deserialize<RunReport>(json);
        Assert.Equal(VerdictKind.Error, back.FixedSuites[0].Rows[2].Verdict.Kind);
        Assert.True(back.HasErrors());
    }

    [Fact]
    public async Task Coverage_and_errors_read_the_same_under_a_decimal_comma_culture()
    {
        RunReport report = Build();
        string[] invariant = [await Write(new MarkdownReportWriter(), report), await Write(new HtmlReportWriter(), report), await Write(new JsonReportWriter(), report)];

        string[] german;
        using (new CultureScope("de-DE"))
        {
            german = [await Write(new MarkdownReportWriter(), report), await Write(new HtmlReportWriter(), report), await Write(new JsonReportWriter(), report)];
        }

        Assert.Equal(invariant, german);
        Assert.Contains("with missing items [97.2%, 100.0%]", german[0], StringComparison.Ordinal);
        Assert.DoesNotContain("97,2", german[0], StringComparison.Ordinal);
    }

    [Fact]
    public void A_report_without_errored_items_has_no_errors()
    {
        RunManifest manifest = SampleRecords.Manifest([SampleRecords.RunModel("whole")], [SampleRecords.FixedSuite("arith", Bar90, 2)]);
        RunReport report = RunReportBuilder.Build(manifest, [],
            [SampleRecords.Item("whole", "arith", "a", passed: true), SampleRecords.Item("whole", "arith", "b", passed: false)]);

        Assert.False(report.HasErrors());
        Assert.DoesNotContain("**error**", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
    }

    private static async Task<string> Write(IReportWriter writer, RunReport report)
    {
        using var stream = new MemoryStream();
        await writer.WriteAsync(report, stream, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
