using System.Globalization;
using Harness.Core.Energy;
using Harness.Energy.Rapl;
using Harness.Tests.Models;

namespace Harness.Tests.Energy.Rapl;

public sealed class RaplMeterTests : IDisposable
{
    // 2^32 units of 61 µJ, as an Intel client package reports it.
    private const long IntelRange = 262143328850;

    private readonly TempFolder _tree = new();

    public void Dispose() => _tree.Dispose();

    private RaplMeter Meter(Func<string, string>? readFile = null) => new(_tree.Path, readFile ?? File.ReadAllText);

    private void Zone(string id, string name, long energy = 0, long range = IntelRange, long? limitMicrowatts = null)
    {
        _tree.Write($"{id}/name", name + "\n");
        _tree.Write($"{id}/energy_uj", energy.ToString(CultureInfo.InvariantCulture) + "\n");
        _tree.Write($"{id}/max_energy_range_uj", range.ToString(CultureInfo.InvariantCulture) + "\n");
        _tree.Write($"{id}/enabled", "1\n");
        if (limitMicrowatts is { } limit)
        {
            _tree.Write($"{id}/constraint_0_max_power_uw", limit.ToString(CultureInfo.InvariantCulture) + "\n");
        }
    }

    private void SetEnergy(string id, long microjoules) =>
        _tree.Write($"{id}/energy_uj", microjoules.ToString(CultureInfo.InvariantCulture) + "\n");

    private static string[] Names(IEnergyCounter counter) => [.. counter.Channels.Select(c => c.Name)];

    [Fact]
    public void Single_package_with_dram_gives_a_package_and_a_dram_channel()
    {
        Zone("intel-rapl:0", "package-0");
        Zone("intel-rapl:0:0", "core");
        Zone("intel-rapl:0:1", "uncore");
        Zone("intel-rapl:0:2", "dram");

        var probe = Meter().Probe();
        using var counter = Meter().Open();

        Assert.True(probe.Usable);
        Assert.Equal("rapl", probe.Source);
        Assert.Equal(EnergyQuality.Measured, probe.Quality);
        Assert.Equal(61e-6, probe.ResolutionJoules);
        Assert.Equal(TimeSpan.FromMilliseconds(1), probe.UpdateInterval);
        Assert.Null(probe.Remedy);
        Assert.Equal("package-0, dram-0 (intel-rapl)", probe.Detail);
        Assert.Equal(
            [new EnergyChannel("package-0", EnergyDomain.Package), new EnergyChannel("dram-0", EnergyDomain.Dram)],
            counter.Channels.AsEnumerable());
    }

    [Fact]
    public void Zones_reached_through_symbolic_links_as_in_sysfs_are_found()
    {
        // Creating links on Windows needs a privilege the runner may lack; sysfs itself is Linux only.
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var real = Path.Combine(_tree.Path, "devices", "intel-rapl");
        var powercap = Path.Combine(_tree.Path, "class", "powercap");
        Directory.CreateDirectory(powercap);
        foreach (var (id, name) in new[] { ("intel-rapl:0", "package-0"), ("intel-rapl:0:2", "dram") })
        {
            _tree.Write($"devices/intel-rapl/{id}/name", name);
            _tree.Write($"devices/intel-rapl/{id}/energy_uj", "1000");
            _tree.Write($"devices/intel-rapl/{id}/max_energy_range_uj", "262143328850");
            Directory.CreateSymbolicLink(Path.Combine(powercap, id), Path.Combine(real, id));
        }

        using var counter = new RaplMeter(powercap, File.ReadAllText).Open();

        Assert.Equal(["package-0", "dram-0"], Names(counter));
    }

    [Fact]
    public void Two_packages_are_counted_in_numeric_zone_order_with_their_drams()
    {
        Zone("intel-rapl:1", "package-1");
        Zone("intel-rapl:1:0", "dram");
        Zone("intel-rapl:0", "package-0");
        Zone("intel-rapl:0:0", "dram");

        using var counter = Meter().Open();

        Assert.Equal(["package-0", "dram-0", "package-1", "dram-1"], Names(counter));
    }

    [Fact]
    public void Each_die_of_a_multi_die_package_is_its_own_channel()
    {
        Zone("intel-rapl:0", "package-0-die-0");
        Zone("intel-rapl:1", "package-0-die-1");
        Zone("intel-rapl:0:0", "dram");

        using var counter = Meter().Open();

        Assert.Equal(["package-0-die-0", "dram-0-die-0", "package-0-die-1"], Names(counter));
        Assert.All(counter.Channels.Where(c => c.Name.StartsWith("package", StringComparison.Ordinal)), c => Assert.Equal(EnergyDomain.Package, c.Domain));
    }

