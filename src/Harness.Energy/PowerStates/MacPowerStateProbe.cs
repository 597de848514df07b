using System.Globalization;
using System.Text.RegularExpressions;
using Harness.Core.Energy;

namespace Harness.Energy.PowerStates;

/// <summary>
/// macOS power state from <c>pmset</c>: AC or battery and the charge (<c>pmset -g batt</c>), the CPU speed limit the
/// OS set for thermal reasons (<c>pmset -g therm</c>) and low power mode (<c>pmset -g</c>). macOS keeps no count of
/// throttle events, so <see cref="PowerState.ThrottleEvents"/> is always null.
/// </summary>
public sealed partial class MacPowerStateProbe : IPowerStateProbe
{
    private const string Pmset = "/usr/bin/pmset";

    private readonly IPowerCommandRunner _runner;
    private readonly bool _isMacOS;

    /// <summary>Runs pmset on this Mac, giving each call five seconds; elsewhere every fact is unknown.</summary>
    public MacPowerStateProbe()
        : this(new ProcessPowerCommandRunner(TimeSpan.FromSeconds(5)), OperatingSystem.IsMacOS())
    {
    }

    internal MacPowerStateProbe(IPowerCommandRunner runner, bool isMacOS)
    {
        _runner = runner;
        _isMacOS = isMacOS;
    }

    /// <inheritdoc />
    public PowerState Read()
    {
        if (!_isMacOS)
        {
            return new PowerState(PowerSource.Unknown, null, null, null, null);
        }

        var (source, percent) = _runner.TryRun(Pmset, ["-g", "batt"]) is { } batt ? ParseBattery(batt) : (PowerSource.Unknown, null);
        var thermal = _runner.TryRun(Pmset, ["-g", "therm"]) is { } therm ? ParseThermal(therm) : null;
        var lowPower = _runner.TryRun(Pmset, ["-g"]) is { } settings ? ParseLowPowerMode(settings) : null;
        return new PowerState(source, percent, lowPower, ThrottleEvents: null, thermal);
    }

    /// <summary>
    /// The power source and the internal battery's charge from <c>pmset -g batt</c>:
    /// <c>Now drawing from 'AC Power'</c> (or <c>'Battery Power'</c>) and <c> -InternalBattery-0 (id=...)	87%; charging; ...</c>.
    /// </summary>
    internal static (PowerSource Source, double? BatteryPercent) ParseBattery(string text)
    {
        var source = DrawingFrom().Match(text) is { Success: true } drawing
            ? drawing.Groups["source"].Value switch
            {
                "AC Power" => PowerSource.Ac,
                "Battery Power" => PowerSource.Battery,
                _ => PowerSource.Unknown,
            }
            : PowerSource.Unknown;

        double? percent = InternalBattery().Match(text) is { Success: true } battery
            && int.TryParse(battery.Groups["percent"].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            && value <= 100
                ? value
                : null;
        return (source, percent);
    }

    /// <summary>
    /// The OS's thermal word from <c>pmset -g therm</c>: <c>CPU speed limit 80%</c> when it recorded a
    /// <c>CPU_Speed_Limit</c>, <c>no CPU speed limit recorded</c> when it says none was, null for anything else.
    /// </summary>
    internal static string? ParseThermal(string text)
    {
        if (SpeedLimit().Match(text) is { Success: true } limit)
        {
            return $"CPU speed limit {limit.Groups["limit"].Value}%";
        }

        return text.Contains("No CPU power status has been recorded", StringComparison.Ordinal)
            ? "no CPU speed limit recorded"
            : null;
    }

    /// <summary>
    /// Low power mode from <c>pmset -g</c>: <c>low power mode on</c> or <c>off</c> from the <c>lowpowermode</c> line,
    /// the one under "Currently in use" when the output lists several; null when the Mac has no such setting.
    /// </summary>
    internal static string? ParseLowPowerMode(string text)
    {
        var inUse = text.IndexOf("Currently in use:", StringComparison.Ordinal);
        var match = inUse >= 0 ? LowPowerMode().Match(text, inUse) : LowPowerMode().Match(text);
        if (!match.Success)
        {
            match = LowPowerMode().Match(text);
        }

        return match.Success ? (match.Groups["value"].Value == "0" ? "low power mode off" : "low power mode on") : null;
    }

    [GeneratedRegex(@"Now drawing from '(?<source>[^']+)'", RegexOptions.CultureInvariant)]
    private static partial Regex DrawingFrom();

    [GeneratedRegex(@"-InternalBattery-\d+[^\n]*?\s(?<percent>\d{1,3})%", RegexOptions.CultureInvariant)]
    private static partial Regex InternalBattery();

    [GeneratedRegex(@"CPU_Speed_Limit\s*=\s*(?<limit>\d+)", RegexOptions.CultureInvariant)]
    private static partial Regex SpeedLimit();

    [GeneratedRegex(@"^\s*lowpowermode\s+(?<value>\d+)", RegexOptions.CultureInvariant | RegexOptions.Multiline)]
    private static partial Regex LowPowerMode();
}
