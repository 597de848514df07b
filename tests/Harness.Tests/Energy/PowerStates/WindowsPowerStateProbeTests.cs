using Harness.Core.Energy;
using Harness.Energy.PowerStates;

// Not "Harness.Tests.Energy.Environment": that namespace would shadow System.Environment in every Harness.Tests.Energy test.
namespace Harness.Tests.Energy.PowerStates;

public sealed class WindowsPowerStateProbeTests
{
    private const string Balanced = "Power Scheme GUID: 381b4222-f694-41f0-9685-ff5bb260df2e  (Balanced)\r\n";

    // German Windows: the label is translated, the GUID and the parentheses are not.
    private const string GermanHighPerformance = "GUID des Energieschemas: 8c5e7fda-e8bf-4a96-9a85-a6e23a8c635c  (Höchstleistung)\r\n";

    [Fact]
    public void Laptop_on_battery_with_charge()
    {
        // ACLineStatus 0 = offline, BatteryFlag 0 = neither high nor low, 64% left.
        Assert.Equal((PowerSource.Battery, 64.0), WindowsPowerStateProbe.FromStatus(new PowerStatusValues(0, 0, 64, 0)));
    }

    [Fact]
    public void Laptop_on_ac_while_charging()
    {
        // BatteryFlag 8 | 1 = charging and high.
        Assert.Equal((PowerSource.Ac, 97.0), WindowsPowerStateProbe.FromStatus(new PowerStatusValues(1, 9, 97, 0)));
    }

    [Fact]
    public void Desktop_without_battery_has_no_percent()
    {
        // BatteryFlag 128 = no system battery; Windows reports 255 (unknown) as the percent.
        Assert.Equal((PowerSource.Ac, (double?)null), WindowsPowerStateProbe.FromStatus(new PowerStatusValues(1, 128, 255, 0)));
    }

    [Fact]
    public void Unknown_status_is_unknown()
    {
        Assert.Equal((PowerSource.Unknown, (double?)null), WindowsPowerStateProbe.FromStatus(new PowerStatusValues(255, 255, 255, 0)));
    }

    [Fact]
    public void Active_scheme_name_in_english_and_localised_output()
    {
        Assert.Equal("Balanced", WindowsPowerStateProbe.ParseActiveScheme(Balanced));
        Assert.Equal("Höchstleistung", WindowsPowerStateProbe.ParseActiveScheme(GermanHighPerformance));
        Assert.Null(WindowsPowerStateProbe.ParseActiveScheme("Access denied."));
    }

    [Fact]
    public void Read_names_the_scheme_and_battery_saver()
    {
        var runner = new RecordedRunner(Balanced);

        var saving = new WindowsPowerStateProbe(() => new PowerStatusValues(0, 2, 18, 1), runner, isWindows: true).Read();
        var normal = new WindowsPowerStateProbe(() => new PowerStatusValues(1, 1, 80, 0), runner, isWindows: true).Read();

        Assert.Equal(new PowerState(PowerSource.Battery, 18, "Balanced, battery saver on", null, null), saving);
        Assert.Equal(new PowerState(PowerSource.Ac, 80, "Balanced", null, null), normal);
    }

    [Fact]
    public void Read_with_nothing_available_is_all_unknown()
    {
        var state = new WindowsPowerStateProbe(() => null, new RecordedRunner(null), isWindows: true).Read();

        Assert.Equal(new PowerState(PowerSource.Unknown, null, null, null, null), state);
    }

    [Fact]
    public void The_real_probe_never_throws_here()
    {
        var state = new WindowsPowerStateProbe().Read();

        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(new PowerState(PowerSource.Unknown, null, null, null, null), state);
        }
    }

    private sealed class RecordedRunner(string? output) : IPowerCommandRunner
    {
        public string? TryRun(string fileName, IReadOnlyList<string> arguments) => output;
    }
}