    [Fact]
    public void A_package_also_exposed_through_mmio_is_counted_once_from_the_msr_zone()
    {
        Zone("intel-rapl-mmio:0", "package-0", energy: 7_000_000);
        Zone("intel-rapl:0", "package-0", energy: 1_000_000);
        var meter = Meter();

        var probe = meter.Probe();
        using var counter = meter.Open();
        SetEnergy("intel-rapl:0", 3_000_000);
        SetEnergy("intel-rapl-mmio:0", 9_000_000);

        Assert.Equal(["package-0"], Names(counter));
        Assert.Equal([2.0], counter.Read().AsEnumerable());
        Assert.Equal("package-0 (intel-rapl); package-0 of intel-rapl-mmio left out (same zone as intel-rapl)", probe.Detail);
    }

    [Fact]
    public void Core_uncore_and_psys_are_never_counted_with_the_packages()
    {
        Zone("intel-rapl:0", "package-0");
        Zone("intel-rapl:0:0", "core");
        Zone("intel-rapl:0:1", "uncore");
        Zone("intel-rapl:1", "psys");

        var probe = Meter().Probe();
        using var counter = Meter().Open();

        Assert.Equal(["package-0"], Names(counter));
        Assert.Equal("package-0 (intel-rapl); psys left out (it covers the packages too)", probe.Detail);
    }

    [Fact]
    public void Psys_without_any_package_zone_is_counted_as_the_system()
    {
        Zone("intel-rapl:0", "psys");

        using var counter = Meter().Open();

        Assert.Equal([new EnergyChannel("psys", EnergyDomain.System)], counter.Channels.AsEnumerable());
    }

    [Fact]
    public void Amd_package_zones_without_dram_are_counted()
    {
        Zone("intel-rapl:0", "package-0", range: 65_532_610_987);
        Zone("intel-rapl:1", "package-1", range: 65_532_610_987);

        using var counter = Meter().Open();

        Assert.Equal(["package-0", "package-1"], Names(counter));
    }

    [Fact]
    public void Read_gives_joules_since_open_per_channel()
    {
        Zone("intel-rapl:0", "package-0", energy: 5_000_000);
        Zone("intel-rapl:0:0", "dram", energy: 100);
        using var counter = Meter().Open();

        SetEnergy("intel-rapl:0", 17_500_000);
        SetEnergy("intel-rapl:0:0", 250_100);
        var first = counter.Read();
        var again = counter.Read();

        Assert.Equal([12.5, 0.25], first.AsEnumerable());
        Assert.Equal(first.AsEnumerable(), again.AsEnumerable());
    }

    [Fact]
    public void A_counter_that_wraps_between_two_reads_counts_the_step_across_the_wrap()
    {
        Zone("intel-rapl:0", "package-0", energy: 900_000, range: 1_000_000);
        using var counter = Meter().Open();

        SetEnergy("intel-rapl:0", 100_000);

        Assert.Equal(0.2, counter.Read()[0], precision: 9);
    }

    [Fact]
    public void Several_wraps_over_several_reads_are_each_counted()
    {
        Zone("intel-rapl:0", "package-0", energy: 900_000, range: 1_000_000);
        using var counter = Meter().Open();
        var totals = new List<double>();

        foreach (var energy in new long[] { 200_000, 800_000, 100_000, 50_000, 50_000 })
        {
            SetEnergy("intel-rapl:0", energy);
            totals.Add(counter.Read()[0]);
        }

        // +0.3 (wrap), +0.6, +0.3 (wrap), +0.95 (wrap), +0.
        Assert.Equal([0.3, 0.9, 1.2, 2.15, 2.15], totals.Select(t => Math.Round(t, 9)));
    }

    [Fact]
    public void Max_read_interval_is_a_quarter_of_the_shortest_wrap_at_500_watts()
    {
        // 400 J wrap at 500 W lasts 0.8 s; a quarter of it is 0.2 s.
        Zone("intel-rapl:0", "package-0", range: 400_000_000);
        Zone("intel-rapl:0:0", "dram", range: IntelRange);

        using var counter = Meter().Open();

        Assert.Equal(TimeSpan.FromSeconds(0.2), counter.MaxReadInterval);
    }

