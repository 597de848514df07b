using Harness.Core.Statistics;

namespace Harness.Tests.Statistics;

public class PairedTestsTests
{
    [Theory]
    // Worked by hand: b + c = 10, min = 2: P(X <= 2) = (1 + 10 + 45) / 1024 = 0.0546875, doubled.
    [InlineData(2, 8, 0.109375)]
    [InlineData(8, 2, 0.109375)]
    // b + c = 5, min = 0: P(X = 0) = 1/32, doubled.
    [InlineData(0, 5, 0.0625)]
    // Equal discordant counts: the doubled tail passes 1 and is capped.
    [InlineData(3, 3, 1.0)]
    [InlineData(0, 0, 1.0)]
    // b + c = 20, min = 4: (1 + 20 + 190 + 1140 + 4845) / 2^20 = 6196 / 1048576, doubled.
    [InlineData(4, 16, 12392.0 / 1048576.0)]
    public void McNemar_exact_p_matches_worked_examples(int onlyBase, int onlyCandidate, double expected) =>
        Assert.Equal(expected, PairedTests.McNemarExactPValue(onlyBase, onlyCandidate), 12);

    [Fact]
    public void McNemar_exact_p_stays_finite_for_thousands_of_discordant_pairs()
    {
        double p = PairedTests.McNemarExactPValue(1400, 1600);
        Assert.InRange(p, 1e-5, 0.01);
        Assert.Equal(1.0, PairedTests.McNemarExactPValue(1500, 1500));
    }

    [Fact]
    public void Newcombe_interval_with_uncorrelated_pairs_is_the_independent_hybrid_score_interval()
    {
        // a d = b c (4 * 1 = 2 * 2) makes phi 0, where method 10 reduces to sqrt(dl1^2 + du2^2) and sqrt(du1^2 + dl2^2).
        var counts = new PairedCounts(BothPassed: 4, OnlyBasePassed: 2, OnlyCandidatePassed: 2, NeitherPassed: 1);
        var result = PairedTests.ComparePassRates(counts, 0.95);

        // Wilson 95% for 6/9 by hand: z = 1.959964, centre (p + z²/2n) / (1 + z²/n), half-width z/(1 + z²/n) sqrt(p(1-p)/n + z²/4n²).
        double z = 1.959963984540054, n = 9, p = 6.0 / 9;
        double denominator = 1 + (z * z / n);
        double centre = (p + (z * z / (2 * n))) / denominator;
        double half = z / denominator * Math.Sqrt((p * (1 - p) / n) + (z * z / (4 * n * n)));
        double below = p - (centre - half), above = centre + half - p;
        double width = Math.Sqrt((below * below) + (above * above));

        Assert.Equal(0.0, result.Difference, 12);
        Assert.Equal(-width, result.Interval.Lower, 10);
        Assert.Equal(width, result.Interval.Upper, 10);
        Assert.Equal(1.0, result.PValue);
    }

    // Reference values: Newcombe's method 10 recomputed independently in Python with mpmath at 40 digits (Wilson
    // bounds in closed form, z = √2 erfinv(0.95), φ* as in the paper), not copied from the paper. The first row is, as
    // far as we recall, the paper's own example (a) 36/12/2/0, published as 0.0569 to 0.3404; the second is the
    // airway hyper-responsiveness table 1/1/7/12 of Fagerland, Lydersen & Laake (2014), whose square-and-add interval
    // they give as 0.026 to 0.507 in their orientation. Newcombe's table is (A, B, C, D) with θ = (B − C)/N, so his B is
    // our candidate-only count and his C our base-only count.
    [Theory]
    [InlineData(36, 2, 12, 0, 0.2, 0.056929584003, 0.340427602975, -0.114707866935)]
    [InlineData(1, 7, 1, 12, -0.285714285714, -0.506920226686, -0.025559124165, 0.0)]
    [InlineData(70, 10, 0, 20, -0.1, -0.164957776463, -0.037911731902, 0.736485379546)]
    public void Newcombe_method_10_matches_an_independent_high_precision_computation(
        int both, int onlyBase, int onlyCandidate, int neither, double difference, double lower, double upper, double phi)
    {
        var counts = new PairedCounts(both, onlyBase, onlyCandidate, neither);
        var result = PairedTests.ComparePassRates(counts, 0.95);

        Assert.Equal(phi, PairedTests.CorrectedPhi(counts), 10);
        Assert.Equal(difference, result.Difference, 10);
        Assert.Equal(lower, result.Interval.Lower, 9);
        Assert.Equal(upper, result.Interval.Upper, 9);
    }

