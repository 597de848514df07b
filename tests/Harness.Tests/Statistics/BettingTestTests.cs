using Harness.Core.Statistics;

namespace Harness.Tests.Statistics;

public class BettingTestTests
{
    private const double Alpha = 0.025;

    private static BernoulliBettingTest Feed(BernoulliBettingTest test, params bool[] outcomes)
    {
        foreach (bool outcome in outcomes)
        {
            test = test.Observe(outcome);
        }

        return test;
    }

    [Fact]
    public void Capital_after_three_items_matches_the_hand_computation()
    {
        // m = 0.5, prior weight 5 at m: estimate_t = (S + 2.5) / (t + 5), bet = (estimate - 0.5) / 0.25, cap 0.75 / 0.5.
        // item 1: estimate 2.5/5 = 0.5 -> bet 0; X = 1 -> capital 1.
        // item 2: estimate 3.5/6 -> bet (1/12) / 0.25 = 1/3; X = 1 pays +0.5 -> capital 1 + 1/6 = 7/6.
        // item 3: estimate 4.5/7 -> bet (1/7) / 0.25 = 4/7; X = 0 pays -0.5 -> capital 7/6 * (1 - 2/7) = 5/6.
        var test = BernoulliBettingTest.Start(0.5, BetDirection.Above, Alpha);

        Assert.Equal(0.0, test.NextBet());
        test = test.Observe(true);
        Assert.Equal(1.0, test.Capital, 12);
        Assert.Equal(1.0 / 3.0, test.NextBet(), 12);
        test = test.Observe(true);
        Assert.Equal(7.0 / 6.0, test.Capital, 12);
        Assert.Equal(4.0 / 7.0, test.NextBet(), 12);
        test = test.Observe(false);
        Assert.Equal(5.0 / 6.0, test.Capital, 12);
        Assert.Equal(3, test.Observations);
        Assert.Equal(2, test.Successes);
        Assert.False(test.Rejected);
    }

    [Fact]
    public void Betting_below_gains_on_failures_as_worked_out()
    {
        // m = 0.5 against H0: p >= 0.5, all failures: after t failures the bet is 2t / (t + 5) and a failure pays +0.5,
        // so the capital after 4 failures is 1 * (1 + 1/6) * (1 + 2/7) * (1 + 3/8) = 693 / 336 = 2.0625.
        var test = Feed(BernoulliBettingTest.Start(0.5, BetDirection.Below, Alpha), false, false, false, false);

        Assert.Equal(2.0625, test.Capital, 12);
    }

    [Fact]
    public void The_bet_is_clipped_so_one_adverse_item_never_takes_the_whole_capital()
    {
        // m = 0.8, 40 straight successes: the Kelly bet 1.25 t / (t + 5) passes the cap 0.75 / 0.8 = 0.9375 at t > 15.
        var test = BernoulliBettingTest.Start(0.8, BetDirection.Above, 1e-30);
        for (int t = 0; t < 40; t++)
        {
            double expected = Math.Min(1.25 * t / (t + 5.0), 0.9375);
            Assert.Equal(expected, test.NextBet(), 12);
            test = test.Observe(true);
        }

        // The cap keeps 1 - 0.9375 * 0.8 = 25 % of the capital after a failure.
        double before = test.LogCapital;
        test = test.Observe(false);
        Assert.Equal(Math.Log(0.25), test.LogCapital - before, 12);
    }

    [Fact]
    public void It_rejects_when_the_capital_reaches_one_over_alpha_and_stays_rejected()
    {
        var test = BernoulliBettingTest.Start(0.5, BetDirection.Below, Alpha);
        int t = 0;
        while (!test.Rejected)
        {
            test = test.Observe(false);
            t++;
            Assert.True(t < 100);
        }

        Assert.Equal(t, test.RejectedAfter);
        Assert.True(test.Capital >= 1 / Alpha);
        // Capital just before the crossing was below 40; after it, more items change nothing.
        var after = test.Observe(true).Observe(true);
        Assert.Equal(test, after);
    }

