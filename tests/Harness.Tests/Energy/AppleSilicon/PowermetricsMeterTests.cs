using System.Globalization;
using System.Runtime.CompilerServices;
using Harness.Core.Energy;
using Harness.Energy.AppleSilicon;

namespace Harness.Tests.Energy.AppleSilicon;

public sealed class PowermetricsMeterTests
{
    // Two samples of `powermetrics --samplers cpu_power,gpu_power,ane_power` as macOS 14/15 print them; the gpu_power
    // sampler repeats "GPU Power" in its own section.
    private const string TwoSamples = """
        Machine model: Mac15,3
        OS version: 24A335
        Boot arguments:
        Boot time: Mon Sep 30 08:12:40 2024



        *** Sampled system activity (Mon Sep 30 09:01:12 2024 +0200) (1002.50ms elapsed) ***


        **** Processor usage ****

        E-Cluster HW active frequency: 1140 MHz
        E-Cluster HW active residency:  61.02% (744 MHz:  40% 1044 MHz:  12% 2748 MHz: 9.1%)
        E-Cluster idle residency:  38.98%
        CPU 0 frequency: 1188 MHz

        P-Cluster HW active frequency: 702 MHz
        P-Cluster HW active residency:   3.12% (696 MHz:  98% 4056 MHz: .02%)
        P-Cluster idle residency:  96.88%

        CPU Power: 823 mW
        GPU Power: 26 mW
        ANE Power: 0 mW
        Combined Power (CPU + GPU + ANE): 849 mW

        **** GPU usage ****

        GPU HW active frequency: 338 MHz
        GPU HW active residency:   2.40% (338 MHz: 2.4%)
        GPU idle residency:  97.60%
        GPU Power: 26 mW


        *** Sampled system activity (Mon Sep 30 09:01:13 2024 +0200) (1000.00ms elapsed) ***


        **** Processor usage ****

        CPU Power: 1500 mW
        GPU Power: 400 mW
        ANE Power: 120 mW
        Combined Power (CPU + GPU + ANE): 2020 mW

        **** GPU usage ****

        GPU Power: 401 mW

        """;

    [Fact]
    public void Recorded_output_integrates_power_over_each_samples_elapsed_time()
    {
        var integrator = new PowermetricsIntegrator(new ManualClock());

        foreach (var line in Lines(TwoSamples))
        {
            integrator.OnLine(line);
        }

        // CPU: 0.823 W x 1.0025 s + 1.5 W x 1.0 s = 0.8250575 + 1.5 = 2.3250575 J
        // GPU: 0.026 W x 1.0025 s + 0.4 W x 1.0 s = 0.026065 + 0.4 = 0.426065 J (the repeated 401 mW is not added)
        // ANE: 0 + 0.12 W x 1.0 s = 0.12 J; the "Combined Power" line is the sum of these and is not counted.
        Assert.Equal([2.3250575, 0.426065, 0.12], integrator.Totals().AsEnumerable(), new ToleranceComparer(1e-9));
    }

    [Fact]
    public void Totals_grow_as_samples_arrive()
    {
        var integrator = new PowermetricsIntegrator(new ManualClock());
        var lines = Lines(TwoSamples);
        var secondHeader = Array.FindLastIndex(lines, l => l.StartsWith("*** Sampled", StringComparison.Ordinal));

        foreach (var line in lines[..secondHeader])
        {
            integrator.OnLine(line);
        }

        var afterFirst = integrator.Totals();

        Assert.Equal([0.8250575, 0.026065, 0.0], afterFirst.AsEnumerable(), new ToleranceComparer(1e-9));
        Assert.Equal([0.0, 0.0, 0.0], new PowermetricsIntegrator(new ManualClock()).Totals().AsEnumerable());
    }

    [Fact]
    public void Without_a_printed_elapsed_time_the_gap_between_headers_is_used()
    {
        var clock = new ManualClock();
        var integrator = new PowermetricsIntegrator(clock);

        clock.Advance(TimeSpan.FromMilliseconds(500));
        integrator.OnLine("*** Sampled system activity (Mon Sep 30 09:01:12 2024 +0200) ***");
        integrator.OnLine("CPU Power: 2000 mW");
        clock.Advance(TimeSpan.FromMilliseconds(250));
        integrator.OnLine("*** Sampled system activity (Mon Sep 30 09:01:12 2024 +0200) ***");
        integrator.OnLine("CPU Power: 4.0 W");

        // 2 W x 0.5 s (since Open) + 4 W x 0.25 s = 1.0 + 1.0 = 2.0 J
        Assert.Equal(2.0, integrator.Totals()[0], 12);
    }