    [Fact]
    public void Newcombe_corrected_phi_reduces_a_positive_ad_minus_bc_by_half_n_and_leaves_a_negative_one()
    {
        // ad − bc = 100·96 − 4·0 = 9600 > 0, n/2 = 100: φ* = 9500 / √(104·96·100·100).
        Assert.Equal(9500 / Math.Sqrt(104.0 * 96 * 100 * 100), PairedTests.CorrectedPhi(new PairedCounts(100, 4, 0, 96)), 12);
        // ad − bc = 1·1 − 5·5 = −24 < 0: unchanged, −24 / √(6·6·6·6).
        Assert.Equal(-24 / 36.0, PairedTests.CorrectedPhi(new PairedCounts(1, 5, 5, 1)), 12);
        // 0 < ad − bc = 3 − 1 = 2 ≤ n/2 = 3: corrected to 0.
        Assert.Equal(0.0, PairedTests.CorrectedPhi(new PairedCounts(1, 1, 1, 3)), 12);
        // An empty margin (nobody failed): φ* = 0.
        Assert.Equal(0.0, PairedTests.CorrectedPhi(new PairedCounts(10, 0, 0, 0)));
    }

    [Fact]
    public void Four_losses_and_no_gains_in_200_items_are_not_a_significant_loss()
    {
        // Exact McNemar: 4 discordant pairs all one way, p = 2 / 2^4 = 0.125. Without the continuity correction of φ
        // the interval was [+0.0007, ...] on the loss side, i.e. "significant"; with it the interval contains 0.
        var result = PairedTests.ComparePassRates(new PairedCounts(100, 4, 0, 96), 0.95);

        Assert.Equal(0.125, result.PValue, 12);
        Assert.Equal(-0.02, result.Difference, 12);
        Assert.Equal(-0.041476427084, result.Interval.Lower, 9);
        Assert.Equal(0.001592846729, result.Interval.Upper, 9);
        Assert.True(result.Interval.Contains(0.0));
    }

    [Fact]
    public void No_discordant_pairs_do_not_give_a_zero_width_interval()
    {
        // 100 both passed, 100 both failed: φ was exactly 1 and the interval [0, 0]. φ* = (10000 − 100) / 100² = 0.99.
        var result = PairedTests.ComparePassRates(new PairedCounts(100, 0, 0, 100), 0.95);

        Assert.Equal(0.99, PairedTests.CorrectedPhi(new PairedCounts(100, 0, 0, 100)), 12);
        Assert.Equal(-0.009707040326, result.Interval.Lower, 9);
        Assert.Equal(0.009707040326, result.Interval.Upper, 9);
    }

    [Fact]
    public void Newcombe_interval_narrows_when_the_models_agree_on_most_items()
    {
        // Same marginal rates (80% vs 70%), once with strongly correlated outcomes, once with independent ones.
        var correlated = PairedTests.ComparePassRates(new PairedCounts(70, 10, 0, 20), 0.95);
        var independent = PairedTests.ComparePassRates(new PairedCounts(56, 24, 14, 6), 0.95);

        Assert.Equal(-0.10, correlated.Difference, 12);
        Assert.Equal(-0.10, independent.Difference, 12);
        Assert.True(correlated.Interval.Upper - correlated.Interval.Lower < independent.Interval.Upper - independent.Interval.Lower);
        Assert.True(correlated.Interval.Upper < 0, "10 regressions and no gains on 100 items is a significant loss");
        Assert.Equal(2.0 / 1024, correlated.PValue, 12);
        Assert.True(correlated.Interval.Contains(correlated.Difference));
    }