    [Fact]
    public void The_two_sided_test_spends_half_the_error_on_each_side_and_reports_the_first_crossing()
    {
        var test = TwoSidedBettingTest.Start(0.8, 0.95);
        Assert.Equal(0.025, test.Above.Alpha, 15);
        Assert.Equal(0.025, test.Below.Alpha, 15);
        Assert.Null(test.Decision);

        for (int i = 0; i < 200 && test.Decision is null; i++)
        {
            test = test.Observe(true);
        }

        Assert.Equal(BetDirection.Above, test.Decision);
        Assert.Equal(test.Above.RejectedAfter, test.DecidedAfter);
        Assert.False(test.Below.Rejected);
        Assert.Equal(test, test.Observe(false));
    }

    [Fact]
    public void Same_outcomes_give_the_same_state_bit_for_bit()
    {
        // Property: the state is a pure function of the outcomes, so a replay from the store reproduces the run.
        var random = new Random(20261207);
        for (int run = 0; run < 200; run++)
        {
            double p = random.NextDouble();
            bool[] outcomes = [.. Enumerable.Range(0, random.Next(1, 300)).Select(_ => random.NextDouble() < p)];
            double bar = 0.05 + 0.9 * random.NextDouble();

            var first = TwoSidedBettingTest.Start(bar, 0.95);
            var second = TwoSidedBettingTest.Start(bar, 0.95);
            foreach (bool outcome in outcomes)
            {
                first = first.Observe(outcome);
            }

            foreach (bool outcome in outcomes)
            {
                second = second.Observe(outcome);
            }

            Assert.Equal(first, second);
            Assert.Equal(BitConverter.DoubleToInt64Bits(first.Above.LogCapital), BitConverter.DoubleToInt64Bits(second.Above.LogCapital));
        }
    }

    [Fact]
    public void The_capital_never_goes_to_zero()
    {
        var random = new Random(7);
        foreach (double m in new[] { 0.05, 0.5, 0.8, 0.95, 0.99 })
        {
            foreach (var direction in new[] { BetDirection.Above, BetDirection.Below })
            {
                var test = BernoulliBettingTest.Start(m, direction, 1e-300);
                for (int i = 0; i < 2000; i++)
                {
                    test = test.Observe(random.NextDouble() < 0.5);
                    Assert.True(double.IsFinite(test.LogCapital));
                }
            }
        }
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    [InlineData(double.NaN)]
    public void A_null_rate_at_the_ends_cannot_be_tested(double m) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BernoulliBettingTest.Start(m, BetDirection.Above, Alpha));

    [Fact]
    public void The_confidence_sequence_contains_the_observed_rate_and_excludes_what_the_tests_reject()
    {
        bool[] outcomes = [.. Enumerable.Range(0, 300).Select(i => i % 10 != 0)]; // 90 %

        var interval = BettingConfidenceSequence.Interval(outcomes, 0.95);

        Assert.True(interval.Lower < 0.9 && 0.9 < interval.Upper);
        Assert.True(interval.Lower > 0.75, $"lower {interval.Lower}");
        Assert.True(interval.Upper < 0.99, $"upper {interval.Upper}");
        // Consistency with the test at a bar: a bar the two-sided test rejects lies outside the interval.
        var atBar = TwoSidedBettingTest.Start(0.75, 0.95);
        foreach (bool outcome in outcomes)
        {
            atBar = atBar.Observe(outcome);
        }

        Assert.Equal(BetDirection.Above, atBar.Decision);
        Assert.True(interval.Lower >= 0.75);
    }

    [Fact]
    public void With_no_outcomes_the_confidence_sequence_claims_nothing() =>
        Assert.Equal(new Interval(0.0, 1.0), BettingConfidenceSequence.Interval([], 0.95));
}
