using System.Globalization;
using System.Text.RegularExpressions;
using System.Xml.Linq;
using Harness.Reports.Html;

namespace Harness.Tests.Reports;

/// <summary>
/// The charts' geometry without a browser: labels never overlap, the front is the front of what is drawn, the bar is
/// drawn, every chart has a title and its legend outside the data area, axes fit the data. The browser test
/// (Harness.IntegrationTests) checks the same on the rendered page.
/// </summary>
public partial class ReportChartsTests
{
    [Fact]
    public void Labels_never_overlap_each_other_markers_or_the_frame()
    {
        var area = new PixelBox(50, 20, 600, 300);
        // Twelve points almost on top of each other: most labels cannot be placed, none may overlap.
        var markers = Enumerable.Range(0, 12).Select(i => (X: 300.0 + i * 3, Y: 150.0 + i * 2)).ToList();
        var labels = markers.Select((m, i) => new LabelRequest($"model-{i}", m.X, m.Y, 260, 14)).ToList();

        var placed = LabelLayout.Place(labels, markers, 7, area, [new PixelBox(area.Left, 100, area.Width, 2)]);

        var boxes = placed.Where(p => p.Box is not null).Select(p => p.Box!.Value).ToList();
        Assert.InRange(boxes.Count, 4, 11);
        Assert.Contains(placed, p => p.Box is null);
        Assert.All(boxes, b => Assert.True(b.Inside(area), $"{b} outside {area}"));
        for (var i = 0; i < boxes.Count; i++)
        {
            Assert.All(markers, m => Assert.False(boxes[i].Overlaps(new PixelBox(m.X - 7, m.Y - 7, 14, 14)), $"{boxes[i]} covers marker {m}"));
            for (var j = i + 1; j < boxes.Count; j++)
            {
                Assert.False(boxes[i].Overlaps(boxes[j]), $"{boxes[i]} overlaps {boxes[j]}");
            }
        }

        // The first (most important) label always gets the first free place.
        Assert.NotNull(placed[0].Box);
    }

    [Fact]
    public void Pareto_front_is_computed_on_the_two_plotted_axes()
    {
        // b is dominated on (cost, quality) by a; on a third axis it might not be, but the chart shows two.
        var front = ReportCharts.ParetoFront([("a", 1.0, 0.9), ("b", 1.5, 0.85), ("c", 2.0, 0.95), ("d", 0.5, 0.5), ("e", 2.0, 0.95)]);

        Assert.Equal(["d", "a", "c", "e"], front.ToArray());
    }

    [Fact]
    public void Axis_range_holds_every_value_with_room_and_spreads_nearly_equal_ones()
    {
        var (low, high) = AxisRange.Around([0.0, 1.0], labelRoom: false);
        Assert.True(low < 0 && high > 1);

        var (l2, h2) = AxisRange.Around([0.0120, 0.0121, 0.0131], labelRoom: true);
        Assert.InRange(l2, 0.0110, 0.0120);
        Assert.InRange(h2, 0.0131, 0.0145);
    }

    [Fact]
    public void Tick_labels_of_one_axis_share_one_precision()
    {
        var sizes = AxisRange.TickFormat(35, 178);
        Assert.Equal(["40", "50", "100"], (string[])[sizes(40), sizes(50), sizes(100)]);

        var joules = AxisRange.TickFormat(0.0119, 0.0135);
        Assert.Equal(["0.0120", "0.0122", "0.0130"], (string[])[joules(0.012), joules(0.0122), joules(0.013)]);
    }

    [Theory]
    [InlineData(900L, "B")]
    [InlineData(45_056L, "KiB")]
    [InlineData(155_648L, "KiB")]
    [InlineData(400_000_000L, "MiB")]
    [InlineData(4_500_000_000L, "GiB")]
    public void File_size_unit_is_chosen_from_the_largest_file(long bytes, string unit) =>
        Assert.Equal(unit, SizeUnit.For(bytes).Name);

