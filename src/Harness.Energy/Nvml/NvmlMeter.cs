using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Energy;

namespace Harness.Energy.Nvml;

/// <summary>
/// NVIDIA GPUs through NVML, one channel per GPU covering the whole board. Volta and newer GPUs have an energy
/// counter; older ones only report power, which the counter integrates between reads.
/// </summary>
public sealed class NvmlMeter : IEnergyMeter
{
    internal const string Source = "nvml";

    // NVML refreshes both the energy counter and the power reading about every 100 ms; power polling reads at the same
    // pace because faster polls would only repeat the last value.
    internal static readonly TimeSpan UpdateInterval = TimeSpan.FromMilliseconds(100);
    internal static readonly TimeSpan PollingInterval = UpdateInterval;

    // The energy counter is 64-bit millijoules: it does not wrap in the life of a machine, so reads may be far apart.
    internal static readonly TimeSpan CounterMaxReadInterval = TimeSpan.FromSeconds(10);

    private const double ResolutionJoules = 0.001;

    private readonly INvml? nvml;
    private readonly TimeProvider timeProvider;

    /// <summary>Uses the NVIDIA driver's NVML library when this machine has one.</summary>
    public NvmlMeter(TimeProvider timeProvider)
        : this(NvmlLibrary.TryLoad(), timeProvider)
    {
    }

    /// <param name="nvml">The NVML calls; null when the library is missing.</param>
    internal NvmlMeter(INvml? nvml, TimeProvider timeProvider)
    {
        this.nvml = nvml;
        this.timeProvider = timeProvider;
    }

    /// <inheritdoc />
    public EnergyMeterProbe Probe()
    {
        if (nvml is null)
        {
            return Unusable($"{NvmlLibrary.FileName} not found (no NVIDIA driver)", "install the NVIDIA driver");
        }

        var code = nvml.Init();
        if (code != NvmlReturn.Success)
        {
            return Unusable(Failure(nvml, "nvmlInit_v2", code), null);
        }

        try
        {
            var survey = Survey(nvml);
            if (survey.Problem is not null)
            {
                return Unusable(survey.Problem, null);
            }

            return new EnergyMeterProbe(
                Source,
                Usable: true,
                EnergyQuality.Measured,
                Scope(survey.Devices.Length),
                UpdateInterval,
                ResolutionJoules,
                survey.Describe(),
                Remedy: null);
        }
        finally
        {
            nvml.Shutdown();
        }
    }

    /// <inheritdoc />
    public IEnergyCounter Open()
    {
        if (nvml is null)
        {
            throw new EnergyMeterException($"nvml: {NvmlLibrary.FileName} not found (no NVIDIA driver)");
        }

        var code = nvml.Init();
        if (code != NvmlReturn.Success)
        {
            throw new EnergyMeterException($"nvml: {Failure(nvml, "nvmlInit_v2", code)}");
        }

        try
        {
            var survey = Survey(nvml);
            if (survey.Problem is not null)
            {
                throw new EnergyMeterException($"nvml: {survey.Problem}");
            }

            return new NvmlCounter(nvml, timeProvider, survey.Devices);
        }
        catch
        {
            nvml.Shutdown();
            throw;
        }
    }

    internal static string Failure(INvml nvml, string call, NvmlReturn code) =>
        string.Create(CultureInfo.InvariantCulture, $"{call} failed: {nvml.ErrorString(code)} (NVML error {(int)code})");

    private static string Scope(int devices) =>
        string.Create(CultureInfo.InvariantCulture, $"NVIDIA GPU board power ({devices} device{(devices == 1 ? "" : "s")}), whole board");

    private static EnergyMeterProbe Unusable(string detail, string? remedy) =>
        new(Source, Usable: false, EnergyQuality.Measured, "NVIDIA GPU board power", UpdateInterval, ResolutionJoules, detail, remedy);

    // Decides per GPU between the energy counter and power polling, so a machine mixing old and new boards uses both.
    private static NvmlSurvey Survey(INvml nvml)
    {
        var code = nvml.GetDeviceCount(out var count);
        if (code != NvmlReturn.Success)
        {
            return new NvmlSurvey([], [], Failure(nvml, "nvmlDeviceGetCount_v2", code));
        }

        if (count == 0)
        {
            return new NvmlSurvey([], [], "NVML found no GPU");
        }

        var devices = ImmutableArray.CreateBuilder<NvmlDevice>();
        var skipped = ImmutableArray.CreateBuilder<string>();
        for (uint index = 0; index < count; index++)
        {
            var label = string.Create(CultureInfo.InvariantCulture, $"gpu-{index}");
            code = nvml.GetDeviceName(index, out var name);
            if (code != NvmlReturn.Success)
            {
                skipped.Add($"{label}: {Failure(nvml, "nvmlDeviceGetName", code)}");
                continue;
            }

            code = nvml.GetTotalEnergyConsumption(index, out _);
            if (code == NvmlReturn.Success)
            {
                devices.Add(new NvmlDevice(index, name, NvmlMethod.EnergyCounter, "energy counter"));
                continue;
            }

            var why = code == NvmlReturn.NotSupported
                ? "power polling (no energy counter on this GPU)"
                : $"power polling ({Failure(nvml, "nvmlDeviceGetTotalEnergyConsumption", code)})";
            var powerCode = nvml.GetPowerUsage(index, out _);
            if (powerCode == NvmlReturn.Success)
            {
                devices.Add(new NvmlDevice(index, name, NvmlMethod.PowerPolling, why));
            }
            else
            {
                skipped.Add($"{label} ({name}): not measurable, {Failure(nvml, "nvmlDeviceGetPowerUsage", powerCode)}");
            }
        }

        var problem = devices.Count == 0
            ? $"no GPU can be measured: {string.Join("; ", skipped)}"
            : null;
        return new NvmlSurvey(devices.ToImmutable(), skipped.ToImmutable(), problem);
    }
}

internal enum NvmlMethod
{
    EnergyCounter,
    PowerPolling,
}

/// <param name="How">The method in words, for the probe's detail.</param>
internal sealed record NvmlDevice(uint Index, string Name, NvmlMethod Method, string How)
{
    public string Channel => string.Create(CultureInfo.InvariantCulture, $"gpu-{Index} ({Name})");
}

/// <param name="Problem">Why nothing can be measured; null when at least one GPU can.</param>
internal sealed record NvmlSurvey(ImmutableArray<NvmlDevice> Devices, ImmutableArray<string> Skipped, string? Problem)
{
    public string Describe() =>
        string.Join("; ", Devices.Select(d => $"{d.Channel}: {d.How}").Concat(Skipped.Select(s => $"skipped {s}")));
}
