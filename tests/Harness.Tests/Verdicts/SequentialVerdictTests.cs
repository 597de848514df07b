using System.Collections.Immutable;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;
using Harness.Tests.Serialization;

namespace Harness.Tests.Verdicts;

public class SequentialVerdictTests
{
    private static readonly Requirement Bar80 = new(0.8, 0.95, null, null);

    private static ImmutableArray<string> Order(int count) => [.. Enumerable.Range(0, count).Select(i => $"q{i:D3}")];

    // Item i passes when pass(i); the order is q000, q001, ... so the outcomes are seen in index order.
    private static List<ItemRecord> Records(int count, Func<int, bool> pass, double totalMs = 100) =>
        [.. Enumerable.Range(0, count).Select(i => SampleRecords.Item("m", "s", $"q{i:D3}", pass(i), totalMs: totalMs))];

    private static FixedSuiteVerdict Decide(Requirement requirement, ImmutableArray<string> order, IReadOnlyCollection<ItemRecord> records) =>
        SequentialVerdictCalculator.Decide("m", "s", requirement, order, 7, records);

    private static int FirstCrossing(double bar, Func<int, bool> pass, int count)
    {
        var test = TwoSidedBettingTest.Start(bar, 0.95);
        for (int i = 0; i < count; i++)
        {
            test = test.Observe(pass(i));
            if (test.Decision is not null)
            {
                return i + 1;
            }
        }

        return -1;
    }

    [Fact]
    public void A_model_far_above_the_bar_is_sufficient_after_a_fraction_of_the_items()
    {
        var records = Records(500, _ => true);

        var verdict = Decide(Bar80, Order(500), records);

        int expected = FirstCrossing(0.8, _ => true, 500);
        Assert.Equal(VerdictKind.Sufficient, verdict.Kind);
        Assert.InRange(expected, 10, 60);
        Assert.Equal(expected, verdict.Sequential!.ItemsUsed);
        Assert.True(verdict.Sequential.Decided);
        Assert.Equal(500, verdict.Sequential.ItemsRecorded);
        Assert.Equal(expected, verdict.Items);
        Assert.True(verdict.Sequential.PassCapitalAbove >= verdict.Sequential.Threshold);
        Assert.Equal(40, verdict.Sequential.Threshold, 9);
        Assert.Contains(verdict.Reasons, r => r == $"decided after {expected} of 500 items (sequential rule)");
        Assert.Equal($"decided after {expected} of 500 items (sequential)", ReportText.ItemsUsed(verdict, 500));
    }

