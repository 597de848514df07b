using System.Globalization;
using Harness.Core.Comparison;
using Harness.Core.Reports;
using Harness.Core.Verdicts;
using ScottPlot;

namespace Harness.Reports.Html;

/// <summary>
/// The report's charts, drawn by ScottPlot and returned as inline SVG. Backgrounds are transparent and the frame, ticks
/// and labels take the page's text colour (see <see cref="SvgEmbedding.ForegroundSentinel"/>); series colours are
/// mid-tones that read on white and on near-black.
/// </summary>
internal sealed class ReportCharts
{
    public static readonly Color Sufficient = Color.FromHex("#1E9E58");
    public static readonly Color Insufficient = Color.FromHex("#E0453A");
    public static readonly Color Undecided = Color.FromHex("#D99A0E");
    public static readonly Color Series = Color.FromHex("#3A7FD5");
    public static readonly Color Muted = Color.FromHex("#8A8F98");

    private static readonly Color Foreground = Color.FromHex(SvgEmbedding.ForegroundSentinel);
    private int _charts;

    /// <summary>Each model's pass rate with its Wilson interval, coloured by verdict, against the bar.</summary>
    public string PassRates(FixedSuiteReport suite)
    {
        var rows = suite.Rows.Where(r => r.Verdict.PassRate is not null).ToList();
        var plot = NewPlot();
        var xs = Enumerable.Range(0, rows.Count).Select(i => (double)i).ToArray();
        var rates = rows.Select(r => r.Verdict.PassRate!).ToList();
        var errors = new ScottPlot.Plottables.ErrorBar(
            xs,
            [.. rates.Select(r => r.Rate)],
            null,
            null,
            [.. rates.Select(r => r.Rate - r.Interval.Lower)],
            [.. rates.Select(r => r.Interval.Upper - r.Rate)])
        {
            Color = Foreground,
            LineWidth = 1.5f,
            CapSize = 8,
        };
        plot.Add.Plottable(errors);
        foreach (var kind in Enum.GetValues<VerdictKind>())
        {
            var of = Enumerable.Range(0, rows.Count).Where(i => rows[i].Verdict.Kind == kind).ToArray();
            if (of.Length == 0)
            {
                continue;
            }

            var markers = plot.Add.Markers(
                of.Select(i => xs[i]).ToArray(), of.Select(i => rates[i].Rate).ToArray(), MarkerShape.FilledCircle, 11, VerdictColor(kind));
            markers.LegendText = ReportText.Name(kind);
        }

        var bar = plot.Add.HorizontalLine(suite.Requirement.MinPassRate, 1.5f, Foreground, LinePattern.Dashed);
        bar.LegendText = "bar " + ReportText.Percent(suite.Requirement.MinPassRate);
        plot.Axes.Bottom.SetTicks(xs, [.. rows.Select(r => Short(r.ModelId))]);
        RotateLabelsWhenCrowded(plot, rows.Select(r => Short(r.ModelId)));
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => ReportText.Percent(v, "0") };
        plot.YLabel("pass rate");
        plot.Axes.SetLimitsY(0, 1.05);
        plot.Axes.SetLimitsX(-0.6, Math.Max(rows.Count, 1) - 0.4);
        ShowLegend(plot, Alignment.LowerLeft);
        return Render(plot, 760, 320, $"Pass rate per model on {suite.Suite} with its confidence interval, against the bar {ReportText.Percent(suite.Requirement.MinPassRate)}.");
    }

    /// <summary>
    /// Quality against cost for one suite; Pareto-front points drawn larger and joined. Null when fewer than one point
    /// has the chosen cost.
    /// </summary>
    public string? CostQuality(string suite, IReadOnlyList<CostQualityPoint> points, bool fixedSuite)
    {
        // J/item when every point has it: mixing the energy axis with latency for some models would mislead.
        var byEnergy = points.Count > 0 && points.All(p => p.JoulesPerItem is not null);
        var estimated = byEnergy && points.Any(p => p.EnergyEstimated);
        double? Cost(CostQualityPoint p) => byEnergy ? p.JoulesPerItem : p.P95Latency?.TotalMilliseconds;
        var placed = points.Where(p => Cost(p) is not null).ToList();
        if (placed.Count == 0)
        {
            return null;
        }

        var plot = NewPlot();
        var front = placed.Where(p => p.OnParetoFront).OrderBy(p => Cost(p)).ToList();
        var rest = placed.Where(p => !p.OnParetoFront).ToList();
        if (rest.Count > 0)
        {
            var others = plot.Add.Markers(rest.Select(p => Cost(p)!.Value).ToArray(), rest.Select(p => p.Quality).ToArray(), MarkerShape.OpenCircle, 9, Muted);
            others.MarkerLineWidth = 1.5f;
            others.LegendText = "dominated";
        }

        if (front.Count > 0)
        {
            var line = plot.Add.Scatter(front.Select(p => Cost(p)!.Value).ToArray(), front.Select(p => p.Quality).ToArray(), Series);
            line.LineWidth = 2;
            line.MarkerSize = 12;
            line.MarkerShape = MarkerShape.FilledDiamond;
            line.LegendText = "Pareto front";
        }

        foreach (var point in placed)
        {
            var label = plot.Add.Text(Short(point.ModelId), Cost(point)!.Value, point.Quality);
            label.LabelFontColor = Foreground;
            label.LabelFontSize = 11;
            label.LabelAlignment = Alignment.LowerLeft;
            label.OffsetX = 6;
            label.OffsetY = -4;
        }

        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => ReportText.Sig(v) };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => fixedSuite ? ReportText.Percent(v, "0") : v.ToString("0.00", CultureInfo.InvariantCulture),
        };
        plot.XLabel(byEnergy ? (estimated ? "≈ J/item (estimated from CPU time)" : "J/item (measured)") : "p95 latency (ms)");
        plot.YLabel(fixedSuite ? "pass rate" : "mean score");
        var maxCost = placed.Max(p => Cost(p)!.Value);
        plot.Axes.SetLimitsX(0, maxCost <= 0 ? 1 : maxCost * 1.3);
        plot.Axes.SetLimitsY(0, 1.08);
        ShowLegend(plot, Alignment.LowerRight);
        return Render(plot, 760, 340, $"Quality against {(byEnergy ? "joules per item" : "p95 latency")} on {suite}; the Pareto front is joined.");
    }

    /// <summary>A quantization ladder: pass rate with its interval against file size, and the bar.</summary>
    public string Ladder(QuantizationLadder ladder)
    {
        var rungs = ladder.Rungs.Where(r => r.PassRate is not null).OrderBy(r => r.FileSizeBytes).ToList();
        var plot = NewPlot();
        var xs = rungs.Select(r => r.FileSizeBytes / (1024.0 * 1024.0)).ToArray();
        var ys = rungs.Select(r => r.PassRate!.Value).ToArray();
        var line = plot.Add.Scatter(xs, ys, Muted);
        line.LineWidth = 1.5f;
        line.MarkerSize = 0;
        var errors = new ScottPlot.Plottables.ErrorBar(
            xs,
            ys,
            null,
            null,
            [.. rungs.Select(r => r.PassRateInterval is { } i ? r.PassRate!.Value - i.Lower : 0)],
            [.. rungs.Select(r => r.PassRateInterval is { } i ? i.Upper - r.PassRate!.Value : 0)])
        {
            Color = Foreground,
            LineWidth = 1.5f,
            CapSize = 8,
        };
        plot.Add.Plottable(errors);
        for (var i = 0; i < rungs.Count; i++)
        {
            plot.Add.Markers(new[] { xs[i] }, new[] { ys[i] }, MarkerShape.FilledCircle, 11, VerdictColor(rungs[i].Verdict));
            var label = plot.Add.Text(Short(rungs[i].ModelId), xs[i], ys[i]);
            label.LabelFontColor = Foreground;
            label.LabelFontSize = 11;
            label.LabelAlignment = Alignment.UpperLeft;
            label.OffsetX = 8;
            label.OffsetY = 4;
        }

        var bar = plot.Add.HorizontalLine(ladder.Requirement.MinPassRate, 1.5f, Foreground, LinePattern.Dashed);
        bar.LegendText = "bar " + ReportText.Percent(ladder.Requirement.MinPassRate);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => ReportText.Sig(v) };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => ReportText.Percent(v, "0") };
        plot.XLabel("file size (MiB)");
        plot.YLabel("pass rate");
        plot.Axes.SetLimitsY(0, 1.05);
        var maxSize = xs.Length == 0 ? 1 : xs.Max();
        plot.Axes.SetLimitsX(0, maxSize * 1.35);
        ShowLegend(plot, Alignment.LowerRight);
        return Render(plot, 760, 320, $"Pass rate against file size for the quantization ladder on {ladder.Suite}.");
    }

    public static Color VerdictColor(VerdictKind kind) => kind switch
    {
        VerdictKind.Sufficient => Sufficient,
        VerdictKind.Insufficient => Insufficient,
        _ => Undecided,
    };

    // A long id would squeeze the plot or run off the chart; the tables beside every chart carry the full id.
    private static string Short(string modelId) => modelId.Length <= 28 ? modelId : modelId[..27] + "…";

    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set("DejaVu Sans");
        plot.FigureBackground.Color = Colors.Transparent;
        plot.DataBackground.Color = Colors.Transparent;
        plot.Axes.Color(Foreground);
        plot.Grid.MajorLineColor = Foreground.WithAlpha(0.12);
        return plot;
    }

    private static void ShowLegend(Plot plot, Alignment alignment)
    {
        plot.Legend.BackgroundColor = Colors.Transparent;
        plot.Legend.ShadowColor = Colors.Transparent;
        plot.Legend.OutlineColor = Foreground.WithAlpha(0.3);
        plot.Legend.FontColor = Foreground;
        plot.Legend.Alignment = alignment;
        plot.ShowLegend();
    }

    private static void RotateLabelsWhenCrowded(Plot plot, IEnumerable<string> labels)
    {
        var list = labels.ToList();
        if (list.Count * Math.Max(8, (list.Count == 0 ? 0 : list.Max(l => l.Length))) * 7 > 700)
        {
            plot.Axes.Bottom.TickLabelStyle.Rotation = -30;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleRight;
            plot.Axes.Bottom.MinimumSize = Math.Min(160, 12 + (5.5f * list.Max(l => l.Length)));
        }
    }

    private string Render(Plot plot, int width, int height, string description)
    {
        _charts++;
        return SvgEmbedding.Inline(plot.GetSvgXml(width, height), string.Create(CultureInfo.InvariantCulture, $"chart{_charts}"), description);
    }
}
