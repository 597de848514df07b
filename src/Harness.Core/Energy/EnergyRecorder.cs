using System.Collections.Immutable;
using System.Diagnostics;

namespace Harness.Core.Energy;

/// <summary>A point in a recorder's timeline: when, and every channel's cumulative joules then.</summary>
public sealed record EnergyMark(long Timestamp, ImmutableArray<double> Cumulative);

/// <summary>
/// Reads a set of open meters over a model's run: a background loop reads every counter often enough to count
/// wraps and to resolve the prompt/generation boundary, <see cref="Mark"/> takes a reading at an exact moment
/// (the start and end of an item), and <see cref="Measure"/> turns two marks into an <see cref="EnergyReading"/>
/// with the idle baseline subtracted and an uncertainty bound. Measured and estimated meters are never mixed in
/// one recorder.
/// </summary>
public sealed class EnergyRecorder : IAsyncDisposable
{
    // At 50 ms this is about 200 s of history: enough to split any single item that is not minutes long.
    private const int TimelineCapacity = 4096;

    private readonly ImmutableArray<OpenMeter> _meters;
    private readonly ImmutableArray<EnergyChannel> _channels;
    private readonly ImmutableArray<string> _channelNames;
    private readonly TimeProvider _time;
    private readonly object _gate = new();
    private readonly List<EnergyMark> _timeline = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private readonly TimeSpan _sampleInterval;
    private EnergyReading? _baseline;
    private string? _failure;

    private EnergyRecorder(ImmutableArray<OpenMeter> meters, TimeProvider time, TimeSpan? sampleInterval)
    {
        _meters = meters;
        _time = time;
        _channels = [.. meters.SelectMany(m => m.Counter.Channels)];
        _channelNames = [.. meters.SelectMany(m => m.Counter.Channels.Select(c => $"{m.Probe.Source}:{c.Name}"))];
        Source = string.Join('+', meters.Select(m => m.Probe.Source));
        Quality = meters[0].Probe.Quality;
        Scope = string.Join("; ", meters.Select(m => m.Probe.Scope));
        var shortestRead = meters.Min(m => m.Counter.MaxReadInterval);
        _sampleInterval = sampleInterval is { } wanted ? Min(wanted, shortestRead) : shortestRead;
        Append(ReadAll());
        _sampler = sampleInterval is null ? Task.CompletedTask : Task.Run(() => SampleLoopAsync(_stop.Token));
    }

    /// <summary>The meters read, joined with '+'.</summary>
    public string Source { get; }

    public EnergyQuality Quality { get; }

    /// <summary>What the readings cover, in words.</summary>
    public string Scope { get; }

    /// <summary>How often the background loop reads the counters.</summary>
    public TimeSpan SampleInterval => _sampleInterval;

    /// <summary>The idle baseline, once <see cref="MeasureIdleBaselineAsync"/> has run.</summary>
    public EnergyReading? Baseline => _baseline;

    /// <summary>The first read failure, if a counter stopped working; readings after it are not taken.</summary>
    public string? Failure
    {
        get
        {
            lock (_gate)
            {
                return _failure;
            }
        }
    }

