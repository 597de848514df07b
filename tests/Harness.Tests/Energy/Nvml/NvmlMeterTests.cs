using Harness.Core.Energy;
using Harness.Energy.Nvml;

namespace Harness.Tests.Energy.Nvml;

public sealed class NvmlMeterTests
{
    [Fact]
    public void Energy_counters_report_growth_since_open_per_gpu_in_joules()
    {
        var nvml = new FakeNvml(new FakeGpu("NVIDIA H200") { Millijoules = 1_000_000 }, new FakeGpu("NVIDIA H100") { Millijoules = 5_000_000 });
        using var counter = new NvmlMeter(nvml, new ManualClock()).Open();

        EnergyChannel[] channels = [new("gpu-0 (NVIDIA H200)", EnergyDomain.Gpu), new("gpu-1 (NVIDIA H100)", EnergyDomain.Gpu)];
        Assert.Equal(channels, counter.Channels.ToArray());
        Assert.Equal(TimeSpan.FromSeconds(10), counter.MaxReadInterval);

        nvml.Gpus[0].Millijoules = 1_012_345;
        nvml.Gpus[1].Millijoules = 5_250_000;
        AssertJoules([12.345, 250.0], counter.Read());

        nvml.Gpus[0].Millijoules = 1_020_000;
        AssertJoules([20.0, 250.0], counter.Read());
    }

    [Fact]
    public void Power_polling_integrates_samples_with_the_trapezoid_rule()
    {
        var clock = new ManualClock();
        var gpu = new FakeGpu("Tesla P100") { Milliwatts = 100_000 };
        var nvml = new FakeNvml(gpu);
        using var counter = new NvmlMeter(nvml, clock).Open();
        Assert.Equal(TimeSpan.FromMilliseconds(100), counter.MaxReadInterval);

        // 100 W to 200 W over 100 ms: (100 + 200) / 2 W x 0.1 s = 15 J.
        clock.Advance(TimeSpan.FromMilliseconds(100));
        gpu.Milliwatts = 200_000;
        Assert.Equal(15.0, counter.Read()[0], Tolerance);

        // 200 W held for 50 ms: + 10 J.
        clock.Advance(TimeSpan.FromMilliseconds(50));
        Assert.Equal(25.0, counter.Read()[0], Tolerance);

        // 200 W down to 0 W over 250 ms: + (200 + 0) / 2 W x 0.25 s = 25 J.
        clock.Advance(TimeSpan.FromMilliseconds(250));
        gpu.Milliwatts = 0;
        Assert.Equal(50.0, counter.Read()[0], Tolerance);
    }

    [Fact]
    public void Mixed_machine_uses_the_counter_where_there_is_one_and_polls_the_rest()
    {
        var clock = new ManualClock();
        var nvml = new FakeNvml(
            new FakeGpu("NVIDIA A100") { Millijoules = 7_000 },
            new FakeGpu("Tesla P4") { Milliwatts = 60_000 });
        var meter = new NvmlMeter(nvml, clock);

        var probe = meter.Probe();
        Assert.True(probe.Usable);
        Assert.Equal("nvml", probe.Source);
        Assert.Equal(EnergyQuality.Measured, probe.Quality);
        Assert.Equal("NVIDIA GPU board power (2 devices), whole board", probe.Scope);
        Assert.Equal("gpu-0 (NVIDIA A100): energy counter; gpu-1 (Tesla P4): power polling (no energy counter on this GPU)", probe.Detail);
        Assert.Equal(TimeSpan.FromMilliseconds(100), probe.UpdateInterval);
        Assert.Equal(0.001, probe.ResolutionJoules);
        Assert.Null(probe.Remedy);

        using var counter = meter.Open();
        Assert.Equal(TimeSpan.FromMilliseconds(100), counter.MaxReadInterval);
        clock.Advance(TimeSpan.FromSeconds(2));
        nvml.Gpus[0].Millijoules = 507_000;
        nvml.Gpus[1].Milliwatts = 80_000;

        // gpu-0: 500 000 mJ; gpu-1: (60 + 80) / 2 W x 2 s = 140 J.
        AssertJoules([500.0, 140.0], counter.Read());
    }

    [Fact]
    public void Missing_library_is_unusable_and_names_the_driver()
    {
        var meter = new NvmlMeter(null, new ManualClock());

        var probe = meter.Probe();
        Assert.False(probe.Usable);
        Assert.Equal("nvml", probe.Source);
        Assert.Contains("not found (no NVIDIA driver)", probe.Detail, StringComparison.Ordinal);
        Assert.Equal("install the NVIDIA driver", probe.Remedy);
        Assert.Throws<EnergyMeterException>(meter.Open);
    }

    [Fact]
    public void Init_failure_reports_the_nvml_error_and_code()
    {
        var nvml = new FakeNvml(new FakeGpu("NVIDIA H200")) { InitResult = NvmlReturn.DriverNotLoaded };
        var meter = new NvmlMeter(nvml, new ManualClock());

        var probe = meter.Probe();
        Assert.False(probe.Usable);
        Assert.Equal("nvmlInit_v2 failed: DriverNotLoaded message (NVML error 9)", probe.Detail);

        var error = Assert.Throws<EnergyMeterException>(meter.Open);
        Assert.Equal("nvml: nvmlInit_v2 failed: DriverNotLoaded message (NVML error 9)", error.Message);
        Assert.Equal(0, nvml.ShutdownCalls);
    }

