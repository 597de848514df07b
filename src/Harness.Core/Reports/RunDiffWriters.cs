using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Core.Energy;
using Harness.Core.Serialization;
using Harness.Core.Suites;

using static Harness.Core.Reports.MarkdownTable;
using static Harness.Core.Reports.ReportText;

namespace Harness.Core.Reports;

/// <summary>Renders a <see cref="RunDiff"/> into one file, <c>diff-&lt;runIdA&gt;-vs-&lt;runIdB&gt;</c> plus its extension.</summary>
public interface IRunDiffWriter
{
    /// <summary>With the dot, e.g. <c>.md</c>.</summary>
    string Extension { get; }

    Task WriteAsync(RunDiff diff, Stream destination, CancellationToken cancellationToken);
}

/// <summary>The diff in the Harness JSON dialect, versioned by <c>diffSchemaVersion</c>.</summary>
public sealed class RunDiffJsonWriter : IRunDiffWriter
{
    public string Extension => ".json";

    public Task WriteAsync(RunDiff diff, Stream destination, CancellationToken cancellationToken) =>
        JsonSerializer.SerializeAsync(destination, diff, HarnessJson.IndentedOptions, cancellationToken);
}

/// <summary>The diff for people. Every number is formatted with the invariant culture.</summary>
public sealed class RunDiffMarkdownWriter : IRunDiffWriter
{
    public string Extension => ".md";

    public Task WriteAsync(RunDiff diff, Stream destination, CancellationToken cancellationToken) =>
        WriteUtf8Async(Render(diff), destination, cancellationToken);

