using System.Globalization;
using Harness.Core.Energy;
using Harness.Energy.PowerStates;
using Harness.Tests.Models;

// Not "Harness.Tests.Energy.Environment": that namespace would shadow System.Environment in every test under Harness.Tests.Energy.
namespace Harness.Tests.Energy.PowerStates;

public sealed class LinuxPowerStateProbeTests : IDisposable
{
    private readonly TempFolder _sys = new();

    public void Dispose() => _sys.Dispose();

    private PowerState Read() => new LinuxPowerStateProbe(_sys.Path).Read();

    private void Supply(string name, string type, params (string File, string Text)[] files)
    {
        _sys.Write($"class/power_supply/{name}/type", type + "\n");
        foreach (var (file, text) in files)
        {
            _sys.Write($"class/power_supply/{name}/{file}", text + "\n");
        }
    }

    private void Cpu(int n, string? governor = null, long? core = null, long? package = null, int? packageId = null)
    {
        var cpu = $"devices/system/cpu/cpu{n}";
        if (governor is not null)
        {
            _sys.Write($"{cpu}/cpufreq/scaling_governor", governor + "\n");
        }

        if (core is not null)
        {
            _sys.Write($"{cpu}/thermal_throttle/core_throttle_count", $"{core}\n");
        }

        if (package is not null)
        {
            _sys.Write($"{cpu}/thermal_throttle/package_throttle_count", $"{package}\n");
        }

        if (packageId is not null)
        {
            _sys.Write($"{cpu}/topology/physical_package_id", $"{packageId}\n");
        }
    }

    private void ThermalZone(int n, string type, long millidegrees, params (string Type, long Millidegrees)[] trips)
    {
        var zone = $"class/thermal/thermal_zone{n}";
        _sys.Write($"{zone}/type", type + "\n");
        _sys.Write($"{zone}/temp", $"{millidegrees}\n");
        for (var i = 0; i < trips.Length; i++)
        {
            _sys.Write($"{zone}/trip_point_{i}_type", trips[i].Type + "\n");
            _sys.Write($"{zone}/trip_point_{i}_temp", $"{trips[i].Millidegrees}\n");
        }
    }

    [Fact]
    public void Laptop_on_ac_is_ac_with_its_battery_charge()
    {
        Supply("AC", "Mains", ("online", "1"));
        Supply("BAT0", "Battery", ("status", "Charging"), ("capacity", "87"));
        Supply("ucsi-source-psy-USBC000:001", "USB", ("online", "0"));

        var state = Read();

        Assert.Equal(PowerSource.Ac, state.PowerSource);
        Assert.Equal(87, state.BatteryPercent);
    }

    [Fact]
    public void Laptop_discharging_is_on_battery_at_its_capacity()
    {
        Supply("ADP1", "Mains", ("online", "0"));
        Supply("BAT0", "Battery", ("status", "Discharging"), ("capacity", "43"));

        var state = Read();

        Assert.Equal(PowerSource.Battery, state.PowerSource);
        Assert.Equal(43, state.BatteryPercent);
    }

    [Fact]
    public void Offline_mains_means_battery_even_when_the_battery_does_not_say_discharging()
    {
        Supply("AC", "Mains", ("online", "0"));
        Supply("BAT0", "Battery", ("status", "Unknown"), ("capacity", "60"));

        Assert.Equal(PowerSource.Battery, Read().PowerSource);
    }

    [Fact]
    public void An_online_usb_supply_is_not_mains()
    {
        Supply("ucsi-source-psy-USBC000:001", "USB", ("online", "1"));

        Assert.Equal(PowerSource.Unknown, Read().PowerSource);
    }

    [Fact]
    public void Two_batteries_are_weighted_by_stored_energy_and_a_mouse_battery_is_ignored()
    {
        Supply("AC", "Mains", ("online", "0"));
        Supply("BAT0", "Battery", ("status", "Discharging"), ("capacity", "50"), ("energy_now", "20000000"), ("energy_full", "40000000"));
        Supply("BAT1", "Battery", ("status", "Discharging"), ("capacity", "100"), ("energy_now", "10000000"), ("energy_full", "10000000"));
        Supply("hidpp_battery_0", "Battery", ("scope", "Device"), ("status", "Discharging"), ("capacity", "5"));

        // (20 + 10) / (40 + 10) Wh, not the mean of 50 % and 100 %.
        Assert.Equal(60, Read().BatteryPercent);
    }