    /// <summary>
    /// Opens every meter and starts reading. <paramref name="sampleInterval"/> is the longest gap between background
    /// reads (shortened to what the counters need); null reads only on <see cref="Mark"/>, which tests use.
    /// </summary>
    /// <exception cref="EnergyMeterException">A meter is unusable or failed to open; the ones opened are closed.</exception>
    /// <exception cref="ArgumentException">No meter, or measured and estimated meters mixed.</exception>
    public static EnergyRecorder Start(IReadOnlyList<IEnergyMeter> meters, TimeProvider timeProvider, TimeSpan? sampleInterval)
    {
        ArgumentNullException.ThrowIfNull(meters);
        ArgumentNullException.ThrowIfNull(timeProvider);
        if (meters.Count == 0)
        {
            throw new ArgumentException("at least one energy meter is needed", nameof(meters));
        }

        var opened = new List<OpenMeter>(meters.Count);
        try
        {
            foreach (var meter in meters)
            {
                var probe = meter.Probe();
                if (!probe.Usable)
                {
                    throw new EnergyMeterException($"energy meter '{probe.Source}' is not usable here: {probe.Detail}");
                }

                opened.Add(new OpenMeter(probe, meter.Open()));
            }

            if (opened.Select(m => m.Probe.Quality).Distinct().Count() > 1)
            {
                throw new ArgumentException("measured and estimated meters cannot be added into one figure", nameof(meters));
            }

            return new EnergyRecorder([.. opened], timeProvider, sampleInterval);
        }
        catch
        {
            foreach (var meter in opened)
            {
                meter.Counter.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Reads the counters now and returns the mark. After a read failure every later call throws, so no window
    /// can silently span a broken counter.
    /// </summary>
    /// <exception cref="EnergyMeterException">A counter failed now or earlier.</exception>
    public EnergyMark Mark()
    {
        lock (_gate)
        {
            if (_failure is not null)
            {
                throw new EnergyMeterException(_failure);
            }

            try
            {
                var mark = ReadAll();
                Append(mark);
                return mark;
            }
            catch (EnergyMeterException ex)
            {
                _failure = ex.Message;
                throw;
            }
        }
    }

    /// <summary>
    /// Measures the machine with the model loaded and idle for <paramref name="duration"/>; later readings subtract
    /// this power. A zero duration takes no baseline (readings then carry gross joules only).
    /// </summary>
    public async Task<EnergyReading?> MeasureIdleBaselineAsync(TimeSpan duration, CancellationToken cancellationToken)
    {
        if (duration <= TimeSpan.Zero)
        {
            return null;
        }

        var start = Mark();
        await Task.Delay(duration, _time, cancellationToken).ConfigureAwait(false);
        return UseBaseline(start, Mark());
    }

    /// <summary>Takes the window between two marks, with nothing running, as the idle baseline.</summary>
    internal EnergyReading UseBaseline(EnergyMark from, EnergyMark to)
    {
        _baseline = null;
        _baseline = Measure(from, to, EnergyAttribution.Exclusive, generation: null);
        return _baseline;
    }

    /// <summary>
    /// The energy between two marks. With <paramref name="generation"/> (the generation phase's duration, which
    /// ends at <paramref name="to"/>), the window is split into prompt and generation when the timeline resolves
    /// the boundary: both phases at least two counter updates and two background reads long.
    /// </summary>
    public EnergyReading Measure(EnergyMark from, EnergyMark to, EnergyAttribution attribution, TimeSpan? generation)
    {
        ArgumentNullException.ThrowIfNull(from);
        ArgumentNullException.ThrowIfNull(to);
        var window = Elapsed(from.Timestamp, to.Timestamp);
        var channels = ImmutableArray.CreateBuilder<ChannelEnergy>(_channels.Length);
        var gross = 0.0;
        for (var c = 0; c < _channels.Length; c++)
        {
            var joules = to.Cumulative[c] - from.Cumulative[c];
            gross += joules;
            channels.Add(new ChannelEnergy(_channelNames[c], _channels[c].Domain, joules));
        }

        var baselineWatts = _baseline is { } b && b.Window > TimeSpan.Zero ? b.GrossJoules / b.Window.TotalSeconds : (double?)null;
        double? net = baselineWatts is { } watts ? gross - watts * window.TotalSeconds : null;
        var (prompt, generated) = Split(from, to, generation, baselineWatts);
        return new EnergyReading(
            Source, Quality, Scope, attribution, window, gross, baselineWatts, net,
            Uncertainty(from, to, window), prompt, generated, channels.MoveToImmutable());
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sampler.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        foreach (var meter in _meters)
        {
            meter.Counter.Dispose();
        }

        _stop.Dispose();
    }

    private async Task SampleLoopAsync(CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(_sampleInterval, _time, cancellationToken).ConfigureAwait(false);
            try
            {
                Mark();
            }
            catch (EnergyMeterException)
            {
                // Kept in _failure; the next item's reading reports it. Reading on would only repeat it.
                return;
            }
        }
    }

    private EnergyMark ReadAll()
    {
        var values = ImmutableArray.CreateBuilder<double>(_channels.IsDefault ? 0 : _channels.Length);
        foreach (var meter in _meters)
        {
            values.AddRange(meter.Counter.Read());
        }

        return new EnergyMark(_time.GetTimestamp(), values.ToImmutable());
    }

    private void Append(EnergyMark mark)
    {
        lock (_gate)
        {
            if (_timeline.Count >= TimelineCapacity * 2)
            {
                _timeline.RemoveRange(0, TimelineCapacity);
            }

            _timeline.Add(mark);
        }
    }

    // Each window edge can be off by one counter update at the window's power plus one counter step, per meter;
    // the baseline's power is uncertain by its own edges spread over its length.
    private double? Uncertainty(EnergyMark from, EnergyMark to, TimeSpan window)
    {
        if (Quality == EnergyQuality.Estimated || window <= TimeSpan.Zero)
        {
            return null;
        }

        var total = 0.0;
        var offset = 0;
        foreach (var meter in _meters)
        {
            var count = meter.Counter.Channels.Length;
            var joules = 0.0;
            for (var c = offset; c < offset + count; c++)
            {
                joules += to.Cumulative[c] - from.Cumulative[c];
            }

            offset += count;
            var watts = Math.Max(0, joules) / window.TotalSeconds;
            total += 2 * (watts * meter.Probe.UpdateInterval.TotalSeconds + meter.Probe.ResolutionJoules);
        }

        if (_baseline is { UncertaintyJoules: { } baselineError, Window: var baselineWindow } && baselineWindow > TimeSpan.Zero)
        {
            total += baselineError * window.TotalSeconds / baselineWindow.TotalSeconds;
        }

        return total;
    }

    private (double? Prompt, double? Generation) Split(EnergyMark from, EnergyMark to, TimeSpan? generation, double? baselineWatts)
    {
        if (generation is not { } generationTime)
        {
            return (null, null);
        }

        var window = Elapsed(from.Timestamp, to.Timestamp);
        var watts = baselineWatts ?? 0;
        if (generationTime <= TimeSpan.Zero)
        {
            // Nothing was generated (a log-likelihood item): the whole window is prompt processing.
            return (Sum(from, to) - watts * window.TotalSeconds, 0);
        }

        var promptTime = window - generationTime;
        var resolution = _meters.Max(m => m.Probe.UpdateInterval);
        var boundary = from.Timestamp + (long)(promptTime.TotalSeconds * _time.TimestampFrequency);
        EnergyMark? before = null;
        EnergyMark? after = null;
        lock (_gate)
        {
            // The last read at or before the boundary and the first after it, both inside the window.
            foreach (var mark in _timeline)
            {
                if (mark.Timestamp < from.Timestamp || mark.Timestamp > to.Timestamp)
                {
                    continue;
                }

                if (mark.Timestamp <= boundary)
                {
                    before = mark;
                }
                else
                {
                    after ??= mark;
                }
            }
        }

        if (before is null || after is null)
        {
            return (null, null);
        }

        var gap = Elapsed(before.Timestamp, after.Timestamp);
        var needed = 2 * Max(resolution, gap);
        if (promptTime < needed || generationTime < needed)
        {
            return (null, null);
        }

        // Linear between the two reads around the boundary: constant power inside one read interval.
        var fraction = (double)(boundary - before.Timestamp) / (after.Timestamp - before.Timestamp);
        var atBoundary = Sum(from, before) + fraction * Sum(before, after);
        var total = Sum(from, to);
        return (atBoundary - watts * promptTime.TotalSeconds, total - atBoundary - watts * generationTime.TotalSeconds);
    }

    private static double Sum(EnergyMark from, EnergyMark to)
    {
        var sum = 0.0;
        for (var c = 0; c < from.Cumulative.Length; c++)
        {
            sum += to.Cumulative[c] - from.Cumulative[c];
        }

        return sum;
    }

    private TimeSpan Elapsed(long from, long to) => _time.GetElapsedTime(from, to);

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    [DebuggerDisplay("{Probe.Source}")]
    private sealed record OpenMeter(EnergyMeterProbe Probe, IEnergyCounter Counter);
}
