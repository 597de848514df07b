using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Comparison;
using Harness.Core.Reports;
using Harness.Core.Verdicts;
using ScottPlot;

namespace Harness.Reports.Html;

/// <summary>A cost-quality chart and what its caption has to say about it.</summary>
/// <param name="FrontOnPlot">The models on the Pareto front of the two plotted axes, cheapest first.</param>
/// <param name="Unlabelled">Models drawn without a label because no free place was left beside their point.</param>
/// <param name="ByEnergy">The x axis is J/item (otherwise p95 latency).</param>
internal sealed record CostQualityChart(string Svg, ImmutableArray<string> FrontOnPlot, ImmutableArray<string> Unlabelled, bool ByEnergy);

/// <summary>A ladder chart and the models drawn without a label (no free place beside their point).</summary>
internal sealed record LadderChart(string Svg, ImmutableArray<string> Unlabelled);

/// <summary>
/// The report's charts, drawn by ScottPlot and returned as inline SVG. Backgrounds are transparent and the frame, ticks
/// and labels take the page's text colour (see <see cref="SvgEmbedding.ForegroundSentinel"/>); series colours are
/// mid-tones that read on white and on near-black. Every chart has a title, its legend outside the data area, axis
/// limits with room beyond every point and whisker, and point labels placed by <see cref="LabelLayout"/> so that none
/// overlaps another.
/// </summary>
internal sealed class ReportCharts
{
    public static readonly Color Sufficient = Color.FromHex("#1E9E58");
    public static readonly Color Insufficient = Color.FromHex("#E0453A");
    public static readonly Color Undecided = Color.FromHex("#D99A0E");
    public static readonly Color Series = Color.FromHex("#3A7FD5");
    public static readonly Color Muted = Color.FromHex("#8A8F98");

    /// <summary>The font of every chart; label sizes are measured in it.</summary>
    public const string FontName = "DejaVu Sans";

    private const float LabelFontSize = 11;
    private const float MarkerSize = 11;
    private const int Width = 760;

    private static readonly Color Foreground = Color.FromHex(SvgEmbedding.ForegroundSentinel);
    private int _charts;

