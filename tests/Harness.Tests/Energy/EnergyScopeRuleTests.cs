using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Tests.Fakes;

namespace Harness.Tests.Energy;

/// <summary>Where a backend works decides which meters describe its model: the CPU-time estimate only where the work is ours.</summary>
public sealed class EnergyScopeRuleTests
{
    private static readonly ManualClock Clock = new();
    private static readonly FakeEnergyMeter Rapl = new(Clock) { Source = "rapl" };
    private static readonly FakeEnergyMeter Estimate = new(Clock) { Source = "estimate", Quality = EnergyQuality.Estimated };

    [Fact]
    public void A_worker_process_keeps_the_estimate_of_its_own_cpu_time()
    {
        var (meters, notReported) = EnergyScopeRule.Apply(EnergyScope.WorkerProcess, [Estimate]);

        Assert.Equal([Estimate], meters);
        Assert.Null(notReported);
    }

    [Fact]
    public void A_local_server_is_measured_by_machine_wide_meters_but_never_by_the_clients_cpu_time()
    {
        var (measured, measuredReason) = EnergyScopeRule.Apply(EnergyScope.OtherLocalProcess, [Rapl]);
        Assert.Equal([Rapl], measured);
        Assert.Null(measuredReason);

        var (meters, notReported) = EnergyScopeRule.Apply(EnergyScope.OtherLocalProcess, [Estimate]);

        Assert.Empty(meters);
        Assert.Equal("not applicable: the work happens in the server process; machine-wide meters only", notReported);
    }

    [Fact]
    public void A_remote_endpoint_is_not_measured_even_where_a_meter_could_read_this_machine()
    {
        var (meters, notReported) = EnergyScopeRule.Apply(EnergyScope.Remote, [Rapl]);

        Assert.Empty(meters);
        Assert.Equal("not measured (remote endpoint)", notReported);
    }
}
