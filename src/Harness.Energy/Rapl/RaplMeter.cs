using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using Harness.Core.Energy;

namespace Harness.Energy.Rapl;

/// <summary>
/// Intel and AMD RAPL energy counters as Linux powercap exposes them: one channel per CPU package (or die) and one
/// per DRAM zone. Core and uncore zones lie inside their package and are never added; psys is used only when no
/// package zone exists, because it covers the packages too.
/// </summary>
public sealed class RaplMeter : IEnergyMeter
{
    private const string SourceName = "rapl";
    private const string MsrControl = "intel-rapl";
    private const string MmioControl = "intel-rapl-mmio";
    private const string Scope = "CPU packages (cores, uncore, integrated GPU) and DRAM where exposed, whole machine";

    // The SDM gives about 1 ms between counter updates; each window edge is uncertain by that much.
    private static readonly TimeSpan UpdateInterval = TimeSpan.FromMilliseconds(1);

    // The hardware energy unit is 15.3 µJ (AMD, Intel server DRAM) to 61 µJ (Intel client packages); sysfs scales the
    // raw count to whole µJ, so the coarsest unit is the honest resolution.
    private const double ResolutionJoules = 61e-6;

    private readonly string _root;
    private readonly Func<string, string> _readFile;
    private readonly bool _isLinux;
    private readonly bool _isX86;

    /// <summary>Reads the zones under <paramref name="powercapRoot"/>.</summary>
    public RaplMeter(string powercapRoot = "/sys/class/powercap")
        : this(
            powercapRoot,
            File.ReadAllText,
            OperatingSystem.IsLinux(),
            RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86)
    {
    }

    // The seam lets tests throw for energy_uj: chmod cannot simulate "root only" when the tests themselves run as root.
    internal RaplMeter(string powercapRoot, Func<string, string> readFile, bool isLinux = true, bool isX86 = true)
    {
        _root = powercapRoot;
        _readFile = readFile;
        _isLinux = isLinux;
        _isX86 = isX86;
    }

    /// <inheritdoc/>
    public EnergyMeterProbe Probe()
    {
        var found = Discover();
        return new EnergyMeterProbe(
            SourceName,
            found.Zones is not null,
            EnergyQuality.Measured,
            Scope,
            UpdateInterval,
            ResolutionJoules,
            found.Detail,
            found.Remedy);
    }

    /// <inheritdoc/>
    public IEnergyCounter Open()
    {
        var found = Discover();
        if (found.Zones is not { } zones)
        {
            throw new EnergyMeterException($"{SourceName}: {found.Detail}");
        }

        return new RaplCounter(zones, _readFile);
    }

    private Discovery Discover()
    {
        if (!_isLinux)
        {
            return Discovery.Unusable("RAPL counters are read through Linux powercap (/sys/class/powercap); this OS is not Linux", null);
        }

        try
        {
            return DiscoverZones();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return Discovery.Unusable($"{_root} could not be listed: {ex.Message}", null);
        }
    }

    private Discovery DiscoverZones()
    {
        var folders = Directory.Exists(_root)
            ? Directory.EnumerateDirectories(_root).Select(ParseZoneFolder).OfType<ZoneFolder>().ToList()
            : [];
        if (folders.Count == 0)
        {
            return Discovery.Unusable(
                $"no {_root}/intel-rapl zones (not Linux, a VM, or the intel_rapl_common / rapl kernel module not loaded)",
                _isX86 ? "sudo modprobe intel_rapl_common" : null);
        }

        // Numeric order, so intel-rapl:10 follows intel-rapl:2 and channels keep their package order.
        folders.Sort(CompareFolders);
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var folder in folders)
        {
            if (TryRead(Path.Combine(folder.Path, "name")) is { } name)
            {
                names[folder.Id] = name.Trim();
            }
        }

