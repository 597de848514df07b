using Harness.Core.Energy;
using Harness.Energy.Estimate;

namespace Harness.Tests.Energy.Estimate;

public sealed class CpuTimeEstimateMeterTests
{
    private TimeSpan _cpu = TimeSpan.FromSeconds(1);
    private TimeSpan _busy = TimeSpan.FromSeconds(4);

    private CpuTimeEstimateMeter Meter(double wattsPerCore, double? gpuWatts, bool offloaded) =>
        new(() => _cpu, () => _busy, new EnergyEstimateParameters(wattsPerCore, gpuWatts), offloaded, "worker process");

    [Fact]
    public void Joules_are_cpu_seconds_since_open_times_watts_per_core()
    {
        using var counter = Meter(12, null, offloaded: false).Open();
        _cpu += TimeSpan.FromSeconds(2.5); // two cores busy for 1.25 s

        var joules = Assert.Single(counter.Read());

        Assert.Equal(30, joules, 9); // 2.5 CPU-s x 12 W
        Assert.Equal(EnergyDomain.Process, Assert.Single(counter.Channels).Domain);
    }

    [Fact]
    public void A_model_with_gpu_layers_and_a_board_power_adds_request_time_times_board_power_on_its_own_channel()
    {
        using var counter = Meter(10, 150, offloaded: true).Open();
        _cpu += TimeSpan.FromSeconds(0.5);
        _busy += TimeSpan.FromSeconds(2);

        var joules = counter.Read();

        Assert.Equal(["cpu", "gpu"], counter.Channels.Select(c => c.Name));
        Assert.Equal(5, joules[0], 9);   // 0.5 CPU-s x 10 W
        Assert.Equal(300, joules[1], 9); // 2 s busy x 150 W
    }

    [Fact]
    public void Without_offloaded_layers_the_board_power_is_not_counted()
    {
        using var counter = Meter(10, 150, offloaded: false).Open();
        _busy += TimeSpan.FromSeconds(2);

        Assert.Equal(["cpu"], counter.Channels.Select(c => c.Name));
    }

    [Fact]
    public void The_probe_is_labelled_estimated_and_names_its_parameters()
    {
        var probe = Meter(7.5, 150, offloaded: true).Probe();

        Assert.True(probe.Usable);
        Assert.Equal("estimate", probe.Source);
        Assert.Equal(EnergyQuality.Estimated, probe.Quality);
        Assert.Contains("7.5 W per core", probe.Scope, StringComparison.Ordinal);
        Assert.Contains("150 W GPU board power", probe.Scope, StringComparison.Ordinal);
    }

    [Fact]
    public void A_process_that_has_exited_stops_the_counter_with_a_meter_error()
    {
        var exited = false;
        var meter = new CpuTimeEstimateMeter(
            () => exited ? throw new InvalidOperationException("No process is associated with this object.") : TimeSpan.Zero,
            () => TimeSpan.Zero, new EnergyEstimateParameters(10, null), false, "worker process");
        using var counter = meter.Open();
        exited = true;

        var ex = Assert.Throws<EnergyMeterException>(() => counter.Read());

        Assert.Contains("worker process", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Non_positive_watts_make_the_estimate_unusable()
    {
        var meter = Meter(0, null, false);

        Assert.False(meter.Probe().Usable);
        Assert.Throws<EnergyMeterException>(() => meter.Open());
    }
}
