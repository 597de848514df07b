using System.Globalization;
using Harness.Core.Comparison;
using static Harness.Core.Reports.ReportText;
using static Harness.Reports.Html.HtmlText;

namespace Harness.Reports.Html;

/// <summary>
/// The comparison of a <c>harness compare</c> run in report.html: the chart of quality delta and KL per candidate, the
/// per-suite table (paired delta with its interval, McNemar or bootstrap p raw and Holm-adjusted, drift on that suite's
/// items) and the per-candidate table (drift over every suite, perplexity ratio, latency, speed, memory), as report.md
/// has them. The ladders and the notes follow in their own section.
/// </summary>
internal static class ComparisonSection
{
    public static void Render(ComparisonReport comparison, Action<string> line)
    {
        void Line(string text = "") => line(text);
        Line("<section class=\"comparison\" id=\"comparison\">");
        Line($"<h2>Comparison <span class=\"tag\">{E($"against {comparison.BaseModelId}")}</span></h2>");
        Line("<p class=\"req\">Candidate minus base on the same items. p: raw, Holm-adjusted over every candidate × suite in parentheses; call a difference real only where the adjusted p is at most 0.05. KL: base ‖ candidate in nats over the base's top tokens.</p>");
        if (ComparisonChart.Render(comparison) is { } chart)
        {
            Line("<figure>");
            Line(chart);
            Line("<figcaption>Each candidate's quality change per suite (dot) with its interval (Newcombe for pass rates, paired bootstrap for scores), in percentage points on the left axis; dashed: no change. Open squares: the candidate's mean KL divergence over every measured position, on the right axis.</figcaption>");
            Line("</figure>");
        }

        Line("<table>");
        Line("<thead><tr><th>candidate</th><th class=\"num\">size</th><th>suite</th><th class=\"num\">paired n</th><th class=\"num\">Δ quality [interval]</th><th class=\"num\">p (Holm-adjusted)</th><th class=\"num\">mean KL</th><th class=\"num\">p99 KL</th><th class=\"num\">top-1 agree</th><th class=\"num\">mean Δp</th><th class=\"num\">RMS Δp</th></tr></thead>");
        Line("<tbody>");
        foreach (var candidate in comparison.Candidates)
        {
            var drifts = candidate.DriftBySuite.ToDictionary(d => d.Suite, d => d.Drift, StringComparer.Ordinal);
            foreach (var quality in candidate.Quality)
            {
                drifts.TryGetValue(quality.Suite, out var drift);
                Line($"<tr><td>{E(candidate.ModelId)}</td><td class=\"num\">{E(ComparisonText.Size(candidate))}</td><td>{E(quality.Suite)}</td>"
                    + $"<td class=\"num\">{quality.PairedItems.ToString(CultureInfo.InvariantCulture)}</td><td class=\"num\">{E(ComparisonText.Delta(quality))}</td>"
                    + $"<td class=\"num\">{E(ComparisonText.PValues(quality))}</td><td class=\"num\">{E(Number(drift?.MeanKlDivergence, "0.00000"))}</td>"
                    + $"<td class=\"num\">{E(Number(drift?.P99KlDivergence, "0.0000"))}</td><td class=\"num\">{E(drift is null ? "–" : Percent(drift.TopTokenAgreement, "0.00"))}</td>"
                    + $"<td class=\"num\">{E(Number(drift?.MeanDeltaP, "+0.00000;-0.00000;0"))}</td><td class=\"num\">{E(Number(drift?.RmsDeltaP, "0.00000"))}</td></tr>");
            }
        }

        Line("</tbody>");
        Line("</table>");

        Line("<table>");
        Line("<thead><tr><th>candidate</th><th class=\"num\">all-suite mean KL</th><th class=\"num\">p99 KL</th><th class=\"num\">top-1 agree</th><th class=\"num\">RMS Δp</th><th class=\"num\">perplexity ratio</th><th class=\"num\">p50 latency ratio</th><th class=\"num\">TTFT p50 ratio</th><th class=\"num\">prompt speed ratio</th><th class=\"num\">gen speed ratio</th><th class=\"num\">peak memory</th><th class=\"num\">J/item measured (base)</th></tr></thead>");
        Line("<tbody>");
        foreach (var candidate in comparison.Candidates)
        {
            var drift = candidate.Drift;
            var cost = candidate.Cost;
            Line($"<tr><td>{E(candidate.ModelId)}</td><td class=\"num\">{E(Number(drift?.MeanKlDivergence, "0.00000"))}</td><td class=\"num\">{E(Number(drift?.P99KlDivergence, "0.0000"))}</td>"
                + $"<td class=\"num\">{E(drift is null ? "–" : Percent(drift.TopTokenAgreement, "0.00"))}</td><td class=\"num\">{E(Number(drift?.RmsDeltaP, "0.00000"))}</td>"
                + $"<td class=\"num\">{E(Number(candidate.PerplexityRatio, "0.0000"))}</td><td class=\"num\">{E(Number(cost.LatencyRatio, "0.00"))}</td>"
                + $"<td class=\"num\">{E(Number(cost.TimeToFirstTokenRatio, "0.00"))}</td><td class=\"num\">{E(Number(cost.PromptSpeedRatio, "0.00"))}</td>"
                + $"<td class=\"num\">{E(Number(cost.GenerationSpeedRatio, "0.00"))}</td>"
                + $"<td class=\"num\">{E($"{Bytes(cost.CandidatePeakResidentMemoryBytes)} (base {Bytes(cost.BasePeakResidentMemoryBytes)})")}</td>"
                + $"<td class=\"num\">{E($"{ComparisonText.Joules(cost.JoulesPerItemCandidate, cost.EnergyEstimated)} (base {ComparisonText.Joules(cost.JoulesPerItemBase, cost.EnergyEstimated)})")}</td></tr>");
        }

        Line("</tbody>");
        Line("</table>");
        foreach (var candidate in comparison.Candidates.Where(c => c.NoDrift is not null))
        {
            Line($"<p class=\"req\">{E($"{candidate.ModelId}: {ComparisonText.NoDriftLine(candidate.NoDrift!)}; its quality deltas, flips and cost ratios stand.")}</p>");
        }

        // For runtimes of the same weights every delta should be about 0: the flipped items are the evidence to read.
        if (comparison.Candidates.Any(c => !c.Flips.IsDefaultOrEmpty))
        {
            Line("<table>");
            Line("<thead><tr><th>candidate</th><th>suite</th><th class=\"num\">paired n</th><th class=\"num\">flipped</th><th class=\"num\">other text, same outcome</th><th>items (up to 10 of each)</th></tr></thead>");
            Line("<tbody>");
            foreach (var candidate in comparison.Candidates)
            {
                foreach (var flips in candidate.Flips.IsDefault ? [] : candidate.Flips)
                {
                    Line($"<tr><td>{E(candidate.ModelId)}</td><td>{E(flips.Suite)}</td><td class=\"num\">{flips.PairedItems.ToString(CultureInfo.InvariantCulture)}</td>"
                        + $"<td class=\"num\">{flips.Flipped.ToString(CultureInfo.InvariantCulture)}</td><td class=\"num\">{flips.TextChanged.ToString(CultureInfo.InvariantCulture)}</td>"
                        + $"<td>{E(ComparisonText.Flips(flips))}</td></tr>");
                }
            }

            Line("</tbody>");
            Line("</table>");
        }
        if (comparison.BasePerplexity is { } basePerplexity)
        {
            Line($"<p class=\"muted\">{E(Inv($"Base perplexity on {comparison.ReferencePath} (sha256 {comparison.ReferenceSha256[..Math.Min(12, comparison.ReferenceSha256.Length)]}…): {basePerplexity.Perplexity:0.0000} over {basePerplexity.PredictedTokens} tokens in {basePerplexity.Documents} documents."))}</p>");
        }

        var smallest = comparison.Ladders.Select(l => $"{l.Suite}: {l.CheapestSufficientModelId ?? "none"}"
            + (l.Order == LadderOrder.FileSize ? "" : " (by p95 latency)")).ToArray();
        if (smallest.Length > 0)
        {
            Line(comparison.Ladders.All(l => l.Order == LadderOrder.FileSize)
                ? $"<p>Smallest sufficient quantization (ladders below): {E(string.Join("; ", smallest))}.</p>"
                : $"<p>First sufficient rung of each ladder (below): {E(string.Join("; ", smallest))}.</p>");
        }

        Line("</section>");
    }
}
