namespace Harness.Tests.Fakes;

/// <summary>A clock whose timestamps (what elapsed times are measured with) move only when a test advances it.</summary>
internal sealed class SteppingClock : TimeProvider
{
    private long _ticks;

    public override long TimestampFrequency => TimeSpan.TicksPerSecond;

    public override long GetTimestamp() => _ticks;

    public void Advance(TimeSpan by) => _ticks += by.Ticks;
}