    [Fact]
    public void Newcombe_interval_stays_inside_minus_one_to_one_at_the_extremes()
    {
        var allLost = PairedTests.ComparePassRates(new PairedCounts(0, 10, 0, 0), 0.95);
        Assert.Equal(-1.0, allLost.Difference);
        Assert.InRange(allLost.Interval.Lower, -1.0, -0.5);
        Assert.True(allLost.Interval.Upper < 0);

        var identical = PairedTests.ComparePassRates(new PairedCounts(10, 0, 0, 0), 0.95);
        Assert.Equal(0.0, identical.Difference);
        Assert.True(identical.Interval.Contains(0));
    }

    [Fact]
    public void Paired_bootstrap_of_identical_scores_is_exactly_zero()
    {
        double[] scores = [0.1, 0.5, 0.9, 0.3];
        var result = PairedTests.CompareMeans(scores, scores, 0.95, 1000, seed: 7);

        Assert.Equal(0.0, result.Difference);
        Assert.Equal(new Interval(0, 0), result.Interval);
        Assert.Equal(1.0, result.PValue);
    }

    [Fact]
    public void Paired_bootstrap_of_a_constant_shift_is_that_shift_however_varied_the_items()
    {
        double[] baseScores = [0.0, 0.2, 0.9, 0.4, 0.7];
        double[] candidate = [.. baseScores.Select(s => s + 0.1)];
        var result = PairedTests.CompareMeans(baseScores, candidate, 0.95, 1000, seed: 3);

        Assert.Equal(0.1, result.Difference, 12);
        Assert.Equal(0.1, result.Interval.Lower, 12);
        Assert.Equal(0.1, result.Interval.Upper, 12);
        // Every resample is +0.1, none at or below 0: the p is floored at 1/(R + 1), never 0.
        Assert.Equal(1.0 / 1001, result.PValue, 15);
    }

    [Theory]
    // No resample on one side: floored at 1/(R + 1).
    [InlineData(0, 10_000, 10_000, 1.0 / 10_001)]
    // 3 of 1000 at or below 0: 2·3/1000.
    [InlineData(3, 997, 1000, 0.006)]
    // More than half on both sides (resamples exactly at 0 count twice): capped at 1.
    [InlineData(600, 500, 1000, 1.0)]
    public void Bootstrap_p_is_twice_the_smaller_tail_floored_at_one_over_r_plus_one(int atOrBelow, int atOrAbove, int resamples, double expected) =>
        Assert.Equal(expected, PairedTests.BootstrapPValue(atOrBelow, atOrAbove, resamples), 15);

    [Fact]
    public void Paired_bootstrap_matches_a_worked_example_and_is_reproducible()
    {
        // Differences +1 on 3 items and -1 on 1 (mean +0.5). Resampled means lie on {-1, -0.5, 0, 0.5, 1}; the 95%
        // interval must contain the observed mean and be reproducible for the seed.
        double[] baseScores = [0, 0, 0, 1];
        double[] candidate = [1, 1, 1, 0];
        var first = PairedTests.CompareMeans(baseScores, candidate, 0.95, 5000, seed: 11);
        var second = PairedTests.CompareMeans(baseScores, candidate, 0.95, 5000, seed: 11);

        Assert.Equal(first, second);
        Assert.Equal(0.5, first.Difference);
        Assert.Equal(0.25, first.BaseMean);
        Assert.Equal(0.75, first.CandidateMean);
        Assert.True(first.Interval.Lower <= 0 && first.Interval.Upper >= 0.5);
        // P(resampled mean <= 0): mean <= 0 iff at most 2 of 4 draws hit a +1 item (p = 3/4): 1 - P(3) - P(4) = 1 - 108/256 - 81/256.
        Assert.Equal(2 * 67.0 / 256, first.PValue, 1);
    }

    [Fact]
    public void Paired_counts_are_tallied_by_cell()
    {
        var counts = PairedCounts.From([(true, true), (true, false), (true, false), (false, true), (false, false)]);
        Assert.Equal(new PairedCounts(1, 2, 1, 1), counts);
        Assert.Equal(5, counts.Items);
    }
}
