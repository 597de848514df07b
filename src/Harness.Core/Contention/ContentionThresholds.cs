using System.Globalization;

namespace Harness.Core.Contention;

/// <summary>
/// Above these, a model's timings were taken on a busy machine and decide no latency or energy ceiling. Recorded in
/// run.json; docs/performance.md gives the reasoning behind the defaults.
/// </summary>
/// <param name="MaxOtherProcessesShare">Largest share of the machine's CPU time other processes may use during a model's items.</param>
/// <param name="MaxStealShare">Largest share a hypervisor may steal.</param>
public sealed record ContentionThresholds(double MaxOtherProcessesShare, double MaxStealShare)
{
    /// <summary>
    /// 10 % other processes, 5 % steal. llama.cpp's threads meet at a barrier after every step, so one thread
    /// descheduled for a slice stalls them all: a tenth of the machine taken away already costs far more than a tenth
    /// of the speed, while a quiet desktop's background stays at a few percent.
    /// </summary>
    public static ContentionThresholds Default { get; } = new(0.10, 0.05);

    /// <summary>
    /// Why <paramref name="contention"/> is over a threshold (<c>other processes used 43% of the CPU</c>), or null when
    /// it is not, or when nothing was measured.
    /// </summary>
    public BusyMachine? Check(ModelContention? contention)
    {
        if (contention is null)
        {
            return null;
        }

        var reasons = new List<string>(2);
        if (contention.OtherProcessesShare is { } other && other > MaxOtherProcessesShare)
        {
            reasons.Add($"other processes used {Percent(other)} of the CPU");
        }

        if (contention.StealShare is { } steal && steal > MaxStealShare)
        {
            reasons.Add($"the hypervisor stole {Percent(steal)} of the CPU");
        }

        return reasons.Count == 0 ? null : new BusyMachine(string.Join(" and ", reasons));
    }

    /// <summary>A share as a whole percent, invariant culture.</summary>
    public static string Percent(double share) => (share * 100).ToString("0", CultureInfo.InvariantCulture) + "%";
}

/// <summary>A model's timings were taken on a busy machine; <paramref name="Reason"/> says how busy.</summary>
public sealed record BusyMachine(string Reason)
{
    /// <summary>The words a verdict gives for a ceiling it leaves undecided.</summary>
    public string Undecided => $"undecided: measured on a busy machine ({Reason})";
}

/// <summary>How a run samples contention and when it calls the machine busy; written into run.json.</summary>
/// <param name="Source">The probe used on this machine.</param>
/// <param name="SampleInterval">How often the load average is read during a model's items.</param>
public sealed record ContentionPlan(string Source, TimeSpan SampleInterval, ContentionThresholds Thresholds);

/// <summary>How a run samples contention: the probe and how often the load average is read during a model's items.</summary>
public sealed record ContentionOptions(IContentionProbe Probe, TimeSpan SampleInterval);
