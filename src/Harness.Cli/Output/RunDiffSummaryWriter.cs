using System.Globalization;
using Harness.Cli.Running;
using Harness.Core.Energy;
using Harness.Core.Reports;
using Spectre.Console;

namespace Harness.Cli.Output;

/// <summary>The console side of <c>harness report A B</c>: warnings, one row per (model, suite), where the files are.</summary>
internal static class RunDiffSummaryWriter
{
    public static void Write(IAnsiConsole console, RunDiffResult result)
    {
        ArgumentNullException.ThrowIfNull(console);
        var diff = result.Diff;
        foreach (var warning in diff.Warnings)
        {
            console.MarkupLineInterpolated($"[yellow]warning:[/] {warning.Message}");
        }

        var table = new Table()
            .Title(Invariant($"[bold]{Markup.Escape(diff.RunA.RunId)}[/] (A) vs [bold]{Markup.Escape(diff.RunB.RunId)}[/] (B) · {diff.PairedItems} paired items · B − A"))
            .AddColumns("model", "suite", "n", "pass rate A → B", "Δ [[interval]]", "p", "pass→fail", "fail→pass", "p50 ratio", "J/item A → B").KeepWhole(0, 1);
        foreach (var suite in diff.Suites)
        {
            var rate = suite.PassRate;
            var energy = suite.Energy;
            table.AddRow(
                Markup.Escape(suite.ModelId),
                Markup.Escape(suite.Suite),
                Invariant($"{suite.PairedItems}"),
                Invariant($"{SummaryWriter.Percent(suite.PassRateA)} → {SummaryWriter.Percent(suite.PassRateB)}"),
                Invariant($"{Points(rate.Difference)} [[{Points(rate.Interval.Lower)}, {Points(rate.Interval.Upper)}]]"),
                rate.PValue < 0.0001 ? "<0.0001" : Invariant($"{rate.PValue:0.0000}"),
                Invariant($"{rate.Counts.OnlyBasePassed}"),
                Invariant($"{rate.Counts.OnlyCandidatePassed}"),
                suite.Latency.P50Ratio is { } ratio ? Invariant($"{ratio:0.00}×") : "-",
                energy is null ? "-" : $"{Joules(energy.JoulesPerItemA, energy.QualityA)} → {Joules(energy.JoulesPerItemB, energy.QualityB)}");
        }

        console.Write(table);
        if (diff.ItemsOnlyInA > 0 || diff.ItemsOnlyInB > 0)
        {
            console.MarkupLine(Invariant($"Unpaired items, left out: {diff.ItemsOnlyInA} only in A, {diff.ItemsOnlyInB} only in B."));
        }

        foreach (var file in result.Files)
        {
            console.MarkupLineInterpolated($"Written: [link]{file}[/]");
        }
    }

    private static string Points(double value) => (value * 100).ToString("+0.0;-0.0;0.0", CultureInfo.InvariantCulture) + " pt";

    // Estimates carry the ≈ mark here as in the markdown, so they are never read as measurements.
    private static string Joules(double? value, EnergyQuality? quality) =>
        value is { } v ? (quality == EnergyQuality.Estimated ? "≈" : "") + v.ToString("0.###", CultureInfo.InvariantCulture) : "-";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
