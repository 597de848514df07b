using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Harness.Core.Energy;

namespace Harness.Energy.AppleSilicon;

/// <summary>
/// Apple Silicon energy from the private IOReport "Energy Model" group, the same counters <c>powermetrics</c>
/// reads, but without root. One channel per counted IOReport channel (e.g. <c>CPU Energy</c>, <c>GPU Energy</c>,
/// <c>ANE</c>, <c>DRAM</c>), chosen so that no energy is counted twice.
/// </summary>
public sealed class IOReportMeter : IEnergyMeter
{
    internal const string SourceName = "ioreport";
    internal const string ScopeText = "Apple Silicon SoC: CPU clusters, GPU, ANE, DRAM (Energy Model channels)";

    // The mJ channels are published by the power manager in batches, not continuously: on an M1 Ultra about every
    // 0.5 to 1.7 s, on an M5 Max 2.03 to 2.23 s apart (lablup/all-smi issues #410 and #415); only the nJ
    // "GPU Energy" moves every ~120 ms. A window's edge can therefore sit up to one batch away from the energy it
    // sees, and the batch gap is the honest figure.
    internal static readonly TimeSpan PublicationInterval = TimeSpan.FromMilliseconds(2250);

    // IOReport hands out 64-bit deltas, so nothing wraps; the bound only keeps a recorder's poll timer finite.
    internal static readonly TimeSpan LongestReadGap = TimeSpan.FromHours(1);

    private readonly IIOReportSource _source;
    private readonly bool _isAppleSilicon;

    /// <summary>Reads the counters of this Mac through <c>/usr/lib/libIOReport.dylib</c>.</summary>
    public IOReportMeter()
        : this(new NativeIOReportSource(), OperatingSystem.IsMacOS() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64)
    {
    }

    internal IOReportMeter(IIOReportSource source, bool isAppleSilicon)
    {
        _source = source;
        _isAppleSilicon = isAppleSilicon;
    }

    /// <inheritdoc />
    public EnergyMeterProbe Probe()
    {
        if (!_isAppleSilicon)
        {
            return Unusable(
                $"IOReport energy counters exist only on Apple Silicon Macs; this is {RuntimeInformation.OSDescription} on {RuntimeInformation.ProcessArchitecture}");
        }

        IReadOnlyList<IOReportChannelInfo> available;
        try
        {
            available = _source.Channels();
        }
        catch (EnergyMeterException ex)
        {
            return Unusable(ex.Message);
        }

        var selected = IOReportChannelSelection.Select(available);
        if (selected.IsEmpty)
        {
            return Unusable(
                $"the IOReport Energy Model group has {available.Count} channels but none recognised for CPU, GPU, ANE or DRAM");
        }

        var counted = string.Join(", ", selected.Select(s => $"{s.Name} ({s.Unit})"));
        return new EnergyMeterProbe(
            SourceName,
            Usable: true,
            EnergyQuality.Measured,
            ScopeText,
            PublicationInterval,
            selected.Max(s => s.JoulesPerUnit),
            $"Energy Model: {counted}; {available.Count - selected.Length} other channels not counted (parts of these or outside the four domains)",
            Remedy: null);
    }

    /// <inheritdoc />
    public IEnergyCounter Open()
    {
        if (!_isAppleSilicon)
        {
            throw new EnergyMeterException("ioreport: IOReport energy counters exist only on Apple Silicon Macs");
        }

        var subscription = _source.Subscribe();
        try
        {
            var selected = IOReportChannelSelection.Select(subscription.Channels);
            if (selected.IsEmpty)
            {
                throw new EnergyMeterException("ioreport: the Energy Model subscription has no CPU, GPU, ANE or DRAM channel");
            }

            return new IOReportCounter(subscription, selected);
        }
        catch
        {
            subscription.Dispose();
            throw;
        }
    }

    private static EnergyMeterProbe Unusable(string detail) =>
        new(SourceName, Usable: false, EnergyQuality.Measured, ScopeText, PublicationInterval, 1e-3, detail, Remedy: null);

    private sealed class IOReportCounter : IEnergyCounter
    {
        private readonly IIOReportSubscription _subscription;
        private readonly ImmutableArray<SelectedIOReportChannel> _selected;
        private readonly Dictionary<string, int> _indexByName;
        private readonly double[] _joules;
        private readonly Lock _gate = new();
        private bool _disposed;

        public IOReportCounter(IIOReportSubscription subscription, ImmutableArray<SelectedIOReportChannel> selected)
        {
            _subscription = subscription;
            _selected = selected;
            _indexByName = selected.Select((s, i) => (s.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
            _joules = new double[selected.Length];
            Channels = [.. selected.Select(s => new EnergyChannel(s.Name, s.Domain))];
        }

        public ImmutableArray<EnergyChannel> Channels { get; }

        public TimeSpan MaxReadInterval => LongestReadGap;

        public ImmutableArray<double> Read()
        {
            lock (_gate)
            {
                ObjectDisposedException.ThrowIf(_disposed, this);
                var delta = _subscription.ReadDelta();
                var seen = new bool[_joules.Length];
                foreach (var reading in delta)
                {
                    if (!_indexByName.TryGetValue(reading.Channel, out var index) || seen[index])
                    {
                        // Some chips list a name twice; the first is the channel chosen at Open, a second would double count.
                        continue;
                    }

                    seen[index] = true;
                    var scale = IOReportChannelSelection.JoulesPerUnit(reading.Unit) ?? _selected[index].JoulesPerUnit;

                    // A delta is never negative for an energy counter; a negative one is a driver reset and counts as nothing,
                    // so that the totals stay monotone.
                    _joules[index] += Math.Max(0, reading.Value) * scale;
                }

                return [.. _joules];
            }
        }

        public void Dispose()
        {
            lock (_gate)
            {
                if (_disposed)
                {
                    return;
                }

                _disposed = true;
                _subscription.Dispose();
            }
        }
    }
}

/// <summary>One channel of the IOReport Energy Model group as the library names it.</summary>
internal sealed record IOReportChannelInfo(string Name, string Unit);

/// <summary>One channel's energy in the channel's own unit, over the span of one sample.</summary>
internal sealed record IOReportReading(string Channel, string Unit, long Value);

/// <summary>A channel the meter counts, with its domain and the factor from its unit to joules.</summary>
internal sealed record SelectedIOReportChannel(string Name, string Unit, EnergyDomain Domain, double JoulesPerUnit);

/// <summary>The seam between the meter's logic and libIOReport: the Energy Model group's channels and a subscription to them.</summary>
internal interface IIOReportSource
{
    /// <summary>The Energy Model channels of this machine, without subscribing.</summary>
    /// <exception cref="EnergyMeterException">The library or the group is missing.</exception>
    IReadOnlyList<IOReportChannelInfo> Channels();

