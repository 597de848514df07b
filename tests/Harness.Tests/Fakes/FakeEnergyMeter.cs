using System.Collections.Immutable;
using Harness.Core.Energy;

namespace Harness.Tests.Fakes;

/// <summary>A clock whose timestamps move only when told to (ticks of 100 ns).</summary>
internal sealed class ManualClock : TimeProvider
{
    public long Ticks { get; private set; }

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => Ticks;

    public override DateTimeOffset GetUtcNow() => new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero).AddTicks(Ticks);

    public void Advance(TimeSpan by) => Ticks += by.Ticks;
}

/// <summary>
/// A meter whose channels draw a scripted power: each read integrates <see cref="Watts"/> (per channel) over the
/// clock time since the previous read, so tests set the power, advance the clock and know the joules exactly.
/// </summary>
internal sealed class FakeEnergyMeter(ManualClock clock, params EnergyChannel[] channels) : IEnergyMeter
{
    public string Source { get; init; } = "fake";

    public EnergyQuality Quality { get; init; } = EnergyQuality.Measured;

    public TimeSpan UpdateInterval { get; init; } = TimeSpan.FromMilliseconds(100);

    public double ResolutionJoules { get; init; } = 0.001;

    public bool Usable { get; init; } = true;

    /// <summary>Power per channel from now on.</summary>
    public double[] Watts { get; set; } = [.. channels.Select(_ => 0.0)];

    /// <summary>Reads after this many throw (a device that disappears); null never.</summary>
    public int? FailAfterReads { get; set; }

    public int OpenCounters { get; private set; }

    /// <summary>Moves the clock on every read, so windows have a length even when nothing else moves it.</summary>
    public TimeSpan AdvancePerRead { get; init; }

    public EnergyMeterProbe Probe() => new(Source, Usable, Quality, "fake scope", UpdateInterval, ResolutionJoules,
        Usable ? "fake channels" : "fake meter switched off", Usable ? null : "switch it on");

    public IEnergyCounter Open()
    {
        if (!Usable)
        {
            throw new EnergyMeterException("fake meter switched off");
        }

        OpenCounters++;
        return new Counter(this);
    }

    private sealed class Counter(FakeEnergyMeter meter) : IEnergyCounter
    {
        private readonly double[] _joules = new double[meter.Channels.Length];
        private long _lastTicks = meter.Clock.Ticks;
        private int _reads;

        public ImmutableArray<EnergyChannel> Channels => [.. meter.Channels];

        public TimeSpan MaxReadInterval => TimeSpan.FromSeconds(1);

        public ImmutableArray<double> Read()
        {
            if (meter.FailAfterReads is { } limit && _reads >= limit)
            {
                throw new EnergyMeterException("fake: device gone");
            }

            _reads++;
            meter.Clock.Advance(meter.AdvancePerRead);
            var seconds = TimeSpan.FromTicks(meter.Clock.Ticks - _lastTicks).TotalSeconds;
            _lastTicks = meter.Clock.Ticks;
            for (var c = 0; c < _joules.Length; c++)
            {
                _joules[c] += meter.Watts[c] * seconds;
            }

            return [.. _joules];
        }

        public void Dispose() => meter.OpenCounters--;
    }

    private ManualClock Clock => clock;

    private EnergyChannel[] Channels => channels;
}

/// <summary>Power states from a script: each read returns the next one (the last one repeats).</summary>
internal sealed class FakePowerProbe(params PowerState[] states) : IPowerStateProbe
{
    private int _next;

    public int Reads => _next;

    public PowerState Read() => states[Math.Min(_next++, states.Length - 1)];
}
