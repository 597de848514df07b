using System.Globalization;

namespace Harness.Core.Runs;

/// <summary>Where a long pass stands: items done of the total, time spent, and the time left at the rate so far.</summary>
/// <param name="Remaining">Null until an item is done (no rate yet).</param>
public sealed record ProgressSnapshot(int Done, int Total, TimeSpan Elapsed, TimeSpan? Remaining)
{
    /// <summary><c>120/480 items (25%), 2m00s elapsed, ETA 6m00s</c>; invariant culture.</summary>
    public string Text
    {
        get
        {
            var percent = Total > 0 ? Math.Min(100, Done * 100 / Total) : 100;
            var eta = Remaining is { } left ? "ETA " + Duration(left) : "ETA unknown";
            return string.Create(CultureInfo.InvariantCulture, $"{Done}/{Total} items ({percent}%), {Duration(Elapsed)} elapsed, {eta}");
        }
    }

    /// <summary><c>45s</c>, <c>12m05s</c>, <c>1h02m</c>: precise enough for an estimate, short enough for one line.</summary>
    public static string Duration(TimeSpan span)
    {
        var seconds = (long)Math.Max(0, Math.Round(span.TotalSeconds));
        return seconds switch
        {
            < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds}s"),
            < 3600 => string.Create(CultureInfo.InvariantCulture, $"{seconds / 60}m{seconds % 60:00}s"),
            _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 3600}h{seconds / 60 % 60:00}m"),
        };
    }
}

/// <summary>
/// The overall count of a pass over several parts (a run's models, a comparison's candidates) with an ETA from the
/// rate since it started, on <see cref="TimeProvider"/> so tests drive it with a fake clock. The rate includes loading
/// and every other cost between items, so the estimate is of the wall time left, not of decode time alone. A part's
/// total may be planned before it starts and corrected when it does (a resumed or early-decided suite has fewer).
/// Not thread-safe: one observer drives it.
/// </summary>
public sealed class OverallProgress(TimeProvider time)
{
    private readonly long _started = time.GetTimestamp();
    private readonly Dictionary<string, int> _planned = new(StringComparer.Ordinal);
    private readonly Dictionary<string, int> _done = new(StringComparer.Ordinal);

    /// <summary>Sets a part's expected item count, replacing an earlier plan for it.</summary>
    public void Plan(string part, int items)
    {
        ArgumentNullException.ThrowIfNull(part);
        _planned[part] = Math.Max(0, items);
    }

    /// <summary>One more item of <paramref name="part"/> is done.</summary>
    public void ItemDone(string part)
    {
        ArgumentNullException.ThrowIfNull(part);
        _done[part] = _done.GetValueOrDefault(part) + 1;
    }

    /// <summary>The part is over (finished, failed or stopped early): what it did not do leaves the total.</summary>
    public void PartFinished(string part)
    {
        ArgumentNullException.ThrowIfNull(part);
        _planned[part] = _done.GetValueOrDefault(part);
    }

    public ProgressSnapshot Snapshot()
    {
        var done = _done.Values.Sum();
        // A part with more done than planned (a plan made before a resume added items) counts what it did.
        var total = _planned.Keys.Union(_done.Keys).Sum(p => Math.Max(_planned.GetValueOrDefault(p), _done.GetValueOrDefault(p)));
        var elapsed = time.GetElapsedTime(_started);
        TimeSpan? remaining = done > 0 ? elapsed * ((double)(total - done) / done) : null;
        return new ProgressSnapshot(done, total, elapsed, remaining);
    }
}