    [Fact]
    public void Parsing_ignores_the_current_culture()
    {
        var saved = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            var integrator = new PowermetricsIntegrator(new ManualClock());

            integrator.OnLine("*** Sampled system activity (Mon Sep 30 09:01:12 2024 +0200) (1500.00ms elapsed) ***");
            integrator.OnLine("GPU Power: 1.25 W");

            // 1.25 W x 1.5 s = 1.875 J
            Assert.Equal(1.875, integrator.Totals()[1], 12);
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public async Task The_counter_reads_what_the_source_printed()
    {
        var meter = new PowermetricsMeter(new FakeSource(TwoSamples), TimeSpan.FromSeconds(1), new ManualClock(), isMacOS: true, isRoot: true);

        using var counter = (PowermetricsCounter)meter.Open();
        await counter.Pump;

        Assert.Equal(["cpu", "gpu", "ane"], counter.Channels.Select(c => c.Name));
        Assert.Equal([EnergyDomain.Cpu, EnergyDomain.Gpu, EnergyDomain.Accelerator], counter.Channels.Select(c => c.Domain));
        Assert.Equal([2.3250575, 0.426065, 0.12], counter.Read().AsEnumerable(), new ToleranceComparer(1e-9));
    }

    [Fact]
    public async Task A_source_that_fails_makes_read_throw_the_meter_exception()
    {
        var source = new FakeSource(TwoSamples) { Failure = new EnergyMeterException("powermetrics: exited with code 1: must be invoked as the superuser") };
        var meter = new PowermetricsMeter(source, TimeSpan.FromSeconds(1), new ManualClock(), isMacOS: true, isRoot: true);

        using var counter = (PowermetricsCounter)meter.Open();
        await Assert.ThrowsAsync<EnergyMeterException>(() => counter.Pump);

        var ex = Assert.Throws<EnergyMeterException>(() => counter.Read());
        Assert.Contains("superuser", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Not_root_is_unusable_with_the_sudo_remedy()
    {
        var meter = new PowermetricsMeter(new FakeSource(TwoSamples), TimeSpan.FromMilliseconds(100), new ManualClock(), isMacOS: true, isRoot: false);

        var probe = meter.Probe();

        Assert.False(probe.Usable);
        Assert.Equal("powermetrics", probe.Source);
        Assert.Equal("run harness with sudo to use powermetrics, or rely on IOReport which needs no sudo", probe.Remedy);
        Assert.Throws<EnergyMeterException>(meter.Open);
    }

    [Fact]
    public void Not_macos_is_unusable()
    {
        var probe = new PowermetricsMeter(new FakeSource(TwoSamples), TimeSpan.FromMilliseconds(100), new ManualClock(), isMacOS: false, isRoot: true).Probe();

        Assert.False(probe.Usable);
        Assert.Contains("macOS", probe.Detail, StringComparison.Ordinal);
        Assert.Null(probe.Remedy);
    }

    [Fact]
    public void Root_on_macos_is_usable_and_measured_with_the_sample_interval()
    {
        var probe = new PowermetricsMeter(new FakeSource(TwoSamples), TimeSpan.FromMilliseconds(200), new ManualClock(), isMacOS: true, isRoot: true).Probe();

        Assert.True(probe.Usable);
        Assert.Equal(EnergyQuality.Measured, probe.Quality);
        Assert.Equal(TimeSpan.FromMilliseconds(200), probe.UpdateInterval);

        // 1 mW x 0.2 s = 0.0002 J
        Assert.Equal(2e-4, probe.ResolutionJoules, 15);
        Assert.Contains("200 ms", probe.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void The_real_meter_probes_this_machine_without_throwing()
    {
        var probe = new PowermetricsMeter(TimeSpan.FromMilliseconds(100), TimeProvider.System).Probe();

        Assert.Equal("powermetrics", probe.Source);
        if (!OperatingSystem.IsMacOS())
        {
            Assert.False(probe.Usable);
        }
    }

    private static string[] Lines(string text) => text.Split('\n');

    private sealed class FakeSource(string output) : IPowermetricsSource
    {
        public EnergyMeterException? Failure { get; init; }

        public bool IsInstalled => true;

        public async IAsyncEnumerable<string> ReadLinesAsync(TimeSpan sampleInterval, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            foreach (var line in Lines(output))
            {
                await Task.Yield();
                yield return line;
            }

            if (Failure is not null)
            {
                throw Failure;
            }
        }
    }

    /// <summary>A clock whose timestamps move only when told to.</summary>
    private sealed class ManualClock : TimeProvider
    {
        private long _ticks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _ticks;

        public void Advance(TimeSpan by) => _ticks += by.Ticks;
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