    [Fact]
    public void Batteries_without_energy_files_give_the_mean_capacity()
    {
        Supply("BAT0", "Battery", ("status", "Discharging"), ("capacity", "40"));
        Supply("BAT1", "Battery", ("status", "Discharging"), ("capacity", "45"));

        Assert.Equal(42.5, Read().BatteryPercent);
    }

    [Fact]
    public void Desktop_without_power_supplies_is_unknown_without_a_battery()
    {
        _sys.Write("class/power_supply/.keep", string.Empty);
        Cpu(0, governor: "performance");

        var state = Read();

        Assert.Equal(PowerSource.Unknown, state.PowerSource);
        Assert.Null(state.BatteryPercent);
    }

    [Fact]
    public void Cores_that_agree_give_one_governor()
    {
        for (var n = 0; n < 4; n++)
        {
            Cpu(n, governor: "schedutil");
        }

        Assert.Equal("schedutil", Read().CpuGovernor);
    }

    [Fact]
    public void Mixed_governors_are_counted_most_common_first_then_by_name()
    {
        for (var n = 0; n < 6; n++)
        {
            Cpu(n, governor: "powersave");
        }

        Cpu(6, governor: "performance");
        Cpu(7, governor: "performance");
        Cpu(8, governor: "conservative");
        Cpu(9, governor: "userspace");
        _sys.Write("devices/system/cpu/cpufreq/policy0/scaling_governor", "ondemand\n");

        Assert.Equal("powersave x6, performance x2, conservative x1, userspace x1", Read().CpuGovernor);
    }

    [Fact]
    public void Throttle_counts_sum_cores_and_count_each_package_once()
    {
        // Two packages of two cores; each package's count is repeated on both of its cores.
        Cpu(0, core: 3, package: 10, packageId: 0);
        Cpu(1, core: 4, package: 10, packageId: 0);
        Cpu(2, core: 0, package: 7, packageId: 1);
        Cpu(3, core: 1, package: 7, packageId: 1);

        Assert.Equal(3 + 4 + 0 + 1 + 10 + 7, Read().ThrottleEvents);
    }

    [Fact]
    public void Throttle_counts_without_topology_take_the_largest_package_count()
    {
        Cpu(0, core: 2, package: 5);
        Cpu(1, core: 1, package: 6);

        Assert.Equal(2 + 1 + 6, Read().ThrottleEvents);
    }

    [Fact]
    public void A_zone_at_or_over_its_passive_trip_is_named_with_the_trip()
    {
        ThermalZone(0, "acpitz", 45000, ("critical", 105000));
        ThermalZone(1, "x86_pkg_temp", 91000, ("passive", 90000), ("critical", 100000));

        Assert.Equal("x86_pkg_temp 91 C over passive trip 90 C", Read().ThermalState);
    }

    [Fact]
    public void Zones_under_their_trips_report_the_hottest()
    {
        ThermalZone(0, "acpitz", 27800, ("critical", 105000));
        ThermalZone(1, "x86_pkg_temp", 54000, ("passive", 0), ("passive", 90000));
        ThermalZone(2, "iwlwifi_1", 41000);

        Assert.Equal("no zone over a passive trip point (hottest: x86_pkg_temp 54 C)", Read().ThermalState);
    }

    [Fact]
    public void A_zone_whose_temperature_cannot_be_read_is_skipped()
    {
        _sys.Write("class/thermal/thermal_zone0/type", "iwlwifi_1\n");
        _sys.Write("class/thermal/thermal_zone0/temp", "\n");
        ThermalZone(1, "x86_pkg_temp", 48500, ("passive", 90000));

        Assert.Equal("no zone over a passive trip point (hottest: x86_pkg_temp 48.5 C)", Read().ThermalState);
    }

    [Fact]
    public void Temperatures_keep_a_decimal_point_under_a_decimal_comma_culture()
    {
        ThermalZone(0, "x86_pkg_temp", 90500, ("passive", 90000));
        var culture = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            Assert.Equal("x86_pkg_temp 90.5 C over passive trip 90 C", Read().ThermalState);
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }
    }

    [Fact]
    public void An_empty_tree_is_unknown_everywhere()
    {
        Assert.Equal(new PowerState(PowerSource.Unknown, null, null, null, null), Read());
    }

    [Fact]
    public void A_missing_root_is_unknown_everywhere()
    {
        var state = new LinuxPowerStateProbe(Path.Combine(_sys.Path, "absent")).Read();

        Assert.Equal(new PowerState(PowerSource.Unknown, null, null, null, null), state);
    }
}
