using System.Globalization;
using Harness.Core.Reports;
using static Harness.Core.Reports.ReportText;

namespace Harness.Core.Comparison;

/// <summary>
/// The comparison's figures in words, shared by report.md, report.html and the console summary of <c>harness compare</c>
/// so that all three print a delta, a p and a drift figure the same way. Plain text, invariant culture.
/// </summary>
public static class ComparisonText
{
    /// <summary>"+1.5 pt pass rate [-0.9 pt, +3.9 pt] (lost 1, gained 4)" or "+0.012 score [-0.010, +0.034]"; a dash when untested.</summary>
    public static string Delta(SuiteQualityDelta quality)
    {
        ArgumentNullException.ThrowIfNull(quality);
        if (quality.PassRate is { } rate)
        {
            return Inv($"{SignedPoints(rate.Difference)} pass rate [{SignedPoints(rate.Interval.Lower)}, {SignedPoints(rate.Interval.Upper)}] (lost {rate.Counts.OnlyBasePassed}, gained {rate.Counts.OnlyCandidatePassed})");
        }

        return quality.Score is { } score
            ? Inv($"{SignedFixed(score.Difference)} score [{SignedFixed(score.Interval.Lower)}, {SignedFixed(score.Interval.Upper)}]")
            : "–";
    }

    /// <summary>"0.2500 McNemar (1.0000)": the raw p, its test, and the Holm-adjusted p in parentheses.</summary>
    public static string PValues(SuiteQualityDelta quality)
    {
        ArgumentNullException.ThrowIfNull(quality);
        string holm = quality.AdjustedPValue is { } adjusted ? " (" + PValue(adjusted) + ")" : "";
        return quality.PassRate is { } rate
            ? PValue(rate.PValue) + " McNemar" + holm
            : quality.Score is { } score ? PValue(score.PValue) + " bootstrap" + holm : "–";
    }

    /// <summary>"44.0 KiB (0.28×)": the candidate's file and its size against the base; "no file" for a served model.</summary>
    public static string Size(CandidateComparison candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return candidate.FileSizeBytes <= 0
            ? "no file"
            : Bytes(candidate.FileSizeBytes) + (candidate.SizeRatio is { } r ? Inv($" ({r:0.00}×)") : "");
    }

    /// <summary>"no drift or perplexity: x's backend cannot return next-token distributions".</summary>
    public static string NoDriftLine(string reason) => "no drift or perplexity: " + reason;

    /// <summary>"3 flipped (q-07, q-12, q-31), 1 more with other text (q-02)" or "no flips": up to <paramref name="ids"/> ids of each.</summary>
    public static string Flips(SuiteFlips flips, int ids = 10)
    {
        ArgumentNullException.ThrowIfNull(flips);
        static string Some(IEnumerable<string> shown, int total, int limit)
        {
            var list = shown.Take(limit).ToList();
            return " (" + string.Join(", ", list) + (total > list.Count ? Inv($", … {total - list.Count} more") : "") + ")";
        }

        var parts = new List<string>();
        if (flips.Flipped > 0)
        {
            parts.Add(Inv($"{flips.Flipped} flipped") + Some(flips.Items.Select(f => f.ItemId), flips.Flipped, ids));
        }

        if (flips.TextChanged > 0)
        {
            parts.Add(Inv($"{flips.TextChanged} with the same outcome but other text") + Some(flips.TextChangedItemIds, flips.TextChanged, ids));
        }

        return parts.Count == 0 ? Inv($"no flips in {flips.PairedItems}") : string.Join("; ", parts);
    }

    /// <summary>"p50 latency 0.98× · TTFT 1.10× · prompt 0.95× · gen 1.02× · J/item 1.01×" (candidate over base); dashes where unmeasured.</summary>
    public static string CostRatios(CostDelta cost)
    {
        ArgumentNullException.ThrowIfNull(cost);
        static string Ratio(double? value) => value is { } v ? Number(v, "0.00") + "×" : "–";
        string joules = cost.JoulesPerItemRatio is { } j
            ? " · J/item " + Ratio(j)
            : cost.EnergyEstimated ? " · J/item estimated only (see the energy tables)" : " · J/item not measured";
        return $"p50 latency {Ratio(cost.LatencyRatio)} · TTFT {Ratio(cost.TimeToFirstTokenRatio)} · prompt tok/s {Ratio(cost.PromptSpeedRatio)} · gen tok/s {Ratio(cost.GenerationSpeedRatio)}{joules}";
    }

    /// <summary>A measured J/item, or why there is none: "0.0123", "estimated only (≈, see the energy tables)", "not measured".</summary>
    public static string Joules(double? measured, bool estimated) =>
        measured is { } j ? Sig(j) : estimated ? "estimated only (≈, see the energy tables)" : "not measured";

    /// <summary>"smallest sufficient" where file size orders the ladder, else "fastest sufficient (p95 latency; …)".</summary>
    public static string LadderRule(QuantizationLadder ladder)
    {
        ArgumentNullException.ThrowIfNull(ladder);
        return ladder.Order == LadderOrder.FileSize
            ? "smallest sufficient"
            : "first sufficient by p95 latency (the files are the same size or some model has none, so file size decides nothing)";
    }

    /// <summary>"mean KL 0.00012 · top-1 98.50% · RMS Δp 0.00310", or "drift not measured".</summary>
    public static string Drift(DriftSummary? drift) => drift is null
        ? "drift not measured"
        : $"mean KL {Number(drift.MeanKlDivergence, "0.00000")} · top-1 {Percent(drift.TopTokenAgreement, "0.00")} · RMS Δp {Number(drift.RmsDeltaP, "0.00000")}";

    /// <summary>
    /// The comparison in a few lines for the end of <c>harness compare</c>: per candidate its size, drift (or why there is
    /// none) and perplexity ratio, its cost ratios, then each suite's delta, p and flips, then each ladder's first
    /// sufficient rung.
    /// </summary>
    public static IReadOnlyList<string> SummaryLines(ComparisonReport comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var lines = new List<string> { $"Comparison against {comparison.BaseModelId} (candidate − base on the same items; p: raw, Holm-adjusted in parentheses)" };
        foreach (CandidateComparison candidate in comparison.Candidates)
        {
            string perplexity = candidate.PerplexityRatio is { } ratio
                ? " · perplexity ratio " + ratio.ToString("0.0000", CultureInfo.InvariantCulture)
                : "";
            string drift = candidate.NoDrift is { } reason ? NoDriftLine(reason) : Drift(candidate.Drift);
            lines.Add($"{candidate.ModelId}: {Size(candidate)} · {drift}{perplexity}");
            lines.Add("  cost vs base: " + CostRatios(candidate.Cost));
            var flips = (candidate.Flips.IsDefault ? [] : candidate.Flips).ToDictionary(f => f.Suite, StringComparer.Ordinal);
            foreach (SuiteQualityDelta quality in candidate.Quality)
            {
                string flipped = flips.TryGetValue(quality.Suite, out var f) ? "; " + Flips(f) : "";
                lines.Add(Inv($"  {quality.Suite}: {Delta(quality)}, p {PValues(quality)}, n {quality.PairedItems}{flipped}"));
            }
        }

        foreach (QuantizationLadder ladder in comparison.Ladders)
        {
            lines.Add($"ladder {ladder.Suite}: {LadderRule(ladder)} = {ladder.CheapestSufficientModelId ?? "none"}"
                + (ladder.AnswerNote is { } note ? " (" + note + ")" : ""));
        }

        return lines;
    }
}
