using System.Collections.Immutable;
using System.Globalization;
using System.Runtime.InteropServices;
using Harness.Backends.LlamaSharp;
using Harness.Core.Energy;
using Harness.Core.Hosting;
using Harness.Core.Runs;
using Harness.Energy;

namespace Harness.Cli.Doctor;

/// <summary>Whether one way of running models will work here, and if not, what would make it work.</summary>
internal sealed record BackendCheck(string Name, bool Available, string Detail, string? Remedy);

/// <summary>Power drawn over a short window by one meter, per channel (<c>harness doctor --measure</c>).</summary>
internal sealed record MeterMeasurement(string Source, EnergyQuality Quality, TimeSpan Window, ImmutableArray<ChannelEnergy> Channels, string? Error)
{
    public double Watts => Window > TimeSpan.Zero ? Channels.Sum(c => c.Joules) / Window.TotalSeconds : 0;
}

/// <summary>What <c>harness doctor</c> found: the machine, the backends, every energy meter and the power state.</summary>
/// <param name="EnergySources">What a run would read: the usable measured meters, or <c>estimate</c>.</param>
internal sealed record Diagnosis(
    HostFacts Host,
    ImmutableArray<BackendCheck> Backends,
    ImmutableArray<EnergyMeterProbe> Meters,
    ImmutableArray<string> EnergySources,
    PowerState Power,
    ImmutableArray<MeterMeasurement> Measurements);

/// <summary>Examines the machine. Nothing here loads a model; llama.cpp's library is loaded to prove it can be.</summary>
internal sealed class MachineDoctor(IReadOnlyList<IEnergyMeter> meters, IPowerStateProbe power, TimeProvider timeProvider)
{
    public static MachineDoctor ForThisMachine() =>
        new(EnergyMeterCatalog.HardwareMeters(TimeProvider.System), EnergyMeterCatalog.PowerStateProbe(), TimeProvider.System);

    /// <param name="measure">Read every usable meter (the estimate of this process when none) for this long; zero skips it.</param>
    /// <param name="backends">Checks the backends, given the NVML probe (the CUDA check needs to know about the driver).</param>
    public async Task<Diagnosis> ExamineAsync(
        TimeSpan measure, Func<EnergyMeterProbe?, ImmutableArray<BackendCheck>> backends, CancellationToken cancellationToken)
    {
        var choice = EnergyMeterCatalog.Choose(meters, forceEstimate: false);
        var measurements = ImmutableArray<MeterMeasurement>.Empty;
        if (measure > TimeSpan.Zero)
        {
            IReadOnlyList<IEnergyMeter> toRead = choice.Measured.IsEmpty
                ? [SessionEnergyMeters.EstimateForThisProcess(new EnergyEstimateParameters(Running.EnergySettings.DefaultWattsPerCore, null))]
                : choice.Measured;
            measurements = [.. await Task.WhenAll(toRead.Select(m => MeasureAsync(m, measure, cancellationToken)))];
        }

        return new Diagnosis(HostProbe.Probe(), backends(choice.Probes.FirstOrDefault(p => p.Source == "nvml")), choice.Probes, choice.Selected, power.Read(), measurements);
    }

    /// <summary>The checks of the backends this build has: llama.cpp on CPU, CUDA and Metal.</summary>
    public static ImmutableArray<BackendCheck> CheckBackends(EnergyMeterProbe? nvml)
    {
        var checks = ImmutableArray.CreateBuilder<BackendCheck>();
        try
        {
            var info = LlamaNativeRuntime.EnsureInitialized(TextWriter.Null);
            checks.Add(new BackendCheck("llama.cpp (CPU)", true,
                $"{info.NativeVariant}; {info.NativeLibraryPath}; {info.SystemInfo}", null));
        }
        catch (Exception ex) when (ex is DllNotFoundException or BadImageFormatException or EntryPointNotFoundException or TypeInitializationException or InvalidOperationException)
        {
            checks.Add(new BackendCheck("llama.cpp (CPU)", false, $"the native library did not load: {ex.Message}",
                "reinstall with `dotnet restore` (LLamaSharp.Backend.Cpu carries the native builds); on Linux check `ldd` on libllama.so for a missing libgomp"));
        }

        var driver = nvml is { Usable: true } ? $"NVIDIA driver found ({nvml.Detail})" : "no NVIDIA driver found";
        checks.Add(LlamaNativeRuntime.CudaBuild
            ? new BackendCheck("llama.cpp (CUDA 12)", nvml is { Usable: true }, $"this build carries the CUDA 12 backend; {driver}",
                nvml is { Usable: true } ? null : "install the NVIDIA driver (CUDA 12 runtime)")
            : new BackendCheck("llama.cpp (CUDA 12)", false, $"not in this build; {driver}",
                "build with `dotnet build -c Release -p:HarnessCuda=true` (restores LLamaSharp.Backend.Cuda12 from nuget.org)"));
        var appleSilicon = OperatingSystem.IsMacOS() && RuntimeInformation.ProcessArchitecture == Architecture.Arm64;
        checks.Add(new BackendCheck("llama.cpp (Metal)", appleSilicon,
            appleSilicon ? "Apple Silicon: LLamaSharp.Backend.Cpu carries the Metal build; set gpu_layers in the manifest to offload"
                : "Metal needs macOS on Apple Silicon",
            null));
        return checks.ToImmutable();
    }

    private async Task<MeterMeasurement> MeasureAsync(IEnergyMeter meter, TimeSpan window, CancellationToken cancellationToken)
    {
        var probe = meter.Probe();
        try
        {
            await using var recorder = EnergyRecorder.Start([meter], timeProvider, TimeSpan.FromMilliseconds(50));
            var start = recorder.Mark();
            await Task.Delay(window, timeProvider, cancellationToken).ConfigureAwait(false);
            var reading = recorder.Measure(start, recorder.Mark(), EnergyAttribution.Exclusive, null);
            return new MeterMeasurement(probe.Source, probe.Quality, reading.Window, reading.Channels, null);
        }
        catch (EnergyMeterException ex)
        {
            return new MeterMeasurement(probe.Source, probe.Quality, TimeSpan.Zero, [], ex.Message);
        }
    }

    internal static string Watts(double watts) => watts.ToString("0.###", CultureInfo.InvariantCulture) + " W";
}
