using Harness.Core.Reports;
using Harness.Reports.Html;

namespace Harness.Tests.Reports;

/// <summary>The tables of report.html and report.md: one format per column, ids on one line, the runtime named once.</summary>
public sealed class ReportTablesTests
{
    [Fact]
    public void A_column_of_figures_shares_one_significant_figure_based_format()
    {
        var joules = ReportText.SigColumn([0.0081, 0.0123, 0.0219]);
        Assert.Equal(["0.0081", "0.0123", "0.0219"], (string[])[joules(0.0081), joules(0.0123), joules(0.0219)]);

        // Orders of magnitude apart: the smallest keeps two significant digits, the largest at least three.
        var wide = ReportText.SigColumn([0.5, 0.0001]);
        Assert.Equal(["0.50000", "0.00010"], (string[])[wide(0.5), wide(0.0001)]);

        var large = ReportText.SigColumn([120.4, 95.2]);
        Assert.Equal(["120", "95"], (string[])[large(120.4), large(95.2)]);
    }

    [Fact]
    public void Html_joules_per_item_column_reads_alike_in_every_row()
    {
        var html = HtmlReportWriter.Render(SampleReports.Build());

        // 0.0081 beside 0.0123, not 0.00810 (three significant digits each, four and five decimals).
        Assert.Contains("<td class=\"num\">≈ 0.0081</td>", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"num\">≈ 0.0123</td>", html, StringComparison.Ordinal);
        Assert.DoesNotContain("0.00810", html, StringComparison.Ordinal);
        Assert.DoesNotContain("0.00820", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Markdown_energy_table_uses_one_format_per_column()
    {
        var md = MarkdownReportWriter.Render(SampleReports.Build());

        Assert.Contains("| ≈ 0.0081 [0.0077, 0.0085] gross |", md, StringComparison.Ordinal);
        Assert.DoesNotContain("0.00810", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Html_model_ids_stay_on_one_line_and_wide_tables_scroll()
    {
        var html = HtmlReportWriter.Render(SampleReports.Crowded());

        Assert.Contains("td.id { white-space: nowrap; }", html, StringComparison.Ordinal);
        Assert.Contains("div.table { overflow-x: auto;", html, StringComparison.Ordinal);
        Assert.Contains("<td class=\"id\">qwen2.5-0.5b-instruct-q3_k_m-v0</td>", html, StringComparison.Ordinal);
        // Every table sits in its scrolling box.
        Assert.Equal(html.Split("<table>").Length, html.Split("<div class=\"table\"><table>").Length);
        Assert.Equal(html.Split("</table>").Length, html.Split("</table></div>").Length);
    }

    [Fact]
    public void The_runtime_is_named_once_in_both_reports()
    {
        var report = SampleReports.Crowded();

        Assert.Contains(".NET 10.0.12", HtmlReportWriter.Render(report), StringComparison.Ordinal);
        Assert.DoesNotContain(".NET .NET", HtmlReportWriter.Render(report), StringComparison.Ordinal);
        Assert.Contains("- OS: Linux 6.1 (X64), .NET 10.0.12\n", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
        Assert.DoesNotContain(".NET .NET", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
    }
}
