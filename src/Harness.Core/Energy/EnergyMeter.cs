using System.Collections.Immutable;

namespace Harness.Core.Energy;

/// <summary>Whether a figure came from a hardware counter or from arithmetic on CPU time. The two are never added.</summary>
public enum EnergyQuality
{
    /// <summary>Read from an energy or power counter of the hardware (RAPL, NVML, IOReport, EMI, powermetrics).</summary>
    Measured,
    /// <summary>Computed from process CPU time and configured watts; labelled with its parameters wherever it is shown.</summary>
    Estimated,
}

/// <summary>The part of the machine a channel covers.</summary>
public enum EnergyDomain
{
    /// <summary>A whole CPU package (cores, uncore and, on client parts, the integrated GPU).</summary>
    Package,
    /// <summary>CPU cores or clusters only.</summary>
    Cpu,
    /// <summary>Memory.</summary>
    Dram,
    /// <summary>A discrete or integrated GPU.</summary>
    Gpu,
    /// <summary>A neural engine or other accelerator.</summary>
    Accelerator,
    /// <summary>A whole-system or whole-device rail (a Windows EMI total, for example).</summary>
    System,
    /// <summary>One process's share, as the estimate computes it.</summary>
    Process,
}

/// <summary>One counter a meter reads, e.g. <c>package-0</c> or <c>gpu-0</c>.</summary>
public sealed record EnergyChannel(string Name, EnergyDomain Domain);

/// <summary>
/// What a meter found on this machine: whether it can be used, what it covers, how fine its counter is, and,
/// when it cannot be used, why and the command that would enable it. <c>harness doctor</c> prints these and
/// run.json keeps them.
/// </summary>
/// <param name="Source">Stable name: <c>rapl</c>, <c>nvml</c>, <c>ioreport</c>, <c>powermetrics</c>, <c>emi</c>, <c>estimate</c>.</param>
/// <param name="Scope">What the figure covers, in words ("CPU packages and DRAM of the whole machine").</param>
/// <param name="UpdateInterval">How often the underlying counter changes (NVML about 100 ms, RAPL about 1 ms); a window's
/// edges are uncertain by this much time each.</param>
/// <param name="ResolutionJoules">The counter's smallest step.</param>
/// <param name="Detail">What was found (devices, zones) or why the meter cannot run here.</param>
/// <param name="Remedy">A command or setting that would make an unusable meter usable; null when none is known.</param>
public sealed record EnergyMeterProbe(
    string Source,
    bool Usable,
    EnergyQuality Quality,
    string Scope,
    TimeSpan UpdateInterval,
    double ResolutionJoules,
    string Detail,
    string? Remedy);

/// <summary>
/// One family of energy counters (RAPL, NVML, IOReport, EMI, the estimate). Probe says whether it can run here;
/// <see cref="Open"/> starts counting. Windows over the counts are taken by <see cref="EnergyRecorder"/>.
/// </summary>
public interface IEnergyMeter
{
    /// <summary>Looks for the meter's counters without starting anything. Never throws.</summary>
    EnergyMeterProbe Probe();

    /// <summary>Starts counting from zero.</summary>
    /// <exception cref="EnergyMeterException">The meter cannot run here (the message says why).</exception>
    IEnergyCounter Open();
}

/// <summary>
/// Open counters of one meter. <see cref="Read"/> returns joules per channel since the counter was opened,
/// monotone; the counter handles wraparound itself, which is why it must be read at least every
/// <see cref="MaxReadInterval"/>. Reads may come from any thread, one at a time.
/// </summary>
public interface IEnergyCounter : IDisposable
{
    /// <summary>The channels in the order <see cref="Read"/> reports them.</summary>
    ImmutableArray<EnergyChannel> Channels { get; }

    /// <summary>The longest gap between reads that still counts every wrap (or every power sample).</summary>
    TimeSpan MaxReadInterval { get; }

    /// <summary>Joules per channel since <see cref="IEnergyMeter.Open"/>.</summary>
    /// <exception cref="EnergyMeterException">The counter stopped working (device gone, permission revoked).</exception>
    ImmutableArray<double> Read();
}

/// <summary>A meter could not be opened or read; the message names the source, the file or call, and the reason.</summary>
public sealed class EnergyMeterException(string message, Exception? inner = null) : Exception(message, inner);