    [Fact]
    public void Max_read_interval_is_shortened_by_a_power_limit_above_500_watts_but_never_lengthened_by_a_lower_one()
    {
        Zone("intel-rapl:0", "package-0", range: 400_000_000, limitMicrowatts: 1_000_000_000);
        Zone("intel-rapl:1", "package-1", range: 400_000_000, limitMicrowatts: 15_000_000);

        using var counter = Meter().Open();

        // 400 J at 1000 W wraps in 0.4 s; the 15 W limit of package-1 is PL1, not its peak, so 500 W still holds there.
        Assert.Equal(TimeSpan.FromSeconds(0.1), counter.MaxReadInterval);
    }

    [Fact]
    public void Max_read_interval_is_capped_at_one_second()
    {
        Zone("intel-rapl:0", "package-0", range: IntelRange);

        using var counter = Meter().Open();

        Assert.Equal(TimeSpan.FromSeconds(1), counter.MaxReadInterval);
    }

    [Fact]
    public void Energy_readable_by_root_only_makes_the_probe_unusable_with_a_chmod_remedy()
    {
        Zone("intel-rapl:0", "package-0");
        Zone("intel-rapl:0:2", "dram");
        var meter = Meter(RootOnlyEnergy);

        var probe = meter.Probe();

        Assert.False(probe.Usable);
        Assert.Contains(Path.Combine(_tree.Path, "intel-rapl:0", "energy_uj"), probe.Detail, StringComparison.Ordinal);
        Assert.Contains("readable by root only", probe.Detail, StringComparison.Ordinal);
        Assert.Contains("package-0, dram-0 (intel-rapl)", probe.Detail, StringComparison.Ordinal);
        Assert.NotNull(probe.Remedy);
        Assert.StartsWith($"sudo chmod o+r {_tree.Path}/intel-rapl:*/energy_uj", probe.Remedy, StringComparison.Ordinal);
        Assert.Contains("udev", probe.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_when_energy_is_root_only_throws_naming_the_file()
    {
        Zone("intel-rapl:0", "package-0");

        var error = Assert.Throws<EnergyMeterException>(() => Meter(RootOnlyEnergy).Open());

        Assert.Contains(Path.Combine(_tree.Path, "intel-rapl:0", "energy_uj"), error.Message, StringComparison.Ordinal);
        Assert.Contains("root only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_that_fails_after_open_throws_naming_the_file()
    {
        Zone("intel-rapl:0", "package-0");
        var denied = false;
        using var counter = Meter(path => denied ? RootOnlyEnergy(path) : File.ReadAllText(path)).Open();

        denied = true;
        var error = Assert.Throws<EnergyMeterException>(() => counter.Read());

        Assert.Contains(Path.Combine(_tree.Path, "intel-rapl:0", "energy_uj"), error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_powercap_folder_is_unusable_with_a_modprobe_remedy_on_x86_only()
    {
        var missing = Path.Combine(_tree.Path, "powercap");

        var x86 = new RaplMeter(missing, File.ReadAllText, isLinux: true, isX86: true).Probe();
        var arm = new RaplMeter(missing, File.ReadAllText, isLinux: true, isX86: false).Probe();

        Assert.False(x86.Usable);
        Assert.Equal($"no {missing}/intel-rapl zones (not Linux, a VM, or the intel_rapl_common / rapl kernel module not loaded)", x86.Detail);
        Assert.Equal("sudo modprobe intel_rapl_common", x86.Remedy);
        Assert.Null(arm.Remedy);
    }

    [Fact]
    public void Open_on_a_missing_tree_throws_naming_the_folder()
    {
        var missing = Path.Combine(_tree.Path, "powercap");

        var error = Assert.Throws<EnergyMeterException>(() => new RaplMeter(missing, File.ReadAllText).Open());

        Assert.Contains(missing, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Another_os_is_unusable_without_a_remedy()
    {
        Zone("intel-rapl:0", "package-0");

        var probe = new RaplMeter(_tree.Path, File.ReadAllText, isLinux: false).Probe();

        Assert.False(probe.Usable);
        Assert.Contains("not Linux", probe.Detail, StringComparison.Ordinal);
        Assert.Null(probe.Remedy);
    }

    [Fact]
    public void A_garbled_energy_file_is_unusable_naming_the_file()
    {
        Zone("intel-rapl:0", "package-0");
        SetEnergy("intel-rapl:0", 0);
        _tree.Write("intel-rapl:0/energy_uj", "n/a\n");

        var probe = Meter().Probe();

        Assert.False(probe.Usable);
        Assert.Contains(Path.Combine(_tree.Path, "intel-rapl:0", "energy_uj"), probe.Detail, StringComparison.Ordinal);
    }

    private static string RootOnlyEnergy(string path) =>
        Path.GetFileName(path) == "energy_uj"
            ? throw new UnauthorizedAccessException($"Access to the path '{path}' is denied.")
            : File.ReadAllText(path);
}