    /// <summary>
    /// Each model's pass rate with its Wilson interval, coloured by verdict, against the bar. One row per model, ids
    /// on the y axis: horizontal text never collides however many models there are.
    /// </summary>
    public string PassRates(FixedSuiteReport suite)
    {
        ArgumentNullException.ThrowIfNull(suite);
        var rows = suite.Rows.Where(r => r.Verdict.PassRate is not null).ToList();
        var plot = NewPlot();
        // Top to bottom in the table's order.
        var ys = Enumerable.Range(0, rows.Count).Select(i => (double)(rows.Count - 1 - i)).ToArray();
        var rates = rows.Select(r => r.Verdict.PassRate!).ToList();
        var errors = Whiskers(
            [.. rates.Select(r => r.Rate)], ys, [.. rates.Select(r => r.Rate - r.Interval.Lower)], [.. rates.Select(r => r.Interval.Upper - r.Rate)], horizontal: true);
        plot.Add.Plottable(errors);
        foreach (var kind in Enum.GetValues<VerdictKind>())
        {
            var of = Enumerable.Range(0, rows.Count).Where(i => rows[i].Verdict.Kind == kind).ToArray();
            if (of.Length == 0)
            {
                continue;
            }

            var markers = plot.Add.Markers(of.Select(i => rates[i].Rate).ToArray(), of.Select(i => ys[i]).ToArray(), MarkerShape.FilledCircle, MarkerSize, VerdictColor(kind));
            markers.LegendText = ReportText.Name(kind);
        }

        var bar = plot.Add.VerticalLine(suite.Requirement.MinPassRate, 1.5f, Foreground, LinePattern.Dashed);
        bar.LegendText = "bar " + ReportText.Percent(suite.Requirement.MinPassRate);
        plot.Axes.Left.SetTicks(ys, [.. rows.Select(r => Short(r.ModelId))]);
        plot.Axes.Left.MajorTickStyle.Length = 0;
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => ReportText.Percent(v, "0") };
        plot.XLabel("pass rate");
        // Room beyond 0 % and 100 % so a dot at 0 and a whisker cap at 100 % stay clear of the frame.
        plot.Axes.SetLimitsX(-RateMargin, 1 + RateMargin);
        plot.Axes.SetLimitsY(-0.7, Math.Max(rows.Count, 1) - 0.3);
        plot.Title($"Pass rate on {suite.Suite}");
        ShowLegend(plot);
        var height = 110 + (30 * Math.Max(rows.Count, 2));
        return Render(plot, Width, height, $"Pass rate per model on {suite.Suite} with its confidence interval, against the bar {ReportText.Percent(suite.Requirement.MinPassRate)}.");
    }

    /// <summary>How far a pass-rate axis runs beyond [0, 1].</summary>
    public const double RateMargin = 0.05;

    /// <summary>
    /// Quality against cost for one suite. The Pareto front drawn is the front of the two plotted axes (the analysis's
    /// front also counts p95 latency and peak memory; the caption names what else it considered). Null when no point
    /// has the chosen cost.
    /// </summary>
    /// <param name="bar">The fixed suite's bar, drawn as a dashed line; null for an open suite.</param>
    /// <param name="recommended">The model the Answer names for this suite, ringed and labelled first.</param>
    public CostQualityChart? CostQuality(string suite, IReadOnlyList<CostQualityPoint> points, double? bar, string? recommended)
    {
        ArgumentNullException.ThrowIfNull(points);
        var fixedSuite = bar is not null;
        // J/item when every point has it: mixing the energy axis with latency for some models would mislead.
        var byEnergy = points.Count > 0 && points.All(p => p.JoulesPerItem is not null);
        var estimated = byEnergy && points.Any(p => p.EnergyEstimated);
        double? Cost(CostQualityPoint p) => byEnergy ? p.JoulesPerItem : p.P95Latency?.TotalMilliseconds;
        var placed = points.Where(p => Cost(p) is not null).Select(p => (Point: p, Cost: Cost(p)!.Value)).ToList();
        if (placed.Count == 0)
        {
            return null;
        }

        var front = ParetoFront(placed.Select(p => (p.Point.ModelId, p.Cost, p.Point.Quality)).ToList());
        var onFront = front.ToHashSet(StringComparer.Ordinal);
        var plot = NewPlot();
        var frontPoints = placed.Where(p => onFront.Contains(p.Point.ModelId)).OrderBy(p => p.Cost).ToList();
        var rest = placed.Where(p => !onFront.Contains(p.Point.ModelId)).ToList();
        if (rest.Count > 0)
        {
            var others = plot.Add.Markers(rest.Select(p => p.Cost).ToArray(), rest.Select(p => p.Point.Quality).ToArray(), MarkerShape.OpenCircle, 9, Muted);
            others.MarkerLineWidth = 1.5f;
            others.LegendText = "dominated";
        }

        var line = plot.Add.Scatter(frontPoints.Select(p => p.Cost).ToArray(), frontPoints.Select(p => p.Point.Quality).ToArray(), Series);
        line.LineWidth = 2;
        line.MarkerSize = 12;
        line.MarkerShape = MarkerShape.FilledDiamond;
        line.LegendText = "Pareto front";
        var pick = placed.FirstOrDefault(p => p.Point.ModelId == recommended);
        if (pick.Point is not null)
        {
            var ring = plot.Add.Markers(new[] { pick.Cost }, new[] { pick.Point.Quality }, MarkerShape.OpenCircle, 20, Sufficient);
            ring.MarkerLineWidth = 2.5f;
            ring.LegendText = "recommended";
        }

        if (bar is { } b)
        {
            var barLine = plot.Add.HorizontalLine(b, 1.5f, Foreground, LinePattern.Dashed);
            barLine.LegendText = "bar " + ReportText.Percent(b);
        }

        var (xLow, xHigh) = AxisRange.Around(placed.Select(p => p.Cost), labelRoom: true);
        var (yLow, yHigh) = AxisRange.Around([.. placed.Select(p => p.Point.Quality), .. bar is { } q ? [q] : Array.Empty<double>()], labelRoom: false);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = AxisRange.TickFormat(xLow, xHigh) };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
        {
            LabelFormatter = v => fixedSuite ? ReportText.Percent(v, "0") : v.ToString("0.00", CultureInfo.InvariantCulture),
        };
        plot.XLabel(byEnergy ? (estimated ? "≈ J/item (estimated from CPU time)" : "J/item (measured)") : "p95 latency (ms)");
        plot.YLabel(fixedSuite ? "pass rate" : "mean score");
        plot.Axes.SetLimitsX(xLow, xHigh);
        plot.Axes.SetLimitsY(yLow, yHigh);
        plot.Title($"Quality against {(byEnergy ? "J/item" : "p95 latency")} on {suite}");
        ShowLegend(plot);

        // The recommendation first, then the front cheapest first, then the rest best first.
        var order = placed
            .OrderBy(p => p.Point.ModelId == recommended ? 0 : onFront.Contains(p.Point.ModelId) ? 1 : 2)
            .ThenBy(p => onFront.Contains(p.Point.ModelId) ? p.Cost : -p.Point.Quality)
            .Select(p => (p.Point.ModelId, p.Cost, p.Point.Quality))
            .ToList();
        var unlabelled = AddLabels(plot, order, Width, Height, bar, []);
        var description = $"Quality against {(byEnergy ? "joules per item" : "p95 latency")} on {suite}; the Pareto front of these two axes is joined"
            + (bar is { } d ? $"; dashed: the bar {ReportText.Percent(d)}" : "") + ".";
        return new CostQualityChart(Render(plot, Width, Height, description), front, unlabelled, byEnergy);
    }

    private const int Height = 420;
    private const int LadderHeight = 380;

    /// <summary>A quantization ladder: pass rate with its interval against file size, in a unit chosen from the sizes, and the bar.</summary>
    public LadderChart Ladder(QuantizationLadder ladder)
    {
        ArgumentNullException.ThrowIfNull(ladder);
        var rungs = ladder.Rungs.Where(r => r.PassRate is not null).OrderBy(r => r.FileSizeBytes).ToList();
        var plot = NewPlot();
        var unit = SizeUnit.For(rungs.Count == 0 ? 0 : rungs.Max(r => r.FileSizeBytes));
        var xs = rungs.Select(r => r.FileSizeBytes / unit.Bytes).ToArray();
        var ys = rungs.Select(r => r.PassRate!.Value).ToArray();
        var line = plot.Add.Scatter(xs, ys, Muted);
        line.LineWidth = 1.5f;
        line.MarkerSize = 0;
        var below = rungs.Select(r => r.PassRateInterval is { } i ? r.PassRate!.Value - i.Lower : 0).ToArray();
        var above = rungs.Select(r => r.PassRateInterval is { } i ? i.Upper - r.PassRate!.Value : 0).ToArray();
        var errors = Whiskers(xs, ys, below, above, horizontal: false);
        plot.Add.Plottable(errors);
        foreach (var kind in Enum.GetValues<VerdictKind>())
        {
            var of = Enumerable.Range(0, rungs.Count).Where(i => rungs[i].Verdict == kind).ToArray();
            if (of.Length > 0)
            {
                var markers = plot.Add.Markers(of.Select(i => xs[i]).ToArray(), of.Select(i => ys[i]).ToArray(), MarkerShape.FilledCircle, MarkerSize, VerdictColor(kind));
                markers.LegendText = ReportText.Name(kind);
            }
        }

        var bar = plot.Add.HorizontalLine(ladder.Requirement.MinPassRate, 1.5f, Foreground, LinePattern.Dashed);
        bar.LegendText = "bar " + ReportText.Percent(ladder.Requirement.MinPassRate);
        var (xLow, xHigh) = AxisRange.Around(xs, labelRoom: true);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = AxisRange.TickFormat(xLow, xHigh) };
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = v => ReportText.Percent(v, "0") };
        plot.XLabel($"file size ({unit.Name})");
        plot.YLabel("pass rate");
        var lows = rungs.Select(r => r.PassRateInterval?.Lower ?? r.PassRate!.Value);
        var highs = rungs.Select(r => r.PassRateInterval?.Upper ?? r.PassRate!.Value);
        var (yLow, yHigh) = AxisRange.Around([.. lows, .. highs, ladder.Requirement.MinPassRate], labelRoom: false);
        plot.Axes.SetLimitsX(xLow, xHigh);
        plot.Axes.SetLimitsY(yLow, yHigh);
        plot.Title($"Quantization ladder on {ladder.Suite}");
        ShowLegend(plot);
        var whiskers = rungs.Select((r, i) => (X: xs[i], Low: ys[i] - below[i], High: ys[i] + above[i])).ToList();
        var unlabelled = AddLabels(plot, [.. rungs.Select((r, i) => (r.ModelId, xs[i], ys[i]))], Width, LadderHeight, ladder.Requirement.MinPassRate, whiskers);
        return new LadderChart(
            Render(plot, Width, LadderHeight, $"Pass rate against file size for the quantization ladder on {ladder.Suite}, against the bar {ReportText.Percent(ladder.Requirement.MinPassRate)}."),
            unlabelled);
    }

    public static Color VerdictColor(VerdictKind kind) => kind switch
    {
        VerdictKind.Sufficient => Sufficient,
        VerdictKind.Insufficient => Insufficient,
        _ => Undecided,
    };

    /// <summary>
    /// The Pareto front of points on two axes: lower cost and higher quality are better; a point is on it when no other
    /// point is at least as good on both and better on one. Cheapest first.
    /// </summary>
    public static ImmutableArray<string> ParetoFront(IReadOnlyList<(string ModelId, double Cost, double Quality)> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        return [.. points
            .Where(p => !points.Any(q => q.Cost <= p.Cost && q.Quality >= p.Quality && (q.Cost < p.Cost || q.Quality > p.Quality)))
            .OrderBy(p => p.Cost)
            .ThenBy(p => p.ModelId, StringComparer.Ordinal)
            .Select(p => p.ModelId)];
    }

    /// <summary>
    /// Interval whiskers. The properties are set by name: the constructor's argument order is easy to misread, and an
    /// interval drawn upside down (the short side where the long one belongs) looks plausible.
    /// </summary>
    private static ScottPlot.Plottables.ErrorBar Whiskers(double[] xs, double[] ys, double[] below, double[] above, bool horizontal)
    {
        var bars = new ScottPlot.Plottables.ErrorBar(xs, ys, null, null, null, null)
        {
            Color = Foreground,
            LineWidth = 1.5f,
            CapSize = WhiskerCap,
        };
        if (horizontal)
        {
            bars.XErrorNegative = below;
            bars.XErrorPositive = above;
        }
        else
        {
            bars.YErrorNegative = below;
            bars.YErrorPositive = above;
        }

        return bars;
    }

    private const float WhiskerCap = 8;

    // A long id would squeeze the plot or run off the chart; the tables beside every chart carry the full id.
    private static string Short(string modelId) => modelId.Length <= 32 ? modelId : modelId[..31] + "…";

    /// <summary>
    /// Lays the plot out once to learn where its points fall in pixels, places the labels there, and adds those that
    /// fit. Returns the ids left without a label.
    /// </summary>
    /// <param name="bar">A horizontal line no label may cover (the bar), in data units.</param>
    /// <param name="whiskers">Vertical interval whiskers no label may cover, in data units.</param>
    private static ImmutableArray<string> AddLabels(
        Plot plot, IReadOnlyList<(string ModelId, double X, double Y)> points, int width, int height, double? bar,
        IReadOnlyList<(double X, double Low, double High)> whiskers)
    {
        _ = plot.GetSvgXml(width, height);
        var data = plot.RenderManager.LastRender.DataRect;
        var area = new PixelBox(data.Left, data.Top, data.Width, data.Height);
        var pixels = points.Select(p => plot.GetPixel(new Coordinates(p.X, p.Y))).ToList();
        var requests = points.Select((p, i) =>
        {
            var (w, h) = Measure(Short(p.ModelId), LabelFontSize);
            return new LabelRequest(p.ModelId, pixels[i].X, pixels[i].Y, w, h);
        }).ToList();
        List<PixelBox> keepClear = [];
        if (bar is { } b)
        {
            var y = plot.GetPixel(new Coordinates(0, b)).Y;
            keepClear.Add(new PixelBox(area.Left, y - 1, area.Width, 2));
        }

        foreach (var (x, low, high) in whiskers)
        {
            var top = plot.GetPixel(new Coordinates(x, high));
            var bottom = plot.GetPixel(new Coordinates(x, low));
            keepClear.Add(new PixelBox(top.X - (WhiskerCap / 2.0), top.Y - 1, WhiskerCap, bottom.Y - top.Y + 2));
        }

        var placements = LabelLayout.Place(requests, [.. pixels.Select(p => ((double)p.X, (double)p.Y))], MarkerSize / 2.0 + 2, area, keepClear);
        var unlabelled = ImmutableArray.CreateBuilder<string>();
        for (var i = 0; i < placements.Length; i++)
        {
            if (placements[i].Box is not { } box)
            {
                unlabelled.Add(points[i].ModelId);
                continue;
            }

            if (placements[i].NeedsLeader)
            {
                var (x, y) = LabelLayout.NearestEdge(box, pixels[i].X, pixels[i].Y);
                var end = plot.GetCoordinates(new Pixel((float)x, (float)y));
                var leader = plot.Add.Line(points[i].X, points[i].Y, end.X, end.Y);
                leader.LineColor = Foreground.WithAlpha(0.5);
                leader.LineWidth = 1;
            }

            var label = plot.Add.Text(Short(points[i].ModelId), points[i].X, points[i].Y);
            label.LabelFontColor = Foreground;
            label.LabelFontSize = LabelFontSize;
            label.LabelFontName = FontName;
            label.LabelAlignment = Alignment.UpperLeft;
            label.OffsetX = (float)(box.Left - pixels[i].X);
            label.OffsetY = (float)(box.Top - pixels[i].Y);
        }

        return unlabelled.ToImmutable();
    }

    private static (double Width, double Height) Measure(string text, float size)
    {
        var style = new LabelStyle { Text = text, FontSize = size, FontName = FontName };
        using var paint = Paint.NewDisposablePaint();
        var measured = style.Measure(paint);
        return (measured.Width, measured.Height);
    }

    private static Plot NewPlot()
    {
        var plot = new Plot();
        plot.Font.Set(FontName);
        plot.FigureBackground.Color = Colors.Transparent;
        plot.DataBackground.Color = Colors.Transparent;
        plot.Axes.Color(Foreground);
        plot.Axes.Title.Label.FontSize = 15;
        plot.Grid.MajorLineColor = Foreground.WithAlpha(0.12);
        return plot;
    }

    // Beside the data, never over it: a legend inside the frame hides the points it explains.
    private static void ShowLegend(Plot plot)
    {
        plot.Legend.BackgroundColor = Colors.Transparent;
        plot.Legend.ShadowColor = Colors.Transparent;
        plot.Legend.OutlineColor = Foreground.WithAlpha(0.3);
        plot.Legend.FontColor = Foreground;
        plot.Legend.FontName = FontName;
        plot.Legend.FontSize = 12;
        plot.Legend.Orientation = Orientation.Horizontal;
        plot.ShowLegend(Edge.Bottom);
    }

    private string Render(Plot plot, int width, int height, string description)
    {
        _charts++;
        return SvgEmbedding.Inline(plot.GetSvgXml(width, height), string.Create(CultureInfo.InvariantCulture, $"chart{_charts}"), description);
    }
}

