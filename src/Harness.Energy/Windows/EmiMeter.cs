using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Energy;

namespace Harness.Energy.Windows;

/// <summary>
/// The Windows Energy Meter Interface: energy counters that drivers expose (on Intel machines, the RAPL domains), one
/// channel per EMI channel that does not overlap another.
/// </summary>
public sealed class EmiMeter : IEnergyMeter
{
    internal const string Source = "emi";

    // Microsoft documents no refresh rate for EMI counters. RAPL hardware updates about every 1 ms, but the driver in
    // between may sample it on its own timer, so the meter claims a coarse 100 ms rather than a precision it cannot
    // check; each measurement's AbsoluteTime would tell the truth on a real machine.
    internal static readonly TimeSpan UpdateInterval = TimeSpan.FromMilliseconds(100);

    // The counters are 64-bit picowatt-hours (wrap after about 6.6e10 J) and the driver tracks the hardware's wraps.
    internal static readonly TimeSpan MaxReadInterval = TimeSpan.FromSeconds(10);

    private const string NoDevice =
        "no Energy Meter Interface device (needs Windows 10 1809+ and a driver that exposes one; Intel RAPL machines usually do)";

    private readonly IEmiDevices? devices;

    /// <summary>Uses the Windows EMI devices of this machine; on other systems the probe says it cannot run.</summary>
    public EmiMeter()
        : this(OperatingSystem.IsWindows() ? new EmiNative() : null)
    {
    }

    /// <param name="devices">The device calls; null when this is not Windows.</param>
    internal EmiMeter(IEmiDevices? devices)
    {
        this.devices = devices;
    }

    /// <inheritdoc />
    public EnergyMeterProbe Probe()
    {
        if (devices is null)
        {
            return Unusable("the Energy Meter Interface (EMI) is a Windows interface; this is not Windows");
        }

        EmiSurvey survey;
        try
        {
            survey = Survey(devices);
        }
        catch (IOException e)
        {
            return Unusable(e.Message);
        }

        using (survey)
        {
            if (survey.Problem is not null)
            {
                return Unusable(survey.Problem);
            }

            var counted = survey.Choices.Where(c => c.Counted).ToList();
            return new EnergyMeterProbe(
                Source,
                Usable: true,
                EnergyQuality.Measured,
                $"Energy Meter Interface: {string.Join(", ", counted.Select(c => $"{c.Name} ({c.Domain})"))}",
                UpdateInterval,
                EmiLayout.JoulesPerPicowattHour,
                survey.Describe(),
                Remedy: null);
        }
    }

    /// <inheritdoc />
    public IEnergyCounter Open()
    {
        if (devices is null)
        {
            throw new EnergyMeterException("emi: the Energy Meter Interface is a Windows interface; this is not Windows");
        }

        EmiSurvey survey;
        try
        {
            survey = Survey(devices);
        }
        catch (IOException e)
        {
            throw new EnergyMeterException($"emi: {e.Message}", e);
        }

        if (survey.Problem is not null)
        {
            survey.Dispose();
            throw new EnergyMeterException($"emi: {survey.Problem}");
        }

        try
        {
            return new EmiCounter(survey);
        }
        catch
        {
            survey.Dispose();
            throw;
        }
    }

    private static EnergyMeterProbe Unusable(string detail) =>
        new(Source, Usable: false, EnergyQuality.Measured, "Energy Meter Interface", UpdateInterval, EmiLayout.JoulesPerPicowattHour, detail, Remedy: null);

    /// <exception cref="IOException">The devices could not be listed.</exception>
    private static EmiSurvey Survey(IEmiDevices devices)
    {
        var paths = devices.EnumerateDevicePaths();
        if (paths.IsEmpty)
        {
            return new EmiSurvey([], [], [], NoDevice);
        }

        var found = new List<EmiOpenDevice>();
        var skipped = new List<string>();
        foreach (var path in paths)
        {
            IEmiDevice? device = null;
            try
            {
                device = devices.Open(path);
                found.Add(new EmiOpenDevice(Label(found.Count), device, Inspect(device)));
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                device?.Dispose();
                skipped.Add($"{path}: {e.Message}");
            }
        }

        var choices = EmiChannels.Choose([.. found.Select(d => d.Metadata.Channels)]);
        var problem = choices.Any(c => c.Counted)
            ? null
            : found.Count == 0
                ? $"no EMI device could be read: {string.Join("; ", skipped)}"
                : "no EMI channel with a known domain and unit";
        return new EmiSurvey([.. found], [.. skipped], choices, problem);
    }

    private static string Label(int index) => string.Create(CultureInfo.InvariantCulture, $"emi-{index}");

    /// <exception cref="IOException">An IOCTL failed.</exception>
    /// <exception cref="InvalidDataException">The driver's answer does not fit the layout.</exception>
    private static EmiMetadata Inspect(IEmiDevice device)
    {
        var version = EmiLayout.ParseVersion(device.Control(EmiLayout.IoctlGetVersion, EmiLayout.VersionBytes));
        var size = EmiLayout.ParseMetadataSize(device.Control(EmiLayout.IoctlGetMetadataSize, EmiLayout.MetadataSizeBytes));
        return EmiLayout.ParseMetadata(version, device.Control(EmiLayout.IoctlGetMetadata, checked((int)size)));
    }
}

internal sealed record EmiOpenDevice(string Label, IEmiDevice Device, EmiMetadata Metadata)
{
    public string Describe() =>
        string.Create(CultureInfo.InvariantCulture, $"{Label} {Metadata.Oem} {Metadata.Model} rev {Metadata.Revision} (EMI v{Metadata.Version})");
}

/// <summary>The devices found, still open, and the channels chosen; disposing closes the devices.</summary>
/// <param name="problem">Why nothing can be counted; null when something can.</param>
internal sealed class EmiSurvey(
    ImmutableArray<EmiOpenDevice> devices, ImmutableArray<string> skipped, ImmutableArray<EmiChannelChoice> choices, string? problem)
    : IDisposable
{
    public ImmutableArray<EmiOpenDevice> Devices { get; } = devices;

    public ImmutableArray<string> Skipped { get; } = skipped;

    public ImmutableArray<EmiChannelChoice> Choices { get; } = choices;

    public string? Problem { get; } = problem;

    public string Describe() =>
        string.Join("; ", Devices.Select((d, i) => $"{d.Describe()}: {DescribeChannels(i)}").Concat(Skipped.Select(s => $"skipped {s}")));

    public void Dispose()
    {
        foreach (var device in Devices)
        {
            device.Device.Dispose();
        }
    }

    private string DescribeChannels(int device) =>
        string.Join(", ", Choices.Where(c => c.Device == device).Select(c => c.Counted
            ? $"{c.Name} counted as {c.Domain}"
            : $"{c.Name} left out ({c.LeftOutBecause})"));
}
