using Harness.Core.Contention;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Core.Verdicts;
using Harness.Tests.Serialization;

namespace Harness.Tests.Verdicts;

public sealed class BusyMachineVerdictTests
{
    private static readonly BusyMachine Busy = new("other processes used 43% of the CPU");

    private static List<ItemRecord> Items(int passed, int total, double totalMs, double? joules = null) =>
        Enumerable.Range(0, total)
            .Select(i => SampleRecords.Item("m", "s", $"q{i:D4}", passed: i < passed, totalMs: totalMs) with
            {
                Energy = joules is { } j ? Reading(j + (i % 2 == 0 ? 0.05 : -0.05)) : null,
            })
            .ToList();

    private static EnergyReading Reading(double netJoules) => new(
        "rapl", EnergyQuality.Measured, "test scope", EnergyAttribution.Exclusive, TimeSpan.FromSeconds(1),
        netJoules + 2, BaselineWatts: 2, NetJoules: netJoules, 0.1, null, null, []);

    [Fact]
    public void A_p95_over_the_ceiling_on_a_busy_machine_is_undecided_instead_of_insufficient()
    {
        var requirement = new Requirement(0.95, 0.95, TimeSpan.FromMilliseconds(100), null);
        var items = Items(200, 200, totalMs: 2400);

        var quiet = VerdictCalculator.Decide("m", "s", requirement, items);
        var busy = VerdictCalculator.Decide("m", "s", requirement, items, busyMachine: Busy);

        Assert.Equal(VerdictKind.Insufficient, quiet.Kind);
        Assert.Equal(VerdictKind.Undecided, busy.Kind);
        Assert.Contains(
            "p95 latency 2400 ms exceeds the ceiling 100 ms: undecided: measured on a busy machine (other processes used 43% of the CPU)",
            busy.Reasons);
        // The pass rate is not a timing: its figures and its reason stay as they were.
        Assert.Equal(quiet.PassRate, busy.PassRate);
        Assert.Equal(quiet.Reasons[0], busy.Reasons[0]);
    }

    [Fact]
    public void A_p95_within_the_ceiling_stands_on_a_busy_machine_since_contention_only_adds_time()
    {
        var requirement = new Requirement(0.95, 0.95, TimeSpan.FromMilliseconds(100), null);

        var verdict = VerdictCalculator.Decide("m", "s", requirement, Items(200, 200, totalMs: 80), busyMachine: Busy);

        Assert.Equal(VerdictKind.Sufficient, verdict.Kind);
    }

    [Fact]
    public void A_failed_pass_rate_stays_insufficient_on_a_busy_machine()
    {
        var requirement = new Requirement(0.95, 0.95, TimeSpan.FromMilliseconds(100), null);

        var verdict = VerdictCalculator.Decide("m", "s", requirement, Items(150, 200, totalMs: 2400), busyMachine: Busy);

        Assert.Equal(VerdictKind.Insufficient, verdict.Kind);
        Assert.Contains("is below the bar", verdict.Reasons[0], StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(5.0, "is within the ceiling")]
    [InlineData(1.0, "exceeds the ceiling")]
    public void An_energy_ceiling_measured_on_a_busy_machine_is_undecided_either_way(double ceiling, string quietWords)
    {
        var requirement = new Requirement(0.95, 0.95, null, ceiling);
        var items = Items(200, 200, totalMs: 50, joules: 3);

        var quiet = VerdictCalculator.Decide("m", "s", requirement, items);
        var busy = VerdictCalculator.Decide("m", "s", requirement, items, busyMachine: Busy);

        Assert.NotEqual(VerdictKind.Undecided, quiet.Kind);
        Assert.Contains(quiet.Reasons, r => r.Contains(quietWords, StringComparison.Ordinal));
        Assert.Equal(VerdictKind.Undecided, busy.Kind);
        Assert.Contains(busy.Reasons, r => r.Contains(quietWords, StringComparison.Ordinal)
            && r.EndsWith(": undecided: measured on a busy machine (other processes used 43% of the CPU)", StringComparison.Ordinal));
        Assert.Equal(quiet.JoulesPerItem, busy.JoulesPerItem);
    }

    [Fact]
    public void Without_a_ceiling_a_busy_machine_changes_nothing()
    {
        var requirement = new Requirement(0.95, 0.95, null, null);
        var items = Items(200, 200, totalMs: 2400, joules: 3);

        Assert.Equal(
            string.Join(" / ", VerdictCalculator.Decide("m", "s", requirement, items).Reasons),
            string.Join(" / ", VerdictCalculator.Decide("m", "s", requirement, items, busyMachine: Busy).Reasons));
        Assert.Equal(VerdictKind.Sufficient, VerdictCalculator.Decide("m", "s", requirement, items, busyMachine: Busy).Kind);
    }
}