/// <summary>Axis limits chosen from the data: every point and whisker inside, with room beyond them.</summary>
internal static class AxisRange
{
    /// <summary>The fraction of the span added beyond the data on each side.</summary>
    public const double Margin = 0.08;

    /// <param name="labelRoom">Leave extra room on the right for labels beside the last points.</param>
    public static (double Low, double High) Around(IEnumerable<double> values, bool labelRoom)
    {
        var list = values.Where(double.IsFinite).ToList();
        if (list.Count == 0)
        {
            return (0, 1);
        }

        var (low, high) = (list.Min(), list.Max());
        // A single value, or many nearly equal ones, still get a readable span around them.
        var span = Math.Max(high - low, Math.Max(Math.Abs(high), 1e-9) * 0.1);
        return (low - (span * Margin), high + (span * (labelRoom ? Margin * 3 : Margin)));
    }

    /// <summary>
    /// One format for every tick of an axis, with as many decimals as its tick step needs (about a fifth of the span):
    /// 40, 50, 60 rather than 40.0, 50.0, 100; 0.0120, 0.0122 rather than 0.012, 0.0122.
    /// </summary>
    public static Func<double, string> TickFormat(double low, double high)
    {
        var step = (high - low) / 5;
        var decimals = step > 0 && double.IsFinite(step) ? Math.Clamp(-(int)Math.Floor(Math.Log10(step)), 0, 9) : 2;
        var format = "F" + decimals.ToString(CultureInfo.InvariantCulture);
        return v => v.ToString(format, CultureInfo.InvariantCulture);
    }
}

/// <summary>A unit for file sizes, chosen so the largest size reads as 1 to 1023 of it.</summary>
internal sealed record SizeUnit(string Name, double Bytes)
{
    public static SizeUnit For(long largestBytes) => largestBytes switch
    {
        >= 1L << 30 => new SizeUnit("GiB", 1L << 30),
        >= 1L << 20 => new SizeUnit("MiB", 1L << 20),
        >= 1L << 10 => new SizeUnit("KiB", 1L << 10),
        _ => new SizeUnit("B", 1),
    };
}
