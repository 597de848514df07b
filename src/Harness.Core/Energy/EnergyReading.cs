using System.Collections.Immutable;

namespace Harness.Core.Energy;

/// <summary>How an item's window was cut out of the meter's counts.</summary>
public enum EnergyAttribution
{
    /// <summary>The item ran alone: its window is from its request to its answer.</summary>
    Exclusive,
    /// <summary>
    /// The item finished inside a continuous batch: its window is from the previous completion of the batch (or the
    /// batch's start) to its own. Every joule of the batch goes to exactly one item, so sums and means per suite are
    /// exact while a single item's figure also carries part of its neighbours' work.
    /// </summary>
    BatchInterval,
}

/// <summary>Gross joules of one channel over a window.</summary>
/// <param name="Name">Meter source and channel, e.g. <c>rapl:package-0</c>.</param>
public sealed record ChannelEnergy(string Name, EnergyDomain Domain, double Joules);

/// <summary>
/// The energy of one window (an item, or an idle baseline), with where it came from and how sure it is.
/// </summary>
/// <param name="Source">The meters read, joined with '+': <c>rapl</c>, <c>rapl+nvml</c>, <c>estimate</c>.</param>
/// <param name="Scope">What the figure covers, in words.</param>
/// <param name="GrossJoules">Everything the meters counted in the window.</param>
/// <param name="BaselineWatts">Idle power measured before the model's items; null when no baseline was taken.</param>
/// <param name="NetJoules">Gross minus baseline power times the window; what the work added. Null without a baseline.
/// It can come out slightly negative for a short window on a noisy machine; it is kept as measured.</param>
/// <param name="UncertaintyJoules">Bound on the counter error of <see cref="NetJoules"/> (or of the gross figure without a
/// baseline): each window edge is uncertain by the counter's update interval at the window's power plus one counter
/// step, and the baseline's own edges carry over in proportion to the window. Null for an estimate, whose error is
/// not known.</param>
/// <param name="PromptJoules">Net joules of prompt processing, when the meter resolves the phases (see docs/energy.md).</param>
/// <param name="GenerationJoules">Net joules of generation, same condition.</param>
public sealed record EnergyReading(
    string Source,
    EnergyQuality Quality,
    string Scope,
    EnergyAttribution Attribution,
    TimeSpan Window,
    double GrossJoules,
    double? BaselineWatts,
    double? NetJoules,
    double? UncertaintyJoules,
    double? PromptJoules,
    double? GenerationJoules,
    ImmutableArray<ChannelEnergy> Channels)
{
    /// <summary>The figure attributed to the work: net when a baseline was taken, else gross.</summary>
    public double AttributedJoules => NetJoules ?? GrossJoules;
}
