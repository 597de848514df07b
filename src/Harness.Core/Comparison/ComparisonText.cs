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

    /// <summary>"44.0 KiB (0.28×)": the candidate's file and its size against the base.</summary>
    public static string Size(CandidateComparison candidate)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        return Bytes(candidate.FileSizeBytes) + (candidate.SizeRatio is { } r ? Inv($" ({r:0.00}×)") : "");
    }

    /// <summary>"mean KL 0.00012 · top-1 98.50% · RMS Δp 0.00310", or "drift not measured".</summary>
    public static string Drift(DriftSummary? drift) => drift is null
        ? "drift not measured"
        : $"mean KL {Number(drift.MeanKlDivergence, "0.00000")} · top-1 {Percent(drift.TopTokenAgreement, "0.00")} · RMS Δp {Number(drift.RmsDeltaP, "0.00000")}";

    /// <summary>
    /// The comparison in a few lines for the end of <c>harness compare</c>: per candidate its size, drift and perplexity
    /// ratio, then each suite's delta and p, then each ladder's smallest sufficient quantization.
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
            lines.Add($"{candidate.ModelId}: {Size(candidate)} · {Drift(candidate.Drift)}{perplexity}");
            foreach (SuiteQualityDelta quality in candidate.Quality)
            {
                lines.Add(Inv($"  {quality.Suite}: {Delta(quality)}, p {PValues(quality)}, n {quality.PairedItems}"));
            }
        }

        foreach (QuantizationLadder ladder in comparison.Ladders)
        {
            lines.Add($"ladder {ladder.Suite}: smallest sufficient = {ladder.CheapestSufficientModelId ?? "none"}"
                + (ladder.AnswerNote is { } note ? " (" + note + ")" : ""));
        }

        return lines;
    }
}
