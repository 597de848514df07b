using System.Collections.Immutable;
using Harness.Cli.Doctor;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Tests.Fakes;

namespace Harness.Tests.Cli;

public sealed class DoctorTests
{
    private static readonly HostFacts Host = new("Test CPU", ["avx2"], 2, 8L << 30, "TestOS", "x64", "10.0", false, "box");

    private static EnergyMeterProbe Unusable(string source, string detail, string? remedy) =>
        new(source, false, EnergyQuality.Measured, $"{source} scope", TimeSpan.FromMilliseconds(1), 1e-6, detail, remedy);

    private static ImmutableArray<BackendCheck> Backends(EnergyMeterProbe? nvml) =>
        [new BackendCheck("llama.cpp (CPU)", true, "avx2 build", null), new BackendCheck("llama.cpp (CUDA 12)", false, "not in this build", "build with -p:HarnessCuda=true")];

    [Fact]
    public void Runtime_line_names_dotnet_once()
    {
        var diagnosis = new Diagnosis(
            Host with { DotnetVersion = ".NET 10.0.12" }, Backends(null), [], ["estimate"], new PowerState(PowerSource.Ac, null, null, null, null), []);
        using var text = new StringWriter();

        DoctorWriter.Write(diagnosis, text);

        Assert.Contains("; .NET 10.0.12", text.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(".NET .NET", text.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Without_a_usable_meter_the_doctor_says_only_the_estimate_is_available_and_how_to_enable_each_meter()
    {
        var diagnosis = new Diagnosis(
            Host, Backends(null),
            [Unusable("rapl", "energy_uj is readable by root only", "sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj"),
             Unusable("nvml", "libnvidia-ml.so.1 not found (no NVIDIA driver)", "install the NVIDIA driver")],
            ["estimate"], new PowerState(PowerSource.Battery, 43, "powersave", 12, null), []);
        using var text = new StringWriter();

        DoctorWriter.Write(diagnosis, text);

        var output = text.ToString();
        Assert.Contains("[no] rapl: energy_uj is readable by root only", output, StringComparison.Ordinal);
        Assert.Contains("to enable: sudo chmod o+r /sys/class/powercap/intel-rapl:*/energy_uj", output, StringComparison.Ordinal);
        Assert.Contains("to enable: install the NVIDIA driver", output, StringComparison.Ordinal);
        Assert.Contains("can only estimate energy: no meter above is usable", output, StringComparison.Ordinal);
        Assert.Contains("to enable: build with -p:HarnessCuda=true", output, StringComparison.Ordinal);
        Assert.Contains("GPU: none found", output, StringComparison.Ordinal);
        Assert.Contains("Power source: battery, battery 43%", output, StringComparison.Ordinal);
        Assert.Contains("CPU governor: powersave", output, StringComparison.Ordinal);
        Assert.Contains("Thermal throttle events so far: 12", output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_usable_meter_is_what_a_run_would_read_and_measure_reports_its_power()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, new EnergyChannel("package-0", EnergyDomain.Package))
        {
            Source = "rapl",
            Watts = [25],
            AdvancePerRead = TimeSpan.FromMilliseconds(500),
        };
        var doctor = new MachineDoctor([meter, new FakeEnergyMeter(clock) { Source = "nvml", Usable = false }], new FakePowerProbe(new PowerState(PowerSource.Ac, null, null, null, null)), clock);

        var diagnosis = await doctor.ExamineAsync(TimeSpan.FromMilliseconds(1), Backends, CancellationToken.None);

        Assert.Equal(["rapl"], diagnosis.EnergySources.ToArray());
        var measured = Assert.Single(diagnosis.Measurements);
        Assert.Null(measured.Error);
        Assert.Equal(25, measured.Watts, 9);
        using var text = new StringWriter();
        DoctorWriter.Write(diagnosis, text);
        Assert.Contains("A run here measures energy with: rapl.", text.ToString(), StringComparison.Ordinal);
        Assert.Contains("rapl over", text.ToString(), StringComparison.Ordinal);
    }
}
