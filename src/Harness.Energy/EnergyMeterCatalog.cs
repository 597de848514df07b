using System.Collections.Immutable;
using Harness.Core.Energy;
using Harness.Energy.PowerStates;
using Harness.Energy.AppleSilicon;
using Harness.Energy.Nvml;
using Harness.Energy.Rapl;
using Harness.Energy.Windows;

namespace Harness.Energy;

/// <summary>The meters chosen for a run: the hardware meters read (none: the estimate), and every probe, for the record.</summary>
/// <param name="MeasuredSources">Sources of <paramref name="Measured"/>, same order.</param>
public sealed record EnergyMeterChoice(
    ImmutableArray<IEnergyMeter> Measured, ImmutableArray<string> MeasuredSources, ImmutableArray<EnergyMeterProbe> Probes)
{
    /// <summary>Sources read: the measured meters, or <c>estimate</c> when none can measure.</summary>
    public ImmutableArray<string> Selected => Measured.IsEmpty ? ["estimate"] : MeasuredSources;
}

/// <summary>
/// Every energy meter family this build knows, and the rule that picks the ones a run reads: every usable
/// measured meter, except where two would count the same hardware twice.
/// </summary>
public static class EnergyMeterCatalog
{
    /// <summary>The hardware meter families, in the order they are tried. Each one's probe says whether it applies here.</summary>
    public static ImmutableArray<IEnergyMeter> HardwareMeters(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return [new RaplMeter(), new EmiMeter(), new IOReportMeter(), new PowermetricsMeter(PowermetricsInterval, timeProvider), new NvmlMeter(timeProvider)];
    }

    // powermetrics prints one sample per interval; 100 ms resolves items without flooding the pipe.
    private static readonly TimeSpan PowermetricsInterval = TimeSpan.FromMilliseconds(100);

    /// <summary>The power-state reader for this OS.</summary>
    public static IPowerStateProbe PowerStateProbe() =>
        OperatingSystem.IsMacOS() ? new MacPowerStateProbe()
        : OperatingSystem.IsWindows() ? new WindowsPowerStateProbe()
        : new LinuxPowerStateProbe();

    /// <summary>Probes every meter and keeps the usable measured ones.</summary>
    /// <param name="forceEstimate">Read no hardware meter even where one works (to compare with a machine that has none).</param>
    public static EnergyMeterChoice Choose(IReadOnlyList<IEnergyMeter> meters, bool forceEstimate)
    {
        ArgumentNullException.ThrowIfNull(meters);
        var probed = meters.Select(m => (Meter: m, Probe: m.Probe())).ToList();
        var chosen = forceEstimate
            ? []
            : probed.Where(p => p.Probe.Usable && p.Probe.Quality == EnergyQuality.Measured).ToList();
        // powermetrics and IOReport read the same SoC counters; IOReport needs no root and also covers DRAM.
        if (chosen.Any(c => c.Probe.Source == "ioreport"))
        {
            chosen.RemoveAll(c => c.Probe.Source == "powermetrics");
        }

        return new EnergyMeterChoice([.. chosen.Select(c => c.Meter)], [.. chosen.Select(c => c.Probe.Source)], [.. probed.Select(p => p.Probe)]);
    }
}