    /// <summary>Subscribes to the Energy Model group and takes the baseline sample.</summary>
    /// <exception cref="EnergyMeterException">The subscription failed.</exception>
    IIOReportSubscription Subscribe();
}

/// <summary>An open subscription; each <see cref="ReadDelta"/> covers the time since the previous one (or since it was opened).</summary>
internal interface IIOReportSubscription : IDisposable
{
    IReadOnlyList<IOReportChannelInfo> Channels { get; }

    IReadOnlyList<IOReportReading> ReadDelta();
}

/// <summary>
/// Which Energy Model channels are counted. The group holds summary channels next to their parts (per-core,
/// per-cluster, SRAM, DTL and CPM channels under <c>CPU Energy</c>; <c>GPU0_0</c> next to <c>GPU Energy</c>), so
/// only the summaries are taken, by exact name: <c>CPU Energy</c> (<c>DIE_n_CPU Energy</c> on Ultra), <c>GPU Energy</c>,
/// <c>ANE</c>/<c>ANEn</c>/<c>ANEn_m</c> and <c>DRAM</c>/<c>DRAMn</c>/<c>DRAMn_m</c>. Cluster channels stand in for the CPU
/// only where no CPU sum exists, and <c>GPUn</c> channels for the GPU only where <c>GPU Energy</c> is missing.
/// Naming follows macmon's filter (vladkens/macmon src/shared.rs) and the channel inventories of lablup/all-smi #415.
/// </summary>
internal static partial class IOReportChannelSelection
{
    public static ImmutableArray<SelectedIOReportChannel> Select(IReadOnlyList<IOReportChannelInfo> available)
    {
        var known = available
            .Where(c => JoulesPerUnit(c.Unit) is not null)
            .DistinctBy(c => c.Name, StringComparer.Ordinal)
            .ToList();

        var cpu = Matching(known, CpuSum());
        if (cpu.Count == 0)
        {
            cpu = Matching(known, CpuCluster());
        }

        var gpu = Matching(known, GpuSum());
        if (gpu.Count == 0)
        {
            gpu = Matching(known, GpuPart());
        }

        return
        [
            .. cpu.Select(c => Selected(c, EnergyDomain.Cpu)),
            .. gpu.Select(c => Selected(c, EnergyDomain.Gpu)),
            .. Matching(known, Ane()).Select(c => Selected(c, EnergyDomain.Accelerator)),
            .. Matching(known, Dram()).Select(c => Selected(c, EnergyDomain.Dram)),
        ];
    }

    /// <summary>Joules per counted unit for an IOReport unit label; null for a label that is not energy.</summary>
    public static double? JoulesPerUnit(string unit) => unit.Trim() switch
    {
        "J" => 1,
        "mJ" => 1e-3,
        "uJ" or "µJ" => 1e-6,
        "nJ" => 1e-9,
        _ => null,
    };

    private static List<IOReportChannelInfo> Matching(List<IOReportChannelInfo> channels, Regex pattern) =>
        [.. channels.Where(c => pattern.IsMatch(c.Name)).OrderBy(c => c.Name, StringComparer.Ordinal)];

    private static SelectedIOReportChannel Selected(IOReportChannelInfo channel, EnergyDomain domain) =>
        new(channel.Name, channel.Unit.Trim(), domain, JoulesPerUnit(channel.Unit) ?? throw new InvalidOperationException(
            string.Create(CultureInfo.InvariantCulture, $"unit '{channel.Unit}' of {channel.Name} was filtered out before")));

    [GeneratedRegex(@"^(DIE_\d+_)?CPU Energy$", RegexOptions.CultureInvariant)]
    private static partial Regex CpuSum();

    // Cluster totals only: a trailing core number (ECPU0, EACC_CPU0) or suffix (_SRAM, DTL, CPM) marks a part of a cluster.
    [GeneratedRegex(@"^(DIE_\d+_)?(ECPU|PCPU|MCPU|EACC_CPU|PACC\d*_CPU|MACC\d*_CPU)$", RegexOptions.CultureInvariant)]
    private static partial Regex CpuCluster();

    [GeneratedRegex(@"^(DIE_\d+_)?GPU Energy$", RegexOptions.CultureInvariant)]
    private static partial Regex GpuSum();

    [GeneratedRegex(@"^GPU\d*(_\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex GpuPart();

    [GeneratedRegex(@"^(DIE_\d+_)?ANE\d*(_\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Ane();

    [GeneratedRegex(@"^(DIE_\d+_)?DRAM\d*(_\d+)?$", RegexOptions.CultureInvariant)]
    private static partial Regex Dram();
}
