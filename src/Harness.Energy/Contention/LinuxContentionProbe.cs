using System.Globalization;
using Harness.Core.Contention;

namespace Harness.Energy.Contention;

/// <summary>
/// Machine CPU times from the <c>cpu</c> line of <c>/proc/stat</c> (steal included) and the 1-minute load average from
/// <c>/proc/loadavg</c>. Each is read on its own, so one unreadable file leaves only its figure null.
/// </summary>
public sealed class LinuxContentionProbe(string procRoot = "/proc") : IContentionProbe
{
    // /proc/stat counts in USER_HZ, which the kernel fixes at 100 for user space on every architecture.
    private const double TicksPerSecond = 100;

    /// <inheritdoc/>
    public string Source => "/proc/stat, /proc/loadavg";

    /// <inheritdoc/>
    public ContentionReading Read() =>
        new(ParseStat(ReadFile("stat")), ParseLoadAverage(ReadFile("loadavg")));

    /// <summary>
    /// The aggregate <c>cpu</c> line: user nice system idle iowait irq softirq steal (guest time is already inside
    /// user). Kernels before 2.6.11 have no steal column: then steal is null. Null for text without the line.
    /// </summary>
    public static MachineCpuTimes? ParseStat(string? text)
    {
        if (text is null)
        {
            return null;
        }

        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields.Length == 0 || fields[0] != "cpu")
            {
                continue;
            }

            var ticks = new List<long>();
            foreach (var field in fields.Skip(1).Take(8))
            {
                if (!long.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out var value))
                {
                    return null;
                }

                ticks.Add(value);
            }

            if (ticks.Count < 4)
            {
                return null;
            }

            var idle = ticks[3] + (ticks.Count > 4 ? ticks[4] : 0);
            long? steal = ticks.Count > 7 ? ticks[7] : null;
            return new MachineCpuTimes(Seconds(ticks.Sum()), Seconds(idle), steal is { } s ? Seconds(s) : null);
        }

        return null;
    }

    /// <summary>The first field of <c>/proc/loadavg</c>; null when it is not a number.</summary>
    public static double? ParseLoadAverage(string? text)
    {
        var first = text?.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault();
        return double.TryParse(first, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var load) ? load : null;
    }

    private static TimeSpan Seconds(long ticks) => TimeSpan.FromSeconds(ticks / TicksPerSecond);

    private string? ReadFile(string name)
    {
        try
        {
            return File.ReadAllText(Path.Combine(procRoot, name));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
