namespace Harness.Core.Contention;

/// <summary>
/// The machine's cumulative CPU time over all cores since boot, as the kernel counts it. Only differences between two
/// readings mean anything.
/// </summary>
/// <param name="Total">Every state: busy, idle, I/O wait and steal.</param>
/// <param name="Idle">Idle and I/O wait: time no process wanted the core.</param>
/// <param name="Steal">Time a hypervisor ran something else while this guest wanted the core; null where the OS does
/// not count it.</param>
public sealed record MachineCpuTimes(TimeSpan Total, TimeSpan Idle, TimeSpan? Steal);

/// <summary>One reading of the machine: its CPU times and its 1-minute load average, each null where the OS gives none.</summary>
public sealed record ContentionReading(MachineCpuTimes? Cpu, double? LoadAverage1m);

/// <summary>Reads how busy the machine is right now. Never throws: what cannot be read is null.</summary>
public interface IContentionProbe
{
    /// <summary>Where the figures come from (<c>/proc</c>, <c>getloadavg</c>), or why none are available.</summary>
    string Source { get; }

    ContentionReading Read();
}
