using System.Globalization;
using Harness.Core.Comparison;
using Harness.Core.Reports;
using Harness.Core.Suites;
using ScottPlot;

namespace Harness.Reports.Html;

/// <summary>
/// The chart of <c>harness compare</c>: per candidate, each suite's quality delta against the base with its interval
/// (left axis, percentage points) and the candidate's mean KL divergence over every measured position (right axis).
/// Drawn like <see cref="ReportCharts"/>: ScottPlot, transparent background, frame and labels in the page's text colour,
/// returned as inline SVG; the legend sits outside the data region so it never hides a point.
/// </summary>
internal static class ComparisonChart
{
    // Mid-tones that read on white and on near-black, one per suite; a suite beyond the last reuses them in order.
    private static readonly Color[] SuiteColors =
        [ReportCharts.Series, Color.FromHex("#C2549D"), Color.FromHex("#2A9D8F"), ReportCharts.Undecided, Color.FromHex("#7B61C9"), Color.FromHex("#8C6D3F")];

    private static readonly Color Foreground = Color.FromHex(SvgEmbedding.ForegroundSentinel);

    /// <summary>The chart as inline SVG; null when no candidate has a quality delta or a drift figure.</summary>
    public static string? Render(ComparisonReport comparison)
    {
        ArgumentNullException.ThrowIfNull(comparison);
        var candidates = comparison.Candidates;
        if (candidates.IsDefaultOrEmpty || candidates.All(c => c.Quality.IsDefaultOrEmpty && c.Drift is null))
        {
            return null;
        }

        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        plot.FigureBackground.Color = Colors.Transparent;
        plot.DataBackground.Color = Colors.Transparent;
        plot.Axes.Color(Foreground);
        plot.Grid.MajorLineColor = Foreground.WithAlpha(0.12);

        // Suites side by side within each candidate's slot, so intervals never sit on top of each other.
        string[] suites = [.. candidates.SelectMany(c => c.Quality.Select(q => q.Suite)).Distinct(StringComparer.Ordinal)];
        double width = suites.Length <= 1 ? 0 : Math.Min(0.6, 0.15 * suites.Length);
        double lowest = 0, highest = 0;
        for (int k = 0; k < suites.Length; k++)
        {
            var xs = new List<double>();
            var ys = new List<double>();
            var below = new List<double>();
            var above = new List<double>();
            bool open = false;
            for (int i = 0; i < candidates.Length; i++)
            {
                if (candidates[i].Quality.FirstOrDefault(q => q.Suite == suites[k]) is not { } quality
                    || Delta(quality) is not { } delta)
                {
                    continue;
                }

                open |= quality.Kind == SuiteKind.Open;
                xs.Add(i + (suites.Length <= 1 ? 0 : (k * width / (suites.Length - 1)) - (width / 2)));
                ys.Add(delta.Value * 100);
                below.Add((delta.Value - delta.Lower) * 100);
                above.Add((delta.Upper - delta.Value) * 100);
                lowest = Math.Min(lowest, delta.Lower * 100);
                highest = Math.Max(highest, delta.Upper * 100);
            }

            if (xs.Count == 0)
            {
                continue;
            }

            var color = SuiteColors[k % SuiteColors.Length];
            plot.Add.Plottable(new ScottPlot.Plottables.ErrorBar(xs, ys, null, null, below, above) { Color = color, LineWidth = 1.5f, CapSize = 6 });
            var markers = plot.Add.Markers(xs.ToArray(), ys.ToArray(), MarkerShape.FilledCircle, 10, color);
            markers.LegendText = $"Δ {Short(suites[k])} ({(open ? "score × 100" : "pass rate")})";
        }

        var zero = plot.Add.HorizontalLine(0, 1, Foreground, LinePattern.Dashed);
        zero.LegendText = "no change";

        // KL on its own axis: nats and percentage points share no scale.
        var drifted = Enumerable.Range(0, candidates.Length).Where(i => candidates[i].Drift is not null).ToArray();
        if (drifted.Length > 0)
        {
            var kl = plot.Add.Markers(
                drifted.Select(i => (double)i).ToArray(), drifted.Select(i => candidates[i].Drift!.MeanKlDivergence).ToArray(),
                MarkerShape.OpenSquare, 11, ReportCharts.Muted);
            kl.MarkerLineWidth = 2;
            kl.LegendText = "mean KL (right axis)";
            kl.Axes.YAxis = plot.Axes.Right;
            double maxKl = drifted.Max(i => candidates[i].Drift!.MeanKlDivergence);
            plot.Axes.Right.Range.Set(0, maxKl <= 0 ? 1 : maxKl * 1.25);
            plot.Axes.Right.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => ReportText.Sig(v) };
            plot.Axes.Right.Label.Text = "mean KL divergence (nats)";
            plot.Axes.Right.Label.ForeColor = Foreground;
        }

        double[] positions = [.. Enumerable.Range(0, candidates.Length).Select(i => (double)i)];
        plot.Axes.Bottom.SetTicks(positions, [.. candidates.Select(c => Short(c.ModelId))]);
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => v.ToString("+0.#;-0.#;0", CultureInfo.InvariantCulture),
        };
        double pad = Math.Max(1, (highest - lowest) * 0.1);
        plot.Axes.Left.Range.Set(lowest - pad, highest + pad);
        plot.Axes.Bottom.Range.Set(-0.6, candidates.Length - 0.4);
        plot.Title($"Candidates against {Short(comparison.BaseModelId)}");
        plot.Axes.Title.Label.ForeColor = Foreground;
        plot.XLabel("candidate");
        plot.YLabel("Δ quality vs base (pt)");

        plot.Legend.BackgroundColor = Colors.Transparent;
        plot.Legend.ShadowColor = Colors.Transparent;
        plot.Legend.OutlineColor = Foreground.WithAlpha(0.3);
        plot.Legend.FontColor = Foreground;
        plot.ShowLegend(Edge.Bottom);

        return SvgEmbedding.Inline(
            plot.GetSvgXml(760, 380),
            "comparison-chart",
            $"Quality change of each candidate against {comparison.BaseModelId} per suite with its interval, and each candidate's mean KL divergence.");
    }

    // Pass-rate deltas are fractions already; open-suite score deltas are on the score's own scale (0..1 for every
    // shipped scorer), drawn ×100 beside them and said so in the legend.
    private static (double Value, double Lower, double Upper)? Delta(SuiteQualityDelta quality) =>
        quality.PassRate is { } rate
            ? (rate.Difference, rate.Interval.Lower, rate.Interval.Upper)
            : quality.Score is { } score ? (score.Difference, score.Interval.Lower, score.Interval.Upper) : null;

    private static string Short(string modelId) => modelId.Length <= 28 ? modelId : modelId[..27] + "…";
}