        var chosen = new List<(EnergyChannel Channel, ZoneFolder Folder)>();
        var psys = new List<ZoneFolder>();
        var leftOut = new List<string>();
        var controls = new[] { MsrControl, MmioControl };
        foreach (var control in controls)
        {
            var topLevelDrams = 0;
            foreach (var folder in folders.Where(f => f.Control == control))
            {
                if (!names.TryGetValue(folder.Id, out var name))
                {
                    leftOut.Add($"{folder.Id} (name unreadable)");
                    continue;
                }

                var channel = ClassifyZone(folder, name, names, ref topLevelDrams);
                if (channel is null)
                {
                    if (name == "psys")
                    {
                        psys.Add(folder);
                    }
                    else if (folder.Indices.Length == 1)
                    {
                        leftOut.Add($"{name} ({folder.Id}) left out, unknown zone");
                    }

                    // Core, uncore and other subzones are inside their package: adding them would count twice.
                    continue;
                }

                // intel-rapl-mmio reaches the same package counter through another interface on some Intel parts.
                if (chosen.Any(c => c.Channel.Name == channel.Name))
                {
                    leftOut.Add($"{channel.Name} of {control} left out (same zone as {MsrControl})");
                    continue;
                }

                chosen.Add((channel, folder));
            }
        }

        if (psys.Count > 0)
        {
            if (chosen.Any(c => c.Channel.Domain == EnergyDomain.Package))
            {
                leftOut.Add("psys left out (it covers the packages too)");
            }
            else
            {
                // Without package zones psys is the only figure and counts nothing twice.
                chosen.Add((new EnergyChannel("psys", EnergyDomain.System), psys[0]));
            }
        }

        if (chosen.Count == 0)
        {
            var seen = string.Join(", ", folders.Select(f => names.TryGetValue(f.Id, out var n) ? $"{n} ({f.Id})" : f.Id));
            return Discovery.Unusable($"no package, DRAM or psys zone among {seen}", null);
        }

        var zonesFound = DescribeChosen(chosen, leftOut);
        var zones = ImmutableArray.CreateBuilder<RaplZone>(chosen.Count);
        foreach (var (channel, folder) in chosen)
        {
            var zone = ReadZone(channel, folder, zonesFound, chosen);
            if (zone.Failure is not null)
            {
                return zone.Failure;
            }

            zones.Add(zone.Zone!);
        }

