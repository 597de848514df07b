using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Contention;

namespace Harness.Core.Reports;

/// <summary>
/// The words every report (report.md, report.html, the console, bench.md) uses for contention, so a busy machine reads
/// the same everywhere. Invariant culture throughout.
/// </summary>
public static class ContentionText
{
    /// <summary>Put beside a latency or energy figure measured on a busy machine.</summary>
    public const string BusyMark = "⚠ busy";

    /// <summary>Column titles matching <see cref="Cells"/>.</summary>
    public static ImmutableArray<string> Headers { get; } =
        ["other processes", "steal", "harness", "worker", "load 1m start / end / max", "cores", "window"];

    /// <summary>The thresholds and the probe in one sentence.</summary>
    public static string PlanLine(ContentionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return $"busy above {ContentionThresholds.Percent(plan.Thresholds.MaxOtherProcessesShare)} of the CPU used by other processes "
            + $"or {ContentionThresholds.Percent(plan.Thresholds.MaxStealShare)} stolen; read from {plan.Source}";
    }

    /// <summary>One model's contention as table cells, in the order of <see cref="Headers"/>; "–" where not measured.</summary>
    public static ImmutableArray<string> Cells(ModelContention contention)
    {
        ArgumentNullException.ThrowIfNull(contention);
        return
        [
            Share(contention.OtherProcessesShare),
            Share(contention.StealShare),
            Share(contention.HarnessShare),
            Share(contention.WorkerShare),
            $"{Load(contention.LoadAverage1mAtStart)} / {Load(contention.LoadAverage1mAtEnd)} / {Load(contention.LoadAverage1mMax)}",
            contention.LogicalCores.ToString(CultureInfo.InvariantCulture),
            contention.Window.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + " s",
        ];
    }

    /// <summary>One model's contention in one line, for the console and bench.md.</summary>
    public static string Line(ModelContention contention)
    {
        ArgumentNullException.ThrowIfNull(contention);
        var cells = Cells(contention);
        var parts = new List<string>();
        for (var i = 0; i < cells.Length; i++)
        {
            parts.Add($"{Headers[i]} {cells[i]}");
        }

        if (contention.Unavailable is { } why)
        {
            parts.Add(why);
        }

        return string.Join(", ", parts);
    }

    /// <summary>A share of the machine's CPU as a whole percent, "–" when not measured.</summary>
    public static string Share(double? share) => share is { } s ? ContentionThresholds.Percent(s) : "–";

    private static string Load(double? load) => load is { } l ? l.ToString("0.00", CultureInfo.InvariantCulture) : "–";
}
