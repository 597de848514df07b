using Harness.Core.Contention;

namespace Harness.Tests.Fakes;

/// <summary>Returns scripted readings in turn, repeating the last one once they run out.</summary>
internal sealed class FakeContentionProbe(params ContentionReading[] readings) : IContentionProbe
{
    private int _next;

    public string Source => "fake";

    public int Reads => _next;

    public ContentionReading Read()
    {
        lock (readings)
        {
            return readings[Math.Min(_next++, readings.Length - 1)];
        }
    }

    /// <summary>Machine CPU times in seconds over all cores.</summary>
    public static ContentionReading At(double total, double idle, double? steal, double? load) =>
        new(new MachineCpuTimes(TimeSpan.FromSeconds(total), TimeSpan.FromSeconds(idle), steal is { } s ? TimeSpan.FromSeconds(s) : null), load);
}
