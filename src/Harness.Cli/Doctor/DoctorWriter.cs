using System.Globalization;
using Harness.Core.Energy;

namespace Harness.Cli.Doctor;

/// <summary>Writes a <see cref="Diagnosis"/> for people: one line per fact, and for every missing piece the command that would add it.</summary>
internal static class DoctorWriter
{
    public static void Write(Diagnosis diagnosis, TextWriter output)
    {
        var host = diagnosis.Host;
        output.WriteLine("Machine");
        output.WriteLine(Inv($"  CPU: {host.CpuModel}, {host.LogicalCores} logical cores, {host.Architecture}"));
        output.WriteLine($"  CPU features llama.cpp uses: {(host.CpuFeatures.IsDefaultOrEmpty ? "none detected" : string.Join(' ', host.CpuFeatures))}");
        output.WriteLine(Inv($"  Memory: {host.TotalMemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB; OS: {host.OperatingSystem}; {Harness.Core.Reports.ReportText.Runtime(host.DotnetVersion)}"));
        var nvml = diagnosis.Meters.FirstOrDefault(m => m.Source == "nvml");
        var metal = diagnosis.Backends.Any(b => b.Name.Contains("Metal", StringComparison.Ordinal) && b.Available);
        output.WriteLine("  GPU: " + (nvml is { Usable: true } ? nvml.Detail
            : metal ? "Apple Silicon GPU (Metal)"
            : "none found (no NVIDIA driver answered; not Apple Silicon)"));
        if (host.DebugBuild)
        {
            output.WriteLine("  Warning: this is a Debug build of Harness; timings will not be representative.");
        }

        output.WriteLine();
        output.WriteLine("Backends");
        foreach (var backend in diagnosis.Backends)
        {
            output.WriteLine($"  [{(backend.Available ? "ok" : "no")}] {backend.Name}: {backend.Detail}");
            if (!backend.Available && backend.Remedy is { } remedy)
            {
                output.WriteLine($"       to enable: {remedy}");
            }
        }

        output.WriteLine();
        output.WriteLine("Energy meters");
        foreach (var meter in diagnosis.Meters)
        {
            var state = meter.Usable ? (diagnosis.EnergySources.Contains(meter.Source) ? "ok" : "ok, not used") : "no";
            output.WriteLine($"  [{state}] {meter.Source}: {meter.Detail}");
            if (meter.Usable)
            {
                output.WriteLine(Inv($"       scope: {meter.Scope}; counter updates every {meter.UpdateInterval.TotalMilliseconds:0.#} ms"));
            }
            else if (meter.Remedy is { } remedy)
            {
                output.WriteLine($"       to enable: {remedy}");
            }
        }

        output.WriteLine();
        if (diagnosis.EnergySources.Contains("estimate"))
        {
            output.WriteLine(Inv($"  A run here can only estimate energy: no meter above is usable, so `harness run` multiplies the model worker's CPU-seconds by {Running.EnergySettings.DefaultWattsPerCore:0.###} W per core (--watts-per-core), labels every figure as estimated (≈) and never lets it decide an energy ceiling."));
        }
        else
        {
            output.WriteLine($"  A run here measures energy with: {string.Join(" + ", diagnosis.EnergySources)}.");
        }

        foreach (var measurement in diagnosis.Measurements)
        {
            if (measurement.Error is { } error)
            {
                output.WriteLine($"  {measurement.Source}: could not measure: {error}");
                continue;
            }

            var channels = string.Join(", ", measurement.Channels.Select(c => Inv($"{c.Name} {c.Joules / measurement.Window.TotalSeconds:0.###} W")));
            output.WriteLine(Inv($"  {measurement.Source} over {measurement.Window.TotalSeconds:0.##} s: {(measurement.Quality == EnergyQuality.Estimated ? "≈ " : "")}{MachineDoctor.Watts(measurement.Watts)} ({channels})"));
        }

        output.WriteLine();
        output.WriteLine("Power state");
        var power = diagnosis.Power;
        output.WriteLine($"  Power source: {power.PowerSource switch { PowerSource.Ac => "AC", PowerSource.Battery => "battery", _ => "unknown (the OS reports no power supply)" }}"
            + (power.BatteryPercent is { } percent ? Inv($", battery {percent:0.#}%") : ""));
        output.WriteLine($"  CPU governor: {power.CpuGovernor ?? "unknown (no cpufreq here; common in VMs)"}");
        output.WriteLine($"  Thermal throttle events so far: {(power.ThrottleEvents is { } events ? events.ToString(CultureInfo.InvariantCulture) : "not counted by this OS")}");
        output.WriteLine($"  Thermal state: {power.ThermalState ?? "unknown"}");
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