    /// <summary>The whole document as a string, with <c>\n</c> line ends on every platform.</summary>
    public static string Render(RunDiff diff)
    {
        ArgumentNullException.ThrowIfNull(diff);
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');

        Line($"# Harness diff: run {Cell(diff.RunA.RunId)} (A) vs {Cell(diff.RunB.RunId)} (B)");
        Line();
        Line($"- A: {Side(diff.RunA)}");
        Line($"- B: {Side(diff.RunB)}");
        Line(Inv($"- Paired items: {diff.PairedItems} (by model, suite and item id); only in A: {diff.ItemsOnlyInA}; only in B: {diff.ItemsOnlyInB}"));
        Line(Inv($"- Differences are B − A. Pass rates: Newcombe paired interval, exact McNemar p. Open-suite scores: paired bootstrap, {diff.BootstrapResamples} resamples, seed {diff.BootstrapSeed}."));
        Line(Inv($"- Diff schema: {diff.DiffSchemaVersion}"));

        if (!diff.Warnings.IsEmpty)
        {
            Line();
            Line("## Warnings");
            Line();
            foreach (var warning in diff.Warnings)
            {
                Line($"- **{Cell(Name(warning.Kind))}:** {Cell(warning.Message)}");
            }
        }

        Line();
        Line("## Quality");
        Line();
        if (diff.Suites.IsEmpty)
        {
            Line("No (model, suite) has items in both runs.");
        }
        else
        {
            Line("| model | suite | paired n | pass rate A → B | Δ pass rate [interval] | McNemar p | Δ mean score [interval] | outputs changed | pass→fail | fail→pass |");
            Line("|---|---|---:|---|---|---:|---|---:|---:|---:|");
            foreach (var suite in diff.Suites)
            {
                var rate = suite.PassRate;
                Line(Row(
                    suite.ModelId,
                    suite.Suite + (suite.Kind == SuiteKind.Open ? " (open)" : ""),
                    Inv($"{suite.PairedItems}"),
                    $"{Percent(suite.PassRateA)} → {Percent(suite.PassRateB)}",
                    $"{SignedPoints(rate.Difference)} [{SignedPoints(rate.Interval.Lower)}, {SignedPoints(rate.Interval.Upper)}]",
                    PValue(rate.PValue),
                    suite.Score is { } score
                        ? $"{SignedFixed(score.Difference)} [{SignedFixed(score.Interval.Lower)}, {SignedFixed(score.Interval.Upper)}]"
                        : "–",
                    Inv($"{suite.OutputsChanged}"),
                    Inv($"{rate.Counts.OnlyBasePassed}"),
                    Inv($"{rate.Counts.OnlyCandidatePassed}")));
            }

            Line();
            Line("## Cost");
            Line();
            Line("| model | suite | p50 latency A → B | ratio | p95 latency A → B | ratio | J/item A → B | ratio | energy source A / B |");
            Line("|---|---|---|---:|---|---:|---|---:|---|");
            foreach (var suite in diff.Suites)
            {
                var latency = suite.Latency;
                var energy = suite.Energy;
                Line(Row(
                    suite.ModelId,
                    suite.Suite,
                    $"{Ms(latency.P50A)} → {Ms(latency.P50B)}",
                    Ratio(latency.P50Ratio),
                    $"{Ms(latency.P95A)} → {Ms(latency.P95B)}",
                    Ratio(latency.P95Ratio),
                    energy is null ? "not measured" : $"{Joules(energy.JoulesPerItemA, energy.QualityA)} → {Joules(energy.JoulesPerItemB, energy.QualityB)}",
                    energy is null ? "–" : energy.Ratio is { } r ? Ratio(r) : energy.QualityA is not null && energy.QualityB is not null ? "– (measured vs estimated)" : "–",
                    energy is null ? "–" : $"{Source(energy.SourceA, energy.QualityA)} / {Source(energy.SourceB, energy.QualityB)}"));
            }

            if (diff.Suites.Any(s => s.Energy?.Estimated == true))
            {
                Line();
                Line("> **Energy marked ≈ is estimated** (CPU time × configured watts), not measured; an estimate is never compared with a measurement.");
            }

            var flipped = diff.Suites.Where(s => !s.PassToFail.IsEmpty || !s.FailToPass.IsEmpty).ToList();
            if (flipped.Count > 0)
            {
                Line();
                Line(Inv($"## Flipped items (first {diff.FlipListLimit} of each, by item id)"));
                Line();
                foreach (var suite in flipped)
                {
                    Flips(suite.ModelId, suite.Suite, "pass → fail", suite.PassToFail, suite.PassRate.Counts.OnlyBasePassed, Line);
                    Flips(suite.ModelId, suite.Suite, "fail → pass", suite.FailToPass, suite.PassRate.Counts.OnlyCandidatePassed, Line);
                }
            }
        }

        if (!diff.Unpaired.IsEmpty)
        {
            Line();
            Line("## Unpaired items (left out of every figure)");
            Line();
            Line("| model | suite | only in A | only in B |");
            Line("|---|---|---:|---:|");
            foreach (var u in diff.Unpaired)
            {
                Line(Row(u.ModelId, u.Suite, Inv($"{u.OnlyInA}"), Inv($"{u.OnlyInB}")));
            }
        }

        return md.ToString();
    }

    private static void Flips(string modelId, string suite, string direction, System.Collections.Immutable.ImmutableArray<string> ids, int total, Action<string> line)
    {
        if (total == 0)
        {
            return;
        }

        string more = total > ids.Length ? Inv($" … and {total - ids.Length} more") : "";
        line(Inv($"- {Cell(modelId)} / {Cell(suite)}, {direction} ({total}): {Cell(string.Join(", ", ids))}{more}"));
    }

    private static string Side(RunDiffSide side) =>
        Cell(Inv($"{side.RunId}, created {side.CreatedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC on {side.HostName} ({side.CpuModel}, {side.LogicalCores} logical cores), energy: {side.EnergySource ?? "none"}"));

    private static string Joules(double? value, EnergyQuality? quality) =>
        value is { } v ? (quality == EnergyQuality.Estimated ? "≈" : "") + v.ToString("0.###", CultureInfo.InvariantCulture) : "–";

    private static string Source(string? source, EnergyQuality? quality) =>
        quality switch
        {
            EnergyQuality.Estimated => "estimate",
            EnergyQuality.Measured => "measured: " + source,
            _ => "none",
        };

    private static string Ratio(double? value) => value is { } v ? v.ToString("0.00", CultureInfo.InvariantCulture) + "×" : "–";

}