    [Fact]
    public void Zero_devices_is_unusable_and_releases_nvml()
    {
        var nvml = new FakeNvml();
        var meter = new NvmlMeter(nvml, new ManualClock());

        var probe = meter.Probe();
        Assert.False(probe.Usable);
        Assert.Equal("NVML found no GPU", probe.Detail);
        Assert.Throws<EnergyMeterException>(meter.Open);
        Assert.Equal(2, nvml.InitCalls);
        Assert.Equal(2, nvml.ShutdownCalls);
    }

    [Fact]
    public void Gpu_without_counter_or_power_reading_is_skipped_with_the_reason()
    {
        var nvml = new FakeNvml(
            new FakeGpu("NVIDIA H200") { Millijoules = 1 },
            new FakeGpu("GeForce GT 710") { PowerError = NvmlReturn.NotSupported });

        var probe = new NvmlMeter(nvml, new ManualClock()).Probe();

        Assert.True(probe.Usable);
        Assert.Equal("NVIDIA GPU board power (1 device), whole board", probe.Scope);
        Assert.Equal(
            "gpu-0 (NVIDIA H200): energy counter; skipped gpu-1 (GeForce GT 710): not measurable, "
            + "nvmlDeviceGetPowerUsage failed: NotSupported message (NVML error 3)",
            probe.Detail);
    }

    [Fact]
    public void Read_error_names_the_device_and_the_nvml_error()
    {
        var nvml = new FakeNvml(new FakeGpu("NVIDIA H200") { Millijoules = 10 }, new FakeGpu("Tesla V100") { Millijoules = 20 });
        using var counter = new NvmlMeter(nvml, new ManualClock()).Open();

        nvml.Gpus[1].EnergyError = NvmlReturn.GpuIsLost;
        var error = Assert.Throws<EnergyMeterException>(() => counter.Read());

        Assert.Equal("nvml: gpu-1 (Tesla V100): nvmlDeviceGetTotalEnergyConsumption failed: GpuIsLost message (NVML error 15)", error.Message);
    }

    [Fact]
    public void Probe_releases_nvml_and_an_open_counter_holds_it_until_disposed()
    {
        var nvml = new FakeNvml(new FakeGpu("NVIDIA H200"));
        var meter = new NvmlMeter(nvml, new ManualClock());

        meter.Probe();
        Assert.Equal((1, 1), (nvml.InitCalls, nvml.ShutdownCalls));

        var counter = meter.Open();
        Assert.Equal((2, 1), (nvml.InitCalls, nvml.ShutdownCalls));
        counter.Dispose();
        counter.Dispose();
        Assert.Equal((2, 2), (nvml.InitCalls, nvml.ShutdownCalls));
        Assert.Throws<ObjectDisposedException>(() => counter.Read());
    }

    [Fact]
    public void Real_library_probe_never_throws()
    {
        // Runs against whatever this machine has: no driver on CI, a real GPU on a device machine.
        var probe = new NvmlMeter(TimeProvider.System).Probe();

        Assert.Equal("nvml", probe.Source);
        Assert.False(string.IsNullOrEmpty(probe.Detail));
    }

    private const double Tolerance = 1e-9;

    private static void AssertJoules(double[] expected, IReadOnlyList<double> actual)
    {
        Assert.Equal(expected.Length, actual.Count);
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], actual[i], Tolerance);
        }
    }

    private sealed class FakeGpu(string name)
    {
        public string Name { get; } = name;

        /// <summary>Null: the GPU predates the energy counter (NOT_SUPPORTED).</summary>
        public ulong? Millijoules { get; set; }

        public uint Milliwatts { get; set; } = 50_000;

        public NvmlReturn? EnergyError { get; set; }

        public NvmlReturn? PowerError { get; set; }
    }

    private sealed class FakeNvml(params FakeGpu[] gpus) : INvml
    {
        public FakeGpu[] Gpus { get; } = gpus;

        public NvmlReturn InitResult { get; init; } = NvmlReturn.Success;

        public int InitCalls { get; private set; }

        public int ShutdownCalls { get; private set; }

        public NvmlReturn Init()
        {
            InitCalls++;
            return InitResult;
        }

        public NvmlReturn Shutdown()
        {
            ShutdownCalls++;
            return NvmlReturn.Success;
        }

        public NvmlReturn GetDeviceCount(out uint count)
        {
            count = (uint)Gpus.Length;
            return NvmlReturn.Success;
        }

        public NvmlReturn GetDeviceName(uint index, out string name)
        {
            name = Gpus[index].Name;
            return NvmlReturn.Success;
        }

        public NvmlReturn GetTotalEnergyConsumption(uint index, out ulong millijoules)
        {
            var gpu = Gpus[index];
            millijoules = gpu.Millijoules ?? 0;
            return gpu.EnergyError ?? (gpu.Millijoules is null ? NvmlReturn.NotSupported : NvmlReturn.Success);
        }

        public NvmlReturn GetPowerUsage(uint index, out uint milliwatts)
        {
            milliwatts = Gpus[index].Milliwatts;
            return Gpus[index].PowerError ?? NvmlReturn.Success;
        }

        public string ErrorString(NvmlReturn code) => $"{code} message";
    }

    /// <summary>A clock that moves only when told, with 100 ns timestamp ticks.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => ticks;

        public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddTicks(ticks);

        public void Advance(TimeSpan by) => ticks += by.Ticks;
    }
}
