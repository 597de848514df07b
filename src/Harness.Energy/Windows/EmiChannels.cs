using System.Collections.Immutable;
using Harness.Core.Energy;

namespace Harness.Energy.Windows;

/// <summary>A channel of one device: counted, or left out with the reason.</summary>
/// <param name="Device">Index into the devices found.</param>
/// <param name="Index">The channel's index in the device's metadata and measurements.</param>
internal sealed record EmiChannelChoice(int Device, int Index, string Name, EnergyDomain? Domain, string? LeftOutBecause)
{
    public bool Counted => LeftOutBecause is null;
}

/// <summary>
/// Picks channels that do not overlap. RAPL nests its domains: cores (PP0) and, on client parts, the integrated GPU
/// (PP1) are inside the package, and PSYS covers the whole platform, so adding them up would count energy twice.
/// </summary>
internal static class EmiChannels
{
    /// <summary>The domain a channel name denotes, from its tokens (<c>RAPL_Package0_PKG</c> gives Package); null when unknown.</summary>
    public static EnergyDomain? DomainOf(string name)
    {
        // Tokens rather than substrings: "RAPL_Package0_DRAM" contains "Package" but is memory.
        var tokens = name.ToUpperInvariant().Split(['_', ' ', '-', '.'], StringSplitOptions.RemoveEmptyEntries);
        if (tokens.Contains("PSYS"))
        {
            return EnergyDomain.System;
        }

        if (tokens.Contains("PKG") || tokens.Contains("PACKAGE"))
        {
            return EnergyDomain.Package;
        }

        if (tokens.Contains("DRAM"))
        {
            return EnergyDomain.Dram;
        }

        if (tokens.Contains("PP0") || tokens.Contains("CORE") || tokens.Contains("CORES"))
        {
            return EnergyDomain.Cpu;
        }

        return tokens.Contains("PP1") || tokens.Contains("GPU") ? EnergyDomain.Gpu : null;
    }

    /// <param name="channels">Per device, its metadata channels in order.</param>
    public static ImmutableArray<EmiChannelChoice> Choose(IReadOnlyList<ImmutableArray<EmiChannelInfo>> channels)
    {
        var all = channels
            .SelectMany((device, d) => device.Select((c, i) => (Device: d, Index: i, c.Name, c.Unit, Domain: DomainOf(c.Name))))
            .ToList();
        var known = all.Where(c => c.Unit == EmiLayout.UnitPicowattHours && c.Domain is not null).ToList();
        var hasPackage = known.Any(c => c.Domain == EnergyDomain.Package);
        var hasSystem = known.Any(c => c.Domain == EnergyDomain.System);

        return [.. all.Select(c => new EmiChannelChoice(c.Device, c.Index, c.Name, c.Domain, LeftOutBecause(c.Unit, c.Domain)))];

        string? LeftOutBecause(uint unit, EnergyDomain? domain)
        {
            if (unit != EmiLayout.UnitPicowattHours)
            {
                return $"unknown measurement unit {unit}";
            }

            return domain switch
            {
                null => "unknown domain",
                EnergyDomain.Package or EnergyDomain.Dram when hasPackage => null,
                EnergyDomain.Cpu or EnergyDomain.Gpu when hasPackage => "inside the package",
                EnergyDomain.System when hasPackage => "covers the packages",
                EnergyDomain.System => null,
                _ when hasSystem => "inside the platform total (PSYS)",
                _ => null,
            };
        }
    }
}