    [Fact]
    public void A_model_far_below_the_bar_is_insufficient_early()
    {
        var records = Records(500, i => i % 2 == 0); // 50 % against 80 %

        var verdict = Decide(Bar80, Order(500), records);

        Assert.Equal(VerdictKind.Insufficient, verdict.Kind);
        Assert.Equal(FirstCrossing(0.8, i => i % 2 == 0, 500), verdict.Sequential!.ItemsUsed);
        Assert.True(verdict.Sequential.ItemsUsed < 100);
        Assert.Contains("below the bar 80.0%", verdict.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void The_replay_follows_the_recorded_order_not_the_order_records_arrived_in()
    {
        // The same records in a different order of arrival give the same verdict: the order decides, not the store.
        var records = Records(300, i => i % 5 != 0);
        var shuffled = Enumerable.Reverse(records).ToList();

        Assert.Equal(Decide(Bar80, Order(300), records), Decide(Bar80, Order(300), shuffled), new VerdictComparer());
    }

    [Fact]
    public void A_gap_in_the_order_stops_the_replay_until_that_item_is_recorded()
    {
        var records = Records(500, _ => true);
        records.RemoveAll(r => r.Key.ItemId == "q005");

        var verdict = Decide(Bar80, Order(500), records);

        Assert.Equal(VerdictKind.Undecided, verdict.Kind);
        Assert.Equal(5, verdict.Sequential!.ItemsUsed);
        Assert.False(verdict.Sequential.Decided);
        Assert.Contains("undecided after 5 of 500 items: the run has not reached the rest (resume it)", verdict.Reasons);
    }

    [Fact]
    public void A_suite_exhausted_at_the_bar_stays_undecided_and_says_so()
    {
        var records = Records(40, i => i % 5 != 0); // exactly 80 %

        var verdict = Decide(Bar80, Order(40), records);

        Assert.Equal(VerdictKind.Undecided, verdict.Kind);
        Assert.Equal(40, verdict.Sequential!.ItemsUsed);
        Assert.Contains("undecided after all 40 items: the rate is too close to the bar for this suite to decide", verdict.Reasons);
        Assert.Equal("40 of 40 items, not decided (sequential)", ReportText.ItemsUsed(verdict, 40));
    }

    [Fact]
    public void A_failure_that_is_the_models_fault_counts_as_a_fail_and_one_that_is_not_feeds_no_test()
    {
        var timeout = SampleRecords.Item("m", "s", "q000", passed: false, status: ItemStatus.Failed) with { Failure = ItemFailureKind.Timeout };
        var overflow = SampleRecords.Item("m", "s", "q000", passed: false, status: ItemStatus.Failed) with { Failure = ItemFailureKind.ContextOverflow };

        var afterTimeout = SequentialState.Start(Bar80).Observe(timeout);
        var afterOverflow = SequentialState.Start(Bar80).Observe(overflow);

        Assert.Equal(1, afterTimeout.PassRate.Above.Observations);
        Assert.Equal(0, afterTimeout.Passed);
        Assert.Equal(1, afterTimeout.ItemsUsed);
        Assert.Equal(0, afterOverflow.PassRate.Above.Observations);
        Assert.Equal(1, afterOverflow.ItemsUsed);
    }

    [Fact]
    public void A_fast_model_is_decided_only_when_the_latency_test_also_decides()
    {
        // Every item passes in 50 ms under a 100 ms ceiling: the pass rate decides first; the latency indicator is tested
        // against 0.95, whose bet can win at most 0.75 * 0.05 / 0.95 per item, so it takes longer.
        var requirement = Bar80 with { MaxP95Latency = TimeSpan.FromMilliseconds(100) };
        var records = Records(500, _ => true, totalMs: 50);

        var verdict = Decide(requirement, Order(500), records);

        int passOnly = FirstCrossing(0.8, _ => true, 500);
        int latencyOnly = FirstCrossing(0.95, _ => true, 500);
        Assert.True(latencyOnly > passOnly);
        Assert.Equal(VerdictKind.Sufficient, verdict.Kind);
        Assert.Equal(latencyOnly, verdict.Sequential!.ItemsUsed);
        Assert.NotNull(verdict.Sequential.LatencyCapitalWithin);
        Assert.Contains(verdict.Reasons, r => r.Contains("more than 95% of items within the ceiling 100 ms", StringComparison.Ordinal));
    }

    [Fact]
    public void A_slow_model_is_insufficient_as_soon_as_the_latency_test_shows_the_p95_over_the_ceiling()
    {
        var requirement = Bar80 with { MaxP95Latency = TimeSpan.FromMilliseconds(100) };
        var records = Records(500, _ => true, totalMs: 150);

        var verdict = Decide(requirement, Order(500), records);

        Assert.Equal(VerdictKind.Insufficient, verdict.Kind);
        Assert.Equal(FirstCrossing(0.95, _ => false, 500), verdict.Sequential!.ItemsUsed);
        Assert.Contains(verdict.Reasons, r => r.Contains("fewer than 95% of items within the ceiling 100 ms", StringComparison.Ordinal));
    }

    [Fact]
    public void The_energy_ceiling_is_checked_by_the_fixed_n_rule_over_the_items_used_and_never_holds_a_run_open()
    {
        var requirement = Bar80 with { MaxJoulesPerItem = 5 };
        var records = Records(500, _ => true);

        var verdict = Decide(requirement, Order(500), records);

        // No energy was measured: the pass rate decided the stop, the energy leaves the verdict undecided.
        Assert.Equal(VerdictKind.Undecided, verdict.Kind);
        Assert.True(verdict.Sequential!.Decided);
        Assert.Contains(verdict.Reasons, r => r.StartsWith("energy not measured", StringComparison.Ordinal) && r.EndsWith("(fixed-n check over the items used)", StringComparison.Ordinal));
    }

    [Fact]
    public void The_printed_interval_is_the_confidence_sequence_over_the_items_used()
    {
        var records = Records(500, i => i % 2 == 0);

        var verdict = Decide(Bar80, Order(500), records);

        var used = records.Take(verdict.Sequential!.ItemsUsed).Select(r => r.Passed).ToArray();
        Assert.Equal(BettingConfidenceSequence.Interval(used, 0.95), verdict.PassRate!.Interval);
        Assert.True(verdict.PassRate.Interval.Upper < 0.8);
    }

    [Fact]
    public void Records_of_another_model_are_refused() =>
        Assert.Throws<ArgumentException>(() =>
            SequentialVerdictCalculator.Decide("other", "s", Bar80, Order(3), 1, Records(3, _ => true)));

    private sealed class VerdictComparer : IEqualityComparer<FixedSuiteVerdict>
    {
        public bool Equals(FixedSuiteVerdict? x, FixedSuiteVerdict? y) =>
            x is not null && y is not null && x.Kind == y.Kind && x.Sequential == y.Sequential && x.Reasons.SequenceEqual(y.Reasons);

        public int GetHashCode(FixedSuiteVerdict obj) => obj.Kind.GetHashCode();
    }
}
