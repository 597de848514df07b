using System.Globalization;
using System.Text.Json;
using Harness.Cli.Running;
using Harness.Core.Reports;
using Harness.Core.Serialization;
using Harness.Core.Verdicts;
using Spectre.Console;

namespace Harness.Cli.Output;

/// <summary>The end-of-run summary: verdict tables for people, or one JSON document for machines.</summary>
internal static class SummaryWriter
{
    public static void WriteTables(IAnsiConsole console, RunResult result)
    {
        var report = result.Report;
        var busy = report.Models.Where(m => m.BusyMachine is not null).Select(m => m.ModelId).ToHashSet(StringComparer.Ordinal);
        string Timed(string modelId, string figure) => busy.Contains(modelId) && figure != "-" ? $"{figure} {ContentionText.BusyMark}" : figure;
        foreach (var suite in report.FixedSuites)
        {
            var requirement = suite.Requirement;
            var table = new Table()
                .Title(Invariant($"[bold]{Markup.Escape(suite.Suite)}[/] v{suite.Version} · fixed · bar {Percent(requirement.MinPassRate)} by the two-sided {Percent(requirement.Confidence)} Wilson lower bound"))
                .AddColumns("model", "pass rate [[interval]]", "verdict", "coverage", "p50 / p95 latency", "gen tok/s", "J/item").KeepWhole(0);
            foreach (var row in suite.Rows)
            {
                var v = row.Verdict;
                var rate = v.PassRate is { } p ? $"{Percent(p.Rate)} [[{Percent(p.Interval.Lower)}, {Percent(p.Interval.Upper)}]]" : "-";
                table.AddRow(
                    Markup.Escape(row.ModelId), rate, VerdictMarkup(v), Markup.Escape(ReportText.CoverageCell(v, suite.ItemCount)),
                    Timed(row.ModelId, Invariant($"{Ms(v.P50Latency)} / {Ms(v.P95Latency)}")),
                    row.Performance.MeanGenerationTokensPerSecond is { } tps ? Invariant($"{tps:F0}") : "-",
                    Timed(row.ModelId, Joules(row.Energy)));
            }

            console.Write(table);
        }

        foreach (var suite in report.OpenSuites)
        {
            var table = new Table()
                .Title(Invariant($"[bold]{Markup.Escape(suite.Suite)}[/] v{suite.Version} · open"))
                .AddColumns("rank", "model", "mean score [[interval]]", "p95 latency", "J/item").KeepWhole(1);
            foreach (var row in suite.Rows)
            {
                var s = row.Score;
                var interval = s.Interval is { } i ? Invariant($" [[{i.Lower:F3}, {i.Upper:F3}]]") : "";
                table.AddRow(Invariant($"{row.Rank}"), Markup.Escape(row.ModelId), Invariant($"{s.Mean:F3}{interval}"),
                    Timed(row.ModelId, Ms(row.Performance.P95Latency)), Timed(row.ModelId, Joules(row.Energy)));
            }

            console.Write(table);
            foreach (var exclusion in suite.Unranked ?? [])
            {
                console.MarkupLine(Invariant($"[yellow]not ranked[/] {Markup.Escape(exclusion.ModelId)} on {Markup.Escape(suite.Suite)} ({Markup.Escape(ReportText.CoverageText(exclusion.Coverage))}): {Markup.Escape(string.Join("; ", exclusion.Reasons))}"));
            }
        }

        // Errors last, beside the exit code they cause: the reason exists nowhere else a user would look.
        foreach (var suite in report.FixedSuites)
        {
            foreach (var row in suite.Rows.Where(r => r.Verdict.Kind == VerdictKind.Error && r.Verdict.Coverage is not null))
            {
                console.MarkupLine(Invariant($"[red]error[/] {Markup.Escape(row.ModelId)} on {Markup.Escape(suite.Suite)}: {Markup.Escape(string.Join("; ", VerdictCalculator.ErrorReasons(row.Verdict.Coverage!)))}"));
            }
        }

        if (report.Energy is { } energy)
        {
            console.MarkupLine(energy.Selected.Contains("estimate")
                ? Invariant($"[yellow]Energy is estimated[/] (≈, CPU time × {energy.Estimate.WattsPerCore:0.###} W per core): no usable meter here; [bold]harness doctor[/] says why.")
                : Invariant($"Energy measured by {Markup.Escape(string.Join(" + ", energy.Selected))}."));
        }

        foreach (var model in report.Models.Where(m => m.Contention is not null))
        {
            var line = $"Contention during {model.ModelId}: {ContentionText.Line(model.Contention!)}";
            if (model.BusyMachine is { } machine)
            {
                console.MarkupLineInterpolated($"[yellow]{line}. Busy machine: {machine.Reason}; its latency and energy ceilings are left undecided.[/]");
            }
            else
            {
                console.MarkupLineInterpolated($"{line}.");
            }
        }

        foreach (var judging in result.Judging?.Where(j => j.Failure is not null) ?? [])
        {
            console.MarkupLineInterpolated($"[red]judge {judging.JudgeModelId} on {judging.Suite}:[/] {judging.Failure}");
        }

        foreach (var model in report.Models.Where(m => m.Failure is not null))
        {
            console.MarkupLineInterpolated($"[red]{model.ModelId}: {model.Status}[/] {model.Failure}");
        }

        WriteAnswer(console, report);
        console.MarkupLineInterpolated($"Results: [link]{result.RunDirectory}[/] (report.html, report.md, report.json, run.json, store.sqlite)");
    }

