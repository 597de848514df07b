using Harness.Core.Energy;
using Harness.Energy.PowerStates;

// Not "Harness.Tests.Energy.Environment": that namespace would shadow System.Environment in every Harness.Tests.Energy test.
namespace Harness.Tests.Energy.PowerStates;

public sealed class MacPowerStateProbeTests
{
    private const string OnBattery = """
        Now drawing from 'Battery Power'
         -InternalBattery-0 (id=21561443)	87%; discharging; 5:12 remaining present: true
        """;

    private const string OnAcCharging = """
        Now drawing from 'AC Power'
         -InternalBattery-0 (id=21561443)	42%; charging; 1:05 remaining present: true
        """;

    // A Mac mini: no battery line at all.
    private const string Desktop = "Now drawing from 'AC Power'\n";

    private const string ThermNothingRecorded = """
        Note: No thermal warning level has been recorded
        Note: No performance warning level has been recorded
        Note: No CPU power status has been recorded
        """;

    private const string ThermLimited = """
        Note: No thermal warning level has been recorded
        Note: No performance warning level has been recorded
        2024-09-30 09:14:03 +0200 CPU Power notify
        	CPU_Scheduler_Limit 	= 100
        	CPU_Available_CPUs 	= 10
        	CPU_Speed_Limit 	= 79
        """;

    private const string Settings = """
        System-wide power settings:
         SleepDisabled		0
        Currently in use:
         standby              1
         Sleep On Power Button 1
         hibernatefile        /var/vm/sleepimage
         powernap             1
         networkoversleep     0
         disksleep            10
         sleep                1 (sleep prevented by powerd)
         hibernatemode        3
         ttyskeepawake        1
         displaysleep         2
         tcpkeepalive         1
         lowpowermode         1
         womp                 0
        """;

    [Fact]
    public void Battery_power_with_its_charge()
    {
        Assert.Equal((PowerSource.Battery, 87.0), MacPowerStateProbe.ParseBattery(OnBattery));
    }

    [Fact]
    public void Ac_power_while_charging()
    {
        Assert.Equal((PowerSource.Ac, 42.0), MacPowerStateProbe.ParseBattery(OnAcCharging));
    }

    [Fact]
    public void A_desktop_is_on_ac_with_no_battery_percent()
    {
        Assert.Equal((PowerSource.Ac, (double?)null), MacPowerStateProbe.ParseBattery(Desktop));
    }

    [Fact]
    public void Unreadable_battery_text_is_unknown()
    {
        Assert.Equal((PowerSource.Unknown, (double?)null), MacPowerStateProbe.ParseBattery("pmset: command not found"));
    }

    [Fact]
    public void A_recorded_speed_limit_is_the_thermal_state()
    {
        Assert.Equal("CPU speed limit 79%", MacPowerStateProbe.ParseThermal(ThermLimited));
    }

    [Fact]
    public void Nothing_recorded_says_so()
    {
        Assert.Equal("no CPU speed limit recorded", MacPowerStateProbe.ParseThermal(ThermNothingRecorded));
        Assert.Null(MacPowerStateProbe.ParseThermal(string.Empty));
    }

    [Fact]
    public void Low_power_mode_comes_from_the_settings_in_use()
    {
        Assert.Equal("low power mode on", MacPowerStateProbe.ParseLowPowerMode(Settings));
        Assert.Equal("low power mode off", MacPowerStateProbe.ParseLowPowerMode(Settings.Replace("lowpowermode         1", "lowpowermode         0", StringComparison.Ordinal)));
        Assert.Null(MacPowerStateProbe.ParseLowPowerMode("Currently in use:\n standby 1\n"));
    }

    [Fact]
    public void Read_combines_the_three_commands_and_has_no_throttle_count()
    {
        var runner = new RecordedRunner(new Dictionary<string, string>
        {
            ["-g batt"] = OnBattery,
            ["-g therm"] = ThermLimited,
            ["-g"] = Settings,
        });

        var state = new MacPowerStateProbe(runner, isMacOS: true).Read();

        Assert.Equal(new PowerState(PowerSource.Battery, 87, "low power mode on", null, "CPU speed limit 79%"), state);
    }

    [Fact]
    public void Read_with_every_command_failing_is_all_unknown()
    {
        var state = new MacPowerStateProbe(new RecordedRunner([]), isMacOS: true).Read();

        Assert.Equal(new PowerState(PowerSource.Unknown, null, null, null, null), state);
    }

    [Fact]
    public void The_real_probe_never_throws_here()
    {
        var state = new MacPowerStateProbe().Read();

        if (!OperatingSystem.IsMacOS())
        {
            Assert.Equal(new PowerState(PowerSource.Unknown, null, null, null, null), state);
        }
    }

    private sealed class RecordedRunner(Dictionary<string, string> outputs) : IPowerCommandRunner
    {
        public string? TryRun(string fileName, IReadOnlyList<string> arguments) =>
            outputs.GetValueOrDefault(string.Join(' ', arguments));
    }
}