    [Fact]
    public void Every_chart_of_a_crowded_report_has_a_title_the_bar_and_no_overlapping_labels()
    {
        var html = HtmlReportWriter.Render(SampleReports.Crowded());
        WriteForInspection(html);
        var charts = Charts(html);

        // Pass rates, two cost-quality planes and the ladder.
        Assert.Equal(4, charts.Count);
        string[] titles = ["Pass rate on arith", "Quality against J/item on arith", "Quality against J/item on stories", "Quality ladder"];
        foreach (var (svg, i) in charts.Select((c, i) => (c, i)))
        {
            var texts = Texts(svg);
            Assert.Contains(texts, t => t.Text.StartsWith(titles[i] == "Quality ladder" ? "Quantization ladder on arith" : titles[i], StringComparison.Ordinal));
            // Fixed-suite charts draw the bar, dashed across the whole data area, with its legend entry.
            var data = DataArea(svg);
            if (i != 2)
            {
                Assert.Contains(texts, t => t.Text == "bar 90.0%");
                Assert.True(DashedLines(svg).Any(d => d.Span >= 0.9 * (d.Horizontal ? data.Width : data.Height)), $"chart {i}: no bar");
            }

            // No point and no whisker reaches the frame: each stays 2 px inside the data area.
            foreach (var (x, y) in MarkerEdges(svg).Concat(WhiskerEnds(svg)))
            {
                Assert.True(x >= data.Left + 2 && x <= data.Right - 2 && y >= data.Top + 2 && y <= data.Bottom - 2, $"chart {i}: ({x}, {y}) touches the frame {data}");
            }

            // The legend's entries and symbols lie outside the data area, so it hides no point.
            var legend = svg.Descendants("text").Where(t => LegendEntries.Contains(t.Value.Trim())).Select(Origin)
                .Concat(MarkerEdges(svg, inData: false)).ToList();
            Assert.NotEmpty(legend);
            Assert.All(legend, p => Assert.False(p.X > data.Left && p.X < data.Right && p.Y > data.Top && p.Y < data.Bottom, $"chart {i}: legend at {p} inside {data}"));
        }

        // The ladder's KiB-sized files are drawn in KiB.
        Assert.Contains(Texts(charts[3]), t => t.Text == "file size (KiB)");
        // Each label that fits is drawn; those that do not are listed in the caption, not piled on each other.
        Assert.Contains("Not labelled (no free place beside the point):", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Cost_chart_front_and_caption_say_what_else_the_analysis_weighed()
    {
        var html = HtmlReportWriter.Render(SampleReports.Crowded());

        // Model 5 is on the analysis's three-axis front but dominated on the two axes drawn.
        Assert.Contains("The analysis's front also weighs p95 latency and peak memory: it adds qwen2.5-0.5b-instruct-q5_k_m-v2, qwen2.5-0.5b-instruct-q4_k_m-v5", html, StringComparison.Ordinal);
        Assert.Contains("Ring: the Answer's choice, qwen2.5-0.5b-instruct-q3_k_m-v0.", html, StringComparison.Ordinal);
    }

    [Fact]
    public void Whiskers_run_from_the_lower_to_the_upper_bound()
    {
        // 0 of 200 passes: the interval is [0, 1.9 %], so the whisker lies right of the dot, never left of 0.
        var html = HtmlReportWriter.Render(SampleReports.Crowded());
        var passRates = Charts(html)[0];
        var data = DataArea(passRates);
        var leftmostDot = MarkerEdges(passRates).Min(p => p.X) + 5.5;
        var leftmostWhisker = WhiskerEnds(passRates).Min(p => p.X);

        Assert.True(leftmostWhisker >= leftmostDot - 1, $"a whisker reaches {leftmostWhisker}, left of the 0 % dot at {leftmostDot}");
        Assert.True(leftmostDot > data.Left + 10);
    }

    // The clip rectangle ScottPlot draws the data in.
    private static PixelBox DataArea(XElement svg)
    {
        var rect = svg.Descendants("clipPath").First().Element("rect")!;
        double A(string name) => double.Parse(rect.Attribute(name)!.Value, CultureInfo.InvariantCulture);
        return new PixelBox(A("x"), A("y"), A("width"), A("height"));
    }

    // A dashed line is a filled path of many short rectangles in one row (or column).
    private static IEnumerable<(bool Horizontal, double Span)> DashedLines(XElement svg)
    {
        foreach (var path in svg.Descendants("path").Where(p => p.Attribute("fill")?.Value == "currentColor"))
        {
            var points = Points(path.Attribute("d")?.Value ?? "");
            if (Regex.Count(path.Attribute("d")?.Value ?? "", "M") < 8)
            {
                continue;
            }

            var (xs, ys) = (points.Select(p => p.X).ToList(), points.Select(p => p.Y).ToList());
            if (ys.Max() - ys.Min() <= 3)
            {
                yield return (true, xs.Max() - xs.Min());
            }
            else if (xs.Max() - xs.Min() <= 3)
            {
                yield return (false, ys.Max() - ys.Min());
            }
        }
    }

    private static readonly HashSet<string> LegendEntries = ["sufficient", "insufficient", "undecided", "bar 90.0%", "dominated", "Pareto front", "recommended"];

    // ScottPlot places each text with a translate.
    private static (double X, double Y) Origin(XElement text)
    {
        var numbers = Regex.Matches(text.Attribute("transform")?.Value ?? "", @"-?[\d.]+").Select(m => double.Parse(m.Value, CultureInfo.InvariantCulture)).ToList();
        return (numbers[0], numbers[1]);
    }

    // Drawn in the data area: ScottPlot clips what it draws there to the data rectangle (the legend has a clip of its own).
    private static bool Clipped(XElement e)
    {
        var svg = e.Ancestors("svg").First();
        var first = svg.Descendants("clipPath").First().Element("rect")!.ToString();
        var data = svg.Descendants("clipPath").Where(c => c.Element("rect")?.ToString() == first).Select(c => $"url(#{c.Attribute("id")!.Value})").ToHashSet();
        return e.Ancestors().Any(a => a.Attribute("clip-path") is { } clip && data.Contains(clip.Value));
    }

    // The outermost pixels of every round marker in the data area.
    private static IEnumerable<(double X, double Y)> MarkerEdges(XElement svg, bool inData = true)
    {
        foreach (var e in svg.Descendants("ellipse").Where(e => Clipped(e) == inData))
        {
            double A(string name) => double.Parse(e.Attribute(name)!.Value, CultureInfo.InvariantCulture);
            var (cx, cy, r) = (A("cx"), A("cy"), A("rx"));
            yield return (cx - r, cy);
            yield return (cx + r, cy);
            yield return (cx, cy - r);
            yield return (cx, cy + r);
        }
    }

    // Interval whiskers are the only opaque 1.5 px strokes in the page's colour.
    private static IEnumerable<(double X, double Y)> WhiskerEnds(XElement svg) =>
        svg.Descendants("path")
            .Where(p => Clipped(p) && p.Attribute("stroke")?.Value == "currentColor" && p.Attribute("stroke-width")?.Value == "1.5" && p.Attribute("stroke-opacity") is null)
            .SelectMany(p => Points(p.Attribute("d")?.Value ?? ""));

    private static List<(double X, double Y)> Points(string d) =>
        [.. PathPoint().Matches(d).Select(m => (double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), double.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture)))];

    [GeneratedRegex(@"[ML]\s*(-?[\d.]+)[ ,](-?[\d.]+)")]
    private static partial Regex PathPoint();

    private static List<XElement> Charts(string html) =>
        [.. SvgElement().Matches(html).Select(m => XElement.Parse(m.Value))];

    private static List<(string Text, double X, double Y)> Texts(XElement svg) =>
        [.. svg.Descendants("text").Select(t => (t.Value.Trim(), Coordinate(t.Attribute("x")?.Value), Coordinate(t.Attribute("y")?.Value)))];

    private static double Coordinate(string? list) =>
        list is null ? double.NaN : double.Parse(list.Split([',', ' '], StringSplitOptions.RemoveEmptyEntries)[0], CultureInfo.InvariantCulture);

    // A person can open the crowded page after the tests ran: the charts are the point of it.
    private static void WriteForInspection(string html)
    {
        var folder = Path.Combine(Path.GetTempPath(), "harness-report-charts");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "crowded.html"), html);
    }

    [GeneratedRegex("<svg .*?</svg>", RegexOptions.Singleline)]
    private static partial Regex SvgElement();
}
