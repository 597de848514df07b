using System.Text;
using System.Text.RegularExpressions;
using Harness.Core.Reports;
using Harness.Reports.Html;
using Harness.Tests.Serialization;

namespace Harness.Tests.Reports;

public partial class HtmlReportWriterTests
{
    private const string Hostile = "<script>alert(1)</script>";

    [Fact]
    public void Page_is_self_contained_with_inline_svg_charts()
    {
        var html = HtmlReportWriter.Render(SampleReports.Build());

        Assert.StartsWith("<!DOCTYPE html>\n", html, StringComparison.Ordinal);
        Assert.Equal("report.html", new HtmlReportWriter().FileName);
        // Pass rates, two cost-quality planes, the comparison and the ladder.
        Assert.Equal(5, Regex.Count(html, "<svg ", RegexOptions.None, TimeSpan.FromSeconds(5)));
        Assert.Empty(ExternalReference().Matches(html));
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<link", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("@import", html, StringComparison.Ordinal);
        Assert.DoesNotContain("url(http", html, StringComparison.Ordinal);
        Assert.Contains("default-src 'none'", html, StringComparison.Ordinal);
        // Light, dark and print: the charts take the page's text colour.
        Assert.Contains("prefers-color-scheme: dark", html, StringComparison.Ordinal);
        Assert.Contains("@media print", html, StringComparison.Ordinal);
        Assert.Contains("currentColor", html, StringComparison.Ordinal);
        Assert.DoesNotContain(SvgEmbedding.ForegroundSentinel, html, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Every_chart_has_its_own_ids()
    {
        var html = HtmlReportWriter.Render(SampleReports.Build());

        var ids = IdAttribute().Matches(html).Select(m => m.Groups[1].Value).ToList();
        Assert.NotEmpty(ids);
        Assert.Equal(ids.Count, ids.Distinct(StringComparer.Ordinal).Count());
        foreach (Match reference in UrlReference().Matches(html))
        {
            Assert.Contains(reference.Groups[1].Value, ids);
        }
    }

    [Fact]
    public void Untrusted_text_is_html_encoded_in_tables_and_charts()
    {
        var html = HtmlReportWriter.Render(SampleReports.Build(oddModelId: Hostile));

        Assert.DoesNotContain(Hostile, html, StringComparison.Ordinal);
        Assert.DoesNotContain("<script", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("<b>wrong</b>", html, StringComparison.Ordinal);
        Assert.Contains("&lt;script&gt;alert(1)&lt;/script&gt;", html, StringComparison.Ordinal);
        Assert.Contains("&amp; &lt;b&gt;wrong&lt;/b&gt;", html, StringComparison.Ordinal);
        // Once in each table and the answer, and as a label on the charts that carry model ids.
        Assert.True(Regex.Count(html, Regex.Escape("&lt;script&gt;alert(1)&lt;/script&gt;"), RegexOptions.None, TimeSpan.FromSeconds(5)) >= 6);
    }

    [Fact]
    public async Task Page_is_identical_under_a_decimal_comma_culture()
    {
        var report = SampleReports.Build();
        var invariant = await Write(report);

        string german;
        using (new CultureScope("de-DE"))
        {
            german = await Write(report);
        }

        Assert.Equal(invariant, german);
        Assert.Contains("97.0% (194/200) [93.6%, 98.6%]", german, StringComparison.Ordinal);
        Assert.DoesNotContain("93,6", german, StringComparison.Ordinal);
        // Chart tick labels too: ScottPlot formats with the current culture unless told otherwise.
        Assert.DoesNotMatch(CommaDecimalInText(), german);
    }

    [Fact]
    public void Answer_names_the_cheapest_sufficient_model_the_frontier_and_each_model()
    {
        var html = HtmlReportWriter.Render(SampleReports.Build());
        var answer = Answer(html);

        // Beside the recommendation: what it costs, the runner-up with the same figures, and the rule that decided.
        Assert.Contains("<b>arith</b> (bar ≥ 90.0%): cheapest sufficient <span class=\"sufficient\">tiny-q4_0</span> "
            + "<span class=\"figures\">pass 97.0% [93.6%, 98.6%] &#183; ≈ 0.0123 J/item (estimated) &#183; p50 / p95 21 / 42 ms &#183; 44.0 KiB</span>", answer, StringComparison.Ordinal);
        Assert.Contains("<li>runner-up <b>tiny-q8_0</b> <span class=\"figures\">pass 98.0% [95.0%, 99.2%] &#183; ≈ 0.0151 J/item (estimated) &#183; p50 / p95 26 / 52 ms &#183; 80.0 KiB</span></li>", answer, StringComparison.Ordinal);
        Assert.Contains("<li class=\"muted\">energy cannot separate them (≈ J/item is estimated from CPU time, which never ranks); smallest file decides; 2 models sufficient</li>", answer, StringComparison.Ordinal);
        // One cost rule for the run: said once, under the list.
        Assert.Contains($"<p class=\"muted\">Cheapest: {FrontierAnalyzer.CostRule.Replace("'", "&#39;", StringComparison.Ordinal)}.</p>", answer, StringComparison.Ordinal);
        // The model that did not load is said first, with its reason.
        Assert.Contains("<li><b>small</b> <span class=\"insufficient\">did not load</span>: small.gguf: bad magic</li>", answer, StringComparison.Ordinal);
        Assert.Contains("<b>stories</b> (open): frontier <span class=\"front\">tiny-f16, tiny-q8_0</span>", answer, StringComparison.Ordinal);
        Assert.Contains("<li><b>tiny-q4_0</b>: cheapest sufficient for <span class=\"sufficient\">arith</span>; sufficient for arith</li>", answer, StringComparison.Ordinal);
        Assert.Contains("<li><b>tiny-q8_0</b>: sufficient for arith; on the frontier of <span class=\"front\">stories</span></li>", answer, StringComparison.Ordinal);
        Assert.Contains("<li><b>odd-model</b>: <span class=\"muted\">sufficient for no fixed suite and on no frontier</span></li>", answer, StringComparison.Ordinal);
        // The answer comes before any evidence.
        Assert.True(html.IndexOf("id=\"answer\"", StringComparison.Ordinal) < html.IndexOf("<svg", StringComparison.Ordinal));
        // The open suite's table marks the frontier.
        Assert.Contains("<td class=\"id\">tiny-q8_0</td><td class=\"num\">0.705 [0.650, 0.760]</td><td class=\"num\">60</td><td class=\"front\">◆ on frontier</td><td class=\"num\">-0.007 [-0.031, +0.017]</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void A_compare_run_shows_the_comparison_table_and_its_chart()
    {
        var html = HtmlReportWriter.Render(SampleReports.Build());
        var start = html.IndexOf("<section class=\"comparison\"", StringComparison.Ordinal);
        Assert.True(start > 0, "no comparison section");
        var section = html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];

        Assert.Contains("<h2>Comparison <span class=\"tag\">against tiny-f16</span></h2>", section, StringComparison.Ordinal);
        // Per candidate and suite: paired delta with its Newcombe interval, McNemar p raw and Holm-adjusted, drift.
        Assert.Contains("<tr><td>tiny-q4_0</td><td class=\"num\">44.0 KiB (0.29&#215;)</td><td>arith</td><td class=\"num\">200</td>"
            + "<td class=\"num\">-4.5 pt pass rate [-8.1 pt, -1.2 pt] (lost 13, gained 4)</td><td class=\"num\">0.0490 McNemar (0.0980)</td>"
            + "<td class=\"num\">0.01496</td><td class=\"num\">0.1309</td><td class=\"num\">96.13%</td><td class=\"num\">-0.00030</td><td class=\"num\">0.01900</td></tr>", section, StringComparison.Ordinal);
        Assert.Contains("<td>stories</td><td class=\"num\">60</td><td class=\"num\">-0.045 score [-0.081, -0.012]</td><td class=\"num\">0.0490 bootstrap (0.0980)</td>", section, StringComparison.Ordinal);
        // Per candidate: drift over every suite, perplexity ratio, latency, time to first token, prompt and generation speed.
        Assert.Contains("<tr><td>tiny-q8_0</td><td class=\"num\">0.00120</td><td class=\"num\">0.0108</td><td class=\"num\">96.88%</td><td class=\"num\">0.02100</td><td class=\"num\">1.0012</td><td class=\"num\">0.55</td><td class=\"num\">–</td><td class=\"num\">–</td><td class=\"num\">1.41</td>", section, StringComparison.Ordinal);
        Assert.Contains("Base perplexity on tasks/reference.txt (sha256 eeeeeeeeeeee…): 12.5000 over 4096 tokens in 8 documents.", section, StringComparison.Ordinal);
        Assert.Contains("Smallest sufficient quantization (ladders below): arith: tiny-q4_0.", section, StringComparison.Ordinal);

        // The chart: quality delta per candidate and suite with its interval, KL on its own axis; titled, axes named,
        // a legend entry per series.
        var chart = Assert.Single(SvgElement().Matches(section)).Value;
        Assert.Contains("aria-label=\"Quality change of each candidate against tiny-f16", chart, StringComparison.Ordinal);
        // The legend sits below the data region: every legend label is lower than the x axis label.
        Assert.True(LabelY(chart, "no change") > LabelY(chart, "candidate"), "legend inside the data region");
        foreach (var text in new[] { "Candidates against tiny-f16", "Δ quality vs base (pt)", "mean KL divergence (nats)", "candidate",
                     "Δ arith (pass rate)", "Δ stories (score × 100)", "mean KL (right axis)", "no change", "tiny-q8_0", "tiny-q4_0" })
        {
            // ScottPlot writes each label as its own <text> element, indented.
            Assert.Matches(">\\s*" + Regex.Escape(text) + "\\s*<", chart);
        }
    }

    // The vertical position of a chart label: ScottPlot places each <text> by translate(x y).
    private static double LabelY(string svg, string text)
    {
        var match = Regex.Match(svg, @"translate\([-0-9.]+ ([-0-9.]+)\)""[^>]*>\s*" + Regex.Escape(text) + @"\s*<", RegexOptions.None, TimeSpan.FromSeconds(5));
        Assert.True(match.Success, $"label '{text}' not found");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }

    [Fact]
    public void An_ordinary_run_has_no_comparison_section()
    {
        var report = SampleReports.Build();
        var html = HtmlReportWriter.Render(report with { Comparison = null });

        Assert.DoesNotContain("class=\"comparison\"", html, StringComparison.Ordinal);
        Assert.Equal(3, Regex.Count(html, "<svg ", RegexOptions.None, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public void Without_analysis_the_answer_lists_the_sufficient_models_and_the_best()
    {
        var answer = Answer(HtmlReportWriter.Render(SampleReports.Build(withAnalysis: false)));

        Assert.Contains("<b>arith</b> (bar ≥ 90.0%): sufficient <span class=\"sufficient\">tiny-q4_0, tiny-q8_0</span>", answer, StringComparison.Ordinal);
        Assert.Contains("<b>stories</b> (open): best <span class=\"front\">tiny-f16</span>", answer, StringComparison.Ordinal);
        Assert.DoesNotContain("cheapest", answer, StringComparison.Ordinal);
    }

    [Fact]
    public void Estimated_energy_is_marked_and_explained()
    {
        var html = HtmlReportWriter.Render(SampleReports.Build());

        Assert.Contains("<td class=\"num\">21 / 42 ms</td><td class=\"num\">≈ 0.0123</td>", html, StringComparison.Ordinal);
        Assert.Contains("<strong>Energy is estimated, not measured:</strong>", html, StringComparison.Ordinal);
        Assert.Contains("energy estimated (≈), no meter", html, StringComparison.Ordinal);
        Assert.Contains("≈ J/item (estimated from CPU time)", html, StringComparison.Ordinal);
        Assert.Contains("<td>rapl</td><td>no</td>", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Verdict_table_and_ladder_show_every_row()
    {
        var html = HtmlReportWriter.Render(SampleReports.Build());

        Assert.Contains("<h1>Harness report: run <code>2025-03-14T09-26-53-abc123</code></h1>", html, StringComparison.Ordinal);
        Assert.Contains("2025-03-14 08:26 UTC · ci-host · AMD EPYC 7763", html, StringComparison.Ordinal);
        Assert.Contains("Requirement: pass rate ≥ 90.0% by the lower bound of the two-sided 95% Wilson interval (a one-sided 97.5% bound), p95 latency ≤ 500 ms.", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"undecided\">undecided</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"insufficient\">insufficient</td>", html, StringComparison.Ordinal);
        Assert.Contains("<h2>Quantization ladder <span class=\"tag\">against tiny-f16</span></h2>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"id\">tiny-q4_0</td><td class=\"num\">44.0 KiB</td><td class=\"num\">4.50</td><td class=\"num\">–</td><td class=\"num\">97.0% [93.6%, 98.6%]</td><td class=\"sufficient\">sufficient</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"id\">small</td><td class=\"insufficient\">loadFailed</td>", html, StringComparison.Ordinal);
    }

    private static string Answer(string html)
    {
        var start = html.IndexOf("<section class=\"answer\"", StringComparison.Ordinal);
        var end = html.IndexOf("</section>", start, StringComparison.Ordinal);
        return html[start..end];
    }

    private static async Task<string> Write(RunReport report)
    {
        using var stream = new MemoryStream();
        await new HtmlReportWriter().WriteAsync(report, stream, CancellationToken.None);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    // A src or href that leaves the file: a scheme, or a protocol-relative //host.
    [GeneratedRegex(@"(?:src|href)\s*=\s*[""']?\s*(?:[a-z][a-z0-9+.\-]*:|//)", RegexOptions.IgnoreCase)]
    private static partial Regex ExternalReference();

    [GeneratedRegex(@"<svg .*?</svg>", RegexOptions.Singleline)]
    private static partial Regex SvgElement();

    [GeneratedRegex(@"\sid=""([^""]+)""")]
    private static partial Regex IdAttribute();

    [GeneratedRegex(@"url\(#([^)]+)\)")]
    private static partial Regex UrlReference();

    // A decimal comma in text content, e.g. a tick label "0,5" or "12,5%".
    [GeneratedRegex(@">[^<]*\d,\d+%?\s*<")]
    private static partial Regex CommaDecimalInText();
}
