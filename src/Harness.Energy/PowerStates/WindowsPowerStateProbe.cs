using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Harness.Core.Energy;

namespace Harness.Energy.PowerStates;

/// <summary>
/// Windows power state: AC or battery and the charge from <c>GetSystemPowerStatus</c>, and the active power scheme
/// from <c>powercfg /getactivescheme</c> as the governor. Windows exposes no thermal state or throttle count to
/// user mode, so those stay null.
/// </summary>
public sealed partial class WindowsPowerStateProbe : IPowerStateProbe
{
    private readonly Func<PowerStatusValues?> _readStatus;
    private readonly IPowerCommandRunner _runner;
    private readonly bool _isWindows;

    /// <summary>Reads this machine, giving powercfg five seconds; elsewhere every fact is unknown.</summary>
    public WindowsPowerStateProbe()
        : this(ReadNativeStatus, new ProcessPowerCommandRunner(TimeSpan.FromSeconds(5)), OperatingSystem.IsWindows())
    {
    }

    internal WindowsPowerStateProbe(Func<PowerStatusValues?> readStatus, IPowerCommandRunner runner, bool isWindows)
    {
        _readStatus = readStatus;
        _runner = runner;
        _isWindows = isWindows;
    }

    /// <inheritdoc />
    public PowerState Read()
    {
        if (!_isWindows)
        {
            return new PowerState(PowerSource.Unknown, null, null, null, null);
        }

        var status = _readStatus();
        var (source, percent) = status is { } values ? FromStatus(values) : (PowerSource.Unknown, null);
        var scheme = _runner.TryRun("powercfg", ["/getactivescheme"]) is { } text ? ParseActiveScheme(text) : null;
        if (scheme is not null && status is { SystemStatusFlag: 1 })
        {
            // Battery saver caps power under any scheme, so the scheme name alone would mislead.
            scheme += ", battery saver on";
        }

        return new PowerState(source, percent, scheme, ThrottleEvents: null, ThermalState: null);
    }

    /// <summary>
    /// Power source and charge from the fields of <c>SYSTEM_POWER_STATUS</c>: ACLineStatus 0 battery, 1 AC, 255
    /// unknown; BatteryFlag 128 means no system battery and 255 unknown; BatteryLifePercent 255 means unknown.
    /// </summary>
    internal static (PowerSource Source, double? BatteryPercent) FromStatus(PowerStatusValues status)
    {
        var source = status.AcLineStatus switch
        {
            0 => PowerSource.Battery,
            1 => PowerSource.Ac,
            _ => PowerSource.Unknown,
        };
        var noBattery = status.BatteryFlag == 255 || (status.BatteryFlag & 128) != 0;
        double? percent = noBattery || status.BatteryLifePercent > 100 ? null : status.BatteryLifePercent;
        return (source, percent);
    }

    /// <summary>
    /// The scheme's name from <c>powercfg /getactivescheme</c>, e.g. <c>Balanced</c> from
    /// <c>Power Scheme GUID: 381b4222-f694-41f0-9685-ff5bb260df2e  (Balanced)</c>. Only the GUID and the
    /// parentheses are matched, so localised Windows reads the same.
    /// </summary>
    internal static string? ParseActiveScheme(string text) =>
        SchemeName().Match(text) is { Success: true } match && match.Groups["name"].Value.Trim() is { Length: > 0 } name ? name : null;

    private static PowerStatusValues? ReadNativeStatus()
    {
        if (!OperatingSystem.IsWindows())
        {
            return null;
        }

        return NativeStatus();
    }

    [SupportedOSPlatform("windows")]
    private static PowerStatusValues? NativeStatus()
    {
        try
        {
            return Kernel32.GetSystemPowerStatus(out var status)
                ? new PowerStatusValues(status.ACLineStatus, status.BatteryFlag, status.BatteryLifePercent, status.SystemStatusFlag)
                : null;
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    [GeneratedRegex(@"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\s*\((?<name>[^)]*)\)", RegexOptions.CultureInvariant)]
    private static partial Regex SchemeName();

    [StructLayout(LayoutKind.Sequential)]
    private struct SystemPowerStatus
    {
        public byte ACLineStatus;
        public byte BatteryFlag;
        public byte BatteryLifePercent;
        public byte SystemStatusFlag;
        public uint BatteryLifeTime;
        public uint BatteryFullLifeTime;
    }

    [SupportedOSPlatform("windows")]
    private static partial class Kernel32
    {
        [LibraryImport("kernel32.dll", SetLastError = true)]
        [return: MarshalAs(UnmanagedType.Bool)]
        internal static partial bool GetSystemPowerStatus(out SystemPowerStatus status);
    }
}

/// <summary>The fields of Windows' <c>SYSTEM_POWER_STATUS</c> the probe uses, as the OS returns them.</summary>
internal readonly record struct PowerStatusValues(byte AcLineStatus, byte BatteryFlag, byte BatteryLifePercent, byte SystemStatusFlag);
