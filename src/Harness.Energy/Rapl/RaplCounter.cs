using System.Collections.Immutable;
using Harness.Core.Energy;

namespace Harness.Energy.Rapl;

/// <summary>
/// Open RAPL zones. Each read adds the step since the previous read to a running total, taking a counter that went
/// backwards as one wrap past max_energy_range_uj; two wraps between reads cannot be told from one, hence
/// <see cref="MaxReadInterval"/>.
/// </summary>
internal sealed class RaplCounter : IEnergyCounter
{
    // Above the burst power of any single package we expect (large server parts peak near 400 W), so the wrap time
    // it gives is a lower bound. A zone's constraint_0 limit is the long-term limit (PL1, about TDP) and bursts run
    // well above it, so the limit may raise this assumption but never lower it.
    internal const double AssumedPeakWatts = 500;

    // A quarter of the shortest wrap time leaves room for a late timer or a stalled reader. The 1 s cap keeps the
    // interval far from any wrap even if the range or power assumption is off, and reading a few sysfs files once a
    // second costs microseconds. The 1 ms floor is the counter's own update interval: reading faster gains nothing.
    private static readonly TimeSpan Cap = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Floor = TimeSpan.FromMilliseconds(1);

    private readonly ImmutableArray<RaplZone> _zones;
    private readonly Func<string, string> _readFile;
    private readonly long[] _previousMicrojoules;
    private readonly long[] _totalMicrojoules;
    private bool _disposed;

    public RaplCounter(ImmutableArray<RaplZone> zones, Func<string, string> readFile)
    {
        _zones = zones;
        _readFile = readFile;
        _previousMicrojoules = new long[zones.Length];
        _totalMicrojoules = new long[zones.Length];
        for (var i = 0; i < zones.Length; i++)
        {
            _previousMicrojoules[i] = ReadMicrojoules(zones[i]);
        }

        Channels = [.. zones.Select(z => z.Channel)];
        MaxReadInterval = ComputeMaxReadInterval(zones);
    }

    public ImmutableArray<EnergyChannel> Channels { get; }

    public TimeSpan MaxReadInterval { get; }

    public ImmutableArray<double> Read()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var joules = ImmutableArray.CreateBuilder<double>(_zones.Length);
        for (var i = 0; i < _zones.Length; i++)
        {
            var current = ReadMicrojoules(_zones[i]);
            var previous = _previousMicrojoules[i];
            _totalMicrojoules[i] += current >= previous ? current - previous : current + _zones[i].RangeMicrojoules - previous;
            _previousMicrojoules[i] = current;
            joules.Add(_totalMicrojoules[i] / 1e6);
        }

        return joules.MoveToImmutable();
    }

    public void Dispose() => _disposed = true;

    internal static TimeSpan ComputeMaxReadInterval(IEnumerable<RaplZone> zones)
    {
        // µJ over W is µs; the figure is rough, so seconds as a double are precise enough.
        var shortestWrapSeconds = zones.Min(z => z.RangeMicrojoules / 1e6 / Math.Max(AssumedPeakWatts, z.LimitWatts));
        var quarter = TimeSpan.FromSeconds(shortestWrapSeconds / 4);
        return quarter < Floor ? Floor : quarter > Cap ? Cap : quarter;
    }

    private long ReadMicrojoules(RaplZone zone)
    {
        string text;
        try
        {
            text = _readFile(zone.EnergyPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new EnergyMeterException($"rapl: could not read {zone.EnergyPath}: {ex.Message}", ex);
        }

        try
        {
            return RaplMeter.ParseMicro(zone.EnergyPath, text);
        }
        catch (EnergyMeterException ex)
        {
            throw new EnergyMeterException($"rapl: {ex.Message}", ex);
        }
    }
}
