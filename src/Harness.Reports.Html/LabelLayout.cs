using System.Collections.Immutable;

namespace Harness.Reports.Html;

/// <summary>A rectangle in pixels, y down.</summary>
internal readonly record struct PixelBox(double Left, double Top, double Width, double Height)
{
    public double Right => Left + Width;

    public double Bottom => Top + Height;

    public bool Overlaps(PixelBox other) =>
        Left < other.Right && other.Left < Right && Top < other.Bottom && other.Top < Bottom;

    public bool Inside(PixelBox outer) =>
        Left >= outer.Left && Top >= outer.Top && Right <= outer.Right && Bottom <= outer.Bottom;

    public PixelBox Grow(double by) => new(Left - by, Top - by, Width + (2 * by), Height + (2 * by));
}

/// <summary>A label to place beside its point: <see cref="X"/>, <see cref="Y"/> is the point's pixel centre.</summary>
internal sealed record LabelRequest(string Text, double X, double Y, double Width, double Height);

/// <summary>Where a label went: its box, or null when no candidate position was free.</summary>
/// <param name="NeedsLeader">The box is far enough from its point that a line should join them.</param>
internal sealed record LabelPlacement(LabelRequest Request, PixelBox? Box, bool NeedsLeader);

/// <summary>
/// Places point labels so that none overlaps another label, a marker or the edge of the data area. ScottPlot draws
/// a label where it is told, overlaps included, so the layout is ours: labels are taken in the caller's order
/// (most important first), each tries a fixed ring of positions around its point, nearest first, and takes the first
/// that is free. A label with no free position is left out and reported, so the caller can list it beside the chart
/// instead of drawing it over another.
/// </summary>
internal static class LabelLayout
{
    /// <summary>Space kept between a label and anything else, in pixels.</summary>
    public const double Gap = 3;

    /// <param name="keepClear">Other things no label may cover, such as the bar's line.</param>
    public static ImmutableArray<LabelPlacement> Place(
        IReadOnlyList<LabelRequest> labels, IReadOnlyList<(double X, double Y)> markers, double markerRadius, PixelBox area,
        IReadOnlyList<PixelBox> keepClear)
    {
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(markers);
        ArgumentNullException.ThrowIfNull(keepClear);
        var obstacles = markers.Select(m => new PixelBox(m.X - markerRadius, m.Y - markerRadius, 2 * markerRadius, 2 * markerRadius)).ToList();
        obstacles.AddRange(keepClear);
        var placed = new List<PixelBox>();
        var leaders = new List<(double X1, double Y1, double X2, double Y2)>();
        var result = ImmutableArray.CreateBuilder<LabelPlacement>(labels.Count);
        foreach (var label in labels)
        {
            PixelBox? chosen = null;
            var far = false;
            foreach (var (box, ring) in Candidates(label, markerRadius))
            {
                var padded = box.Grow(Gap);
                if (!box.Inside(area) || placed.Any(p => p.Overlaps(padded)) || obstacles.Any(o => o.Overlaps(padded))
                    || leaders.Any(l => Crosses(l, padded)))
                {
                    continue;
                }

                // A leader line may not run through another label either: it would seem to point at that one.
                var needsLeader = ring >= LeaderFromRing;
                var (ex, ey) = NearestEdge(box, label.X, label.Y);
                if (needsLeader && placed.Any(p => Crosses((label.X, label.Y, ex, ey), p.Grow(1))))
                {
                    continue;
                }

                chosen = box;
                far = needsLeader;
                if (needsLeader)
                {
                    leaders.Add((label.X, label.Y, ex, ey));
                }

                break;
            }

            if (chosen is { } c)
            {
                placed.Add(c);
            }

            result.Add(new LabelPlacement(label, chosen, far));
        }

        return result.MoveToImmutable();
    }

    /// <summary>The nearest point of <paramref name="box"/> to (<paramref name="x"/>, <paramref name="y"/>): where a leader line ends.</summary>
    public static (double X, double Y) NearestEdge(PixelBox box, double x, double y) =>
        (Math.Clamp(x, box.Left, box.Right), Math.Clamp(y, box.Top, box.Bottom));

    // Sampled every pixel: exact enough for boxes that are padded by more than that.
    private static bool Crosses((double X1, double Y1, double X2, double Y2) segment, PixelBox box)
    {
        var length = Math.Max(Math.Abs(segment.X2 - segment.X1), Math.Abs(segment.Y2 - segment.Y1));
        var steps = Math.Max(1, (int)Math.Ceiling(length));
        for (var i = 0; i <= steps; i++)
        {
            var t = (double)i / steps;
            var (x, y) = (segment.X1 + ((segment.X2 - segment.X1) * t), segment.Y1 + ((segment.Y2 - segment.Y1) * t));
            if (x > box.Left && x < box.Right && y > box.Top && y < box.Bottom)
            {
                return true;
            }
        }

        return false;
    }

    // Rings from the third on are far from the point: a leader line says whose label it is.
    private const int LeaderFromRing = 2;

    // Right, left, above, below and the four diagonals, nearest ring first: close reads as belonging to the point.
    private static IEnumerable<(PixelBox Box, int Ring)> Candidates(LabelRequest label, double markerRadius)
    {
        var rings = (double[])[markerRadius + Gap + 1, markerRadius + Gap + 10, markerRadius + Gap + 28, markerRadius + Gap + 50, markerRadius + Gap + 80];
        for (var ring = 0; ring < rings.Length; ring++)
        {
            var distance = rings[ring];
            var (w, h, x, y) = (label.Width, label.Height, label.X, label.Y);
            yield return (new PixelBox(x + distance, y - (h / 2), w, h), ring);
            yield return (new PixelBox(x - distance - w, y - (h / 2), w, h), ring);
            yield return (new PixelBox(x + distance * 0.7, y - distance * 0.7 - h, w, h), ring);
            yield return (new PixelBox(x + distance * 0.7, y + distance * 0.7, w, h), ring);
            yield return (new PixelBox(x - (w / 2), y - distance - h, w, h), ring);
            yield return (new PixelBox(x - (w / 2), y + distance, w, h), ring);
            yield return (new PixelBox(x - distance * 0.7 - w, y - distance * 0.7 - h, w, h), ring);
            yield return (new PixelBox(x - distance * 0.7 - w, y + distance * 0.7, w, h), ring);
        }
    }
}
