namespace Harness.Core.Energy;

public enum PowerSource
{
    /// <summary>The OS does not say (a desktop without a battery driver, a VM).</summary>
    Unknown,
    /// <summary>Mains power.</summary>
    Ac,
    /// <summary>Running on battery: firmware and OS usually cap power, so speed and energy differ from AC.</summary>
    Battery,
}

/// <summary>
/// Facts of a moment that change energy and speed. Read at the start and end of each model's run; the
/// difference of <see cref="ThrottleEvents"/> is the thermal throttling observed during it.
/// </summary>
/// <param name="BatteryPercent">Charge of the battery (0-100) when there is one.</param>
/// <param name="CpuGovernor">Linux cpufreq governor ("performance", or "powersave x6, performance x2" when cores differ);
/// macOS low-power mode; the Windows power scheme; null when unknown.</param>
/// <param name="ThrottleEvents">Cumulative thermal throttle events the OS counts (Linux <c>thermal_throttle</c> counters,
/// summed over cores and packages); null where the OS keeps no count.</param>
/// <param name="ThermalState">The OS's own word on thermal pressure (macOS <c>CPU_Speed_Limit</c>, Linux thermal zones
/// over their passive trip point); null when unknown.</param>
public sealed record PowerState(
    PowerSource PowerSource,
    double? BatteryPercent,
    string? CpuGovernor,
    long? ThrottleEvents,
    string? ThermalState);

/// <summary>Reads the current <see cref="PowerState"/>. Never throws: unknown facts are null.</summary>
public interface IPowerStateProbe
{
    PowerState Read();
}