    /// <summary>The report's Answer, last, where a user reads first: each recommendation with what it costs.</summary>
    internal static void WriteAnswer(IAnsiConsole console, RunReport report)
    {
        var lines = AnswerText.Lines(report);
        if (lines.Count == 0)
        {
            return;
        }

        console.MarkupLine("[bold]Answer[/]");
        foreach (var line in lines)
        {
            console.MarkupLine("  " + Markup.Escape(line));
        }
    }

    /// <summary>The end of <c>harness compare</c>: the comparison's figures in a few lines (report.html has the chart).</summary>
    internal static void WriteComparison(IAnsiConsole console, Harness.Core.Comparison.ComparisonReport comparison)
    {
        var lines = Harness.Core.Comparison.ComparisonText.SummaryLines(comparison);
        console.MarkupLine("[bold]" + Markup.Escape(lines[0]) + "[/]");
        foreach (var line in lines.Skip(1))
        {
            console.MarkupLine("  " + Markup.Escape(line));
        }
    }

    public static string ToJson(RunResult result) => JsonSerializer.Serialize(new
    {
        runDirectory = result.RunDirectory,
        outcomes = result.Outcomes,
        drift = result.Drift,
        report = result.Report,
    }, HarnessJson.IndentedOptions);

    private static string VerdictMarkup(FixedSuiteVerdict verdict) => verdict.Kind switch
    {
        VerdictKind.Sufficient => "[green]sufficient[/]",
        VerdictKind.Insufficient => "[red]insufficient[/]",
        VerdictKind.Error => "[red bold]error[/]",
        _ => "[yellow]undecided[/]",
    };

    // Estimates carry the ≈ mark here as in report.md, so they are never read as measurements.
    private static string Joules(Harness.Core.Energy.EnergySummary? energy) => energy is null
        ? "-"
        : (energy.Quality == Harness.Core.Energy.EnergyQuality.Estimated ? "≈" : "") + energy.JoulesPerItem.Mean.ToString("0.###", CultureInfo.InvariantCulture);

    private static string Ms(TimeSpan? value) => value is { } v ? Invariant($"{v.TotalMilliseconds:F0} ms") : "-";

    /// <summary>Percent without the invariant culture's space ("90 %"): 90%, 97.5%.</summary>
    internal static string Percent(double fraction) => (fraction * 100).ToString("0.#", CultureInfo.InvariantCulture) + "%";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