        return new Discovery(zones.MoveToImmutable(), zonesFound, null);
    }

    private static EnergyChannel? ClassifyZone(ZoneFolder folder, string name, Dictionary<string, string> names, ref int topLevelDrams)
    {
        if (folder.Indices.Length == 1)
        {
            // package-N, or package-N-die-M on multi-die parts where each die has its own counter.
            if (name.StartsWith("package-", StringComparison.Ordinal))
            {
                return new EnergyChannel(name, EnergyDomain.Package);
            }

            if (name == "dram")
            {
                return new EnergyChannel($"dram-{topLevelDrams++}", EnergyDomain.Dram);
            }

            return null;
        }

        if (folder.Indices.Length == 2 && name == "dram")
        {
            var parentId = $"{folder.Control}:{folder.Indices[0]}";
            var suffix = names.TryGetValue(parentId, out var parent) && parent.StartsWith("package-", StringComparison.Ordinal)
                ? parent["package-".Length..]
                : folder.Indices[0].ToString(CultureInfo.InvariantCulture);
            return new EnergyChannel($"dram-{suffix}", EnergyDomain.Dram);
        }

        return null;
    }

    private static string DescribeChosen(List<(EnergyChannel Channel, ZoneFolder Folder)> chosen, List<string> leftOut)
    {
        var groups = chosen
            .GroupBy(c => c.Folder.Control, StringComparer.Ordinal)
            .Select(g => $"{string.Join(", ", g.Select(c => c.Channel.Name))} ({g.Key})");
        return string.Join("; ", groups.Concat(leftOut));
    }

    private (RaplZone? Zone, Discovery? Failure) ReadZone(
        EnergyChannel channel, ZoneFolder folder, string zonesFound, List<(EnergyChannel Channel, ZoneFolder Folder)> chosen)
    {
        var energyPath = Path.Combine(folder.Path, "energy_uj");
        var rangePath = Path.Combine(folder.Path, "max_energy_range_uj");
        try
        {
            var range = ParseMicro(rangePath, _readFile(rangePath));
            if (range <= 0)
            {
                return (null, Discovery.Unusable($"{rangePath} is {range}, not a positive wrap point; zones: {zonesFound}", null));
            }

            _ = ParseMicro(energyPath, _readFile(energyPath));

            // Best effort: the limit only sharpens the read interval, and many zones (DRAM, AMD) have none.
            var limitPath = Path.Combine(folder.Path, "constraint_0_max_power_uw");
            var limitWatts = TryRead(limitPath) is { } limitText
                && long.TryParse(limitText.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var limit)
                    ? limit / 1e6
                    : 0;
            return (new RaplZone(channel, energyPath, range, limitWatts), null);
        }
        catch (UnauthorizedAccessException)
        {
            // Linux 5.10 made energy_uj mode 0400 after the PLATYPUS power side channel (CVE-2020-8694).
            var patterns = string.Join(
                " ",
                chosen.Select(c => c.Folder.Control).Distinct(StringComparer.Ordinal).Select(c => $"{_root}/{c}:*/energy_uj"));
            return (null, Discovery.Unusable(
                $"{energyPath} is readable by root only (Linux 5.10 and later, CVE-2020-8694); zones: {zonesFound}",
                $"sudo chmod o+r {patterns} (lasts until reboot; to keep it, add a udev rule such as "
                + "ACTION==\"add\", SUBSYSTEM==\"powercap\", RUN+=\"/bin/chmod o+r /sys%p/energy_uj\" "
                + "to /etc/udev/rules.d/99-rapl.rules)"));
        }
        catch (Exception ex) when (ex is IOException or EnergyMeterException)
        {
            return (null, Discovery.Unusable($"{ex.Message}; zones: {zonesFound}", null));
        }
    }

    private string? TryRead(string path)
    {
        try
        {
            return _readFile(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    internal static long ParseMicro(string path, string text) =>
        long.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new EnergyMeterException($"{path} holds '{text.Trim()}', not a whole number of microjoules");

    private static ZoneFolder? ParseZoneFolder(string path)
    {
        var id = Path.GetFileName(path);
        var parts = id.Split(':');
        if (parts.Length < 2 || parts[0] is not (MsrControl or MmioControl))
        {
            return null;
        }

        var indices = new int[parts.Length - 1];
        for (var i = 1; i < parts.Length; i++)
        {
            if (!int.TryParse(parts[i], NumberStyles.None, CultureInfo.InvariantCulture, out indices[i - 1]))
            {
                return null;
            }
        }

        return new ZoneFolder(id, parts[0], [.. indices], path);
    }

    private static int CompareFolders(ZoneFolder a, ZoneFolder b)
    {
        for (var i = 0; i < Math.Min(a.Indices.Length, b.Indices.Length); i++)
        {
            var byIndex = a.Indices[i].CompareTo(b.Indices[i]);
            if (byIndex != 0)
            {
                return byIndex;
            }
        }

        return a.Indices.Length.CompareTo(b.Indices.Length);
    }

    private sealed record ZoneFolder(string Id, string Control, ImmutableArray<int> Indices, string Path);

    /// <summary>What discovery found: zones to count, or none and why (with a remedy when one is known).</summary>
    private sealed record Discovery(ImmutableArray<RaplZone>? Zones, string Detail, string? Remedy)
    {
        public static Discovery Unusable(string detail, string? remedy) => new(null, detail, remedy);
    }
}

/// <summary>One counted zone: its channel, its energy_uj file, the value it wraps at and its configured power limit.</summary>
internal sealed record RaplZone(EnergyChannel Channel, string EnergyPath, long RangeMicrojoules, double LimitWatts);
