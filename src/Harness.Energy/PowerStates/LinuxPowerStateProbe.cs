using System.Globalization;
using Harness.Core.Energy;

namespace Harness.Energy.PowerStates;

/// <summary>
/// Reads AC or battery, battery charge, cpufreq governor, thermal throttle counts and thermal zones from Linux sysfs.
/// Each fact is read on its own, so one unreadable file leaves only that fact null.
/// </summary>
public sealed class LinuxPowerStateProbe(string sysRoot = "/sys") : IPowerStateProbe
{
    /// <inheritdoc/>
    public PowerState Read()
    {
        var (source, percent) = Guard(ReadSupplies, (PowerSource.Unknown, (double?)null));
        return new PowerState(
            source,
            percent,
            Guard(ReadGovernor, null),
            Guard(ReadThrottleEvents, null),
            Guard(ReadThermalState, null));
    }

    private (PowerSource Source, double? BatteryPercent) ReadSupplies()
    {
        var mains = new List<bool>();
        var batteries = new List<Battery>();
        foreach (var supply in Children(Path.Combine(sysRoot, "class", "power_supply"), "*"))
        {
            // USB supplies (a USB-C charger, a phone) are not the mains adapter, even when online.
            switch (ReadText(supply, "type"))
            {
                case "Mains":
                    mains.Add(ReadText(supply, "online") == "1");
                    break;

                // scope "Device" marks a peripheral's battery (a mouse, a headset), not the machine's.
                case "Battery" when ReadText(supply, "scope") != "Device":
                    batteries.Add(new Battery(
                        ReadText(supply, "status"),
                        ReadNumber(supply, "capacity"),
                        ReadNumber(supply, "energy_now") ?? ReadNumber(supply, "charge_now"),
                        ReadNumber(supply, "energy_full") ?? ReadNumber(supply, "charge_full")));
                    break;
            }
        }

        var source = mains.Contains(true) ? PowerSource.Ac
            : batteries.Any(b => b.Status == "Discharging") ? PowerSource.Battery
            : mains.Count > 0 && batteries.Count > 0 ? PowerSource.Battery
            : batteries.Any(b => b.Status == "Charging") ? PowerSource.Ac
            : PowerSource.Unknown;
        return (source, BatteryPercent(batteries));
    }

    // Weighted by stored energy when every battery reports it, so a small second battery does not count as much as the
    // main one; otherwise the plain mean of the capacity files.
    private static double? BatteryPercent(List<Battery> batteries)
    {
        if (batteries.Count > 0 && batteries.All(b => b.Now is not null && b.Full > 0))
        {
            return Math.Round(100.0 * batteries.Sum(b => b.Now!.Value) / batteries.Sum(b => b.Full!.Value), 1);
        }

        var capacities = batteries.Where(b => b.Capacity is not null).Select(b => (double)b.Capacity!.Value).ToList();
        return capacities.Count > 0 ? Math.Round(capacities.Average(), 1) : null;
    }

    private string? ReadGovernor()
    {
        var counts = Cpus()
            .Select(cpu => ReadText(cpu, "cpufreq/scaling_governor"))
            .OfType<string>()
            .GroupBy(g => g, StringComparer.Ordinal)
            .Select(g => (Governor: g.Key, Count: g.Count()))
            .OrderByDescending(g => g.Count)
            .ThenBy(g => g.Governor, StringComparer.Ordinal)
            .ToList();
        return counts.Count switch
        {
            0 => null,
            1 => counts[0].Governor,
            _ => string.Join(", ", counts.Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Governor} x{g.Count}"))),
        };
    }

    private long? ReadThrottleEvents()
    {
        long? coreTotal = null;

        // The package count is repeated in every core of the package, so keep one per physical package.
        var packages = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var cpu in Cpus())
        {
            if (ReadNumber(cpu, "thermal_throttle/core_throttle_count") is { } core)
            {
                coreTotal = (coreTotal ?? 0) + core;
            }

            if (ReadNumber(cpu, "thermal_throttle/package_throttle_count") is { } package)
            {
                // Without topology the cores cannot be grouped: the largest count is the least wrong single package.
                var id = ReadText(cpu, "topology/physical_package_id") ?? string.Empty;
                packages[id] = Math.Max(packages.GetValueOrDefault(id), package);
            }
        }

        return coreTotal is null && packages.Count == 0 ? null : (coreTotal ?? 0) + packages.Values.Sum();
    }

    private string? ReadThermalState()
    {
        var zones = new List<ThermalZone>();
        foreach (var zone in Children(Path.Combine(sysRoot, "class", "thermal"), "thermal_zone*"))
        {
            // Some zones (an unplugged sensor, an ACPI stub) fail to read their temperature: skip them.
            if (ReadNumber(zone, "temp") is not { } temp)
            {
                continue;
            }

            var type = ReadText(zone, "type") ?? Path.GetFileName(zone);
            zones.Add(new ThermalZone(type, temp, LowestTrip(zone, "passive"), LowestTrip(zone, "critical")));
        }

        if (zones.Count == 0)
        {
            return null;
        }

        var over = zones
            .Select(z => z.Critical is { } c && z.Temp >= c ? $"{z.Type} {Celsius(z.Temp)} C over critical trip {Celsius(c)} C"
                : z.Passive is { } p && z.Temp >= p ? $"{z.Type} {Celsius(z.Temp)} C over passive trip {Celsius(p)} C"
                : null)
            .OfType<string>()
            .ToList();
        if (over.Count > 0)
        {
            return string.Join("; ", over);
        }

        var hottest = zones.MaxBy(z => z.Temp)!;
        return $"no zone over a passive trip point (hottest: {hottest.Type} {Celsius(hottest.Temp)} C)";
    }

    // Firmware fills unused trip points with 0 or negative values; those are not limits.
    private static long? LowestTrip(string zone, string kind)
    {
        long? lowest = null;
        foreach (var typeFile in Children(zone, "trip_point_*_type", files: true))
        {
            if (ReadFile(typeFile) == kind
                && ReadFile(typeFile[..^"_type".Length] + "_temp") is { } text
                && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var temp)
                && temp > 0)
            {
                lowest = Math.Min(lowest ?? long.MaxValue, temp);
            }
        }

        return lowest;
    }

    private static string Celsius(long millidegrees) =>
        (millidegrees / 1000.0).ToString("0.#", CultureInfo.InvariantCulture);

    private IEnumerable<string> Cpus() =>
        Children(Path.Combine(sysRoot, "devices", "system", "cpu"), "cpu*")
            .Where(p => Path.GetFileName(p)["cpu".Length..] is { Length: > 0 } n && n.All(char.IsAsciiDigit));

    private static IEnumerable<string> Children(string folder, string pattern, bool files = false)
    {
        if (!Directory.Exists(folder))
        {
            return [];
        }

        var found = files ? Directory.GetFiles(folder, pattern) : Directory.GetDirectories(folder, pattern);
        Array.Sort(found, StringComparer.Ordinal);
        return found;
    }

    private static string? ReadText(string folder, string relative) => ReadFile(Path.Combine(folder, relative));

    private static long? ReadNumber(string folder, string relative) =>
        long.TryParse(ReadText(folder, relative), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    private static string? ReadFile(string path)
    {
        try
        {
            return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    // Read promises never to throw: a folder that vanishes or denies listing mid-read costs only its own fact.
    private static T Guard<T>(Func<T> read, T unknown)
    {
        try
        {
            return read();
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return unknown;
        }
    }

    private sealed record Battery(string? Status, long? Capacity, long? Now, long? Full);

    private sealed record ThermalZone(string Type, long Temp, long? Passive, long? Critical);
}
