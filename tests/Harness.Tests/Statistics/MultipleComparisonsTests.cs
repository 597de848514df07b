using Harness.Core.Statistics;

namespace Harness.Tests.Statistics;

public class MultipleComparisonsTests
{
    [Fact]
    public void Holm_matches_a_worked_example_in_input_order()
    {
        // Sorted: 0.005·4 = 0.02, 0.01·3 = 0.03, 0.03·2 = 0.06, 0.04·1 = 0.04 → raised to 0.06 to stay monotone.
        double[] adjusted = MultipleComparisons.HolmAdjust([0.01, 0.04, 0.03, 0.005]);

        Assert.Equal([0.03, 0.06, 0.06, 0.02], adjusted.Select(p => Math.Round(p, 12)));
    }

    [Fact]
    public void Holm_caps_at_one_keeps_a_single_test_and_accepts_none()
    {
        Assert.Equal([1.0, 1.0], MultipleComparisons.HolmAdjust([0.6, 0.7]));
        Assert.Equal([0.03], MultipleComparisons.HolmAdjust([0.03]));
        Assert.Empty(MultipleComparisons.HolmAdjust([]));
        Assert.Throws<ArgumentOutOfRangeException>(() => MultipleComparisons.HolmAdjust([0.5, double.NaN]));
    }

    private static double[][] EqualModels(int models, int items, int seed)
    {
        // Truly equal models: every model passes item i with the same probability, drawn once per item.
        var random = new Random(seed);
        double[] difficulty = [.. Enumerable.Range(0, items).Select(_ => random.NextDouble())];
        return [.. Enumerable.Range(0, models).Select(_ => difficulty.Select(p => random.NextDouble() < p ? 1.0 : 0.0).ToArray())];
    }

    [Fact]
    public void Two_models_get_about_the_single_comparison_normal_quantile()
    {
        // One pair: max-t is |z| of one mean difference, whose 95% quantile is close to 1.96 with 400 items.
        var result = MultipleComparisons.CompareWithBest(EqualModels(2, 400, seed: 5), 0, 0.95, 2000, seed: 1);

        Assert.InRange(result.CriticalValue, 1.8, 2.15);
    }

    [Fact]
    public void Ten_models_widen_every_interval_to_hold_for_all_45_pairs_together()
    {
        // 45 pairs: the 95% quantile of the largest |z| lies near the Bonferroni z of 0.05/90 (3.26), below it because
        // the pairs are correlated.
        double[][] scores = EqualModels(10, 400, seed: 5);
        var result = MultipleComparisons.CompareWithBest(scores, 0, 0.95, 2000, seed: 1);

        Assert.InRange(result.CriticalValue, 2.7, 3.3);
        // Each interval is the paired difference ± q plug-in standard errors.
        double[] differences = [.. scores[3].Zip(scores[0], (x, b) => x - b)];
        double mean = differences.Average();
        double se = Math.Sqrt(differences.Average(d => (d - mean) * (d - mean)) / differences.Length);
        DifferenceFromBest third = result.Models[3];
        Assert.Equal(mean, third.Difference, 12);
        Assert.Equal(mean - (result.CriticalValue * se), third.Interval!.Lower, 12);
        Assert.Equal(mean + (result.CriticalValue * se), third.Interval.Upper, 12);
        Assert.Null(result.Models[0].Interval);
    }

    [Fact]
    public void Missing_items_pair_only_the_common_ones_and_fewer_than_two_give_no_interval()
    {
        double nan = double.NaN;
        double[][] scores =
        [
            [1, 1, 1, 0, 1, 1],
            [1, 0, nan, 0, 1, nan],
            [nan, nan, 0, nan, nan, nan],
        ];
        var result = MultipleComparisons.CompareWithBest(scores, 0, 0.95, 500, seed: 3);

        // Model 1 against 0 over items 0, 1, 3, 4: differences 0, −1, 0, 0.
        Assert.Equal(4, result.Models[1].CommonItems);
        Assert.Equal(-0.25, result.Models[1].Difference, 12);
        Assert.NotNull(result.Models[1].Interval);
        // Model 2 shares one item with the best: its difference there, no interval.
        Assert.Equal(1, result.Models[2].CommonItems);
        Assert.Equal(-1.0, result.Models[2].Difference);
        Assert.Null(result.Models[2].Interval);
    }

    [Fact]
    public void The_same_scores_and_seed_give_the_same_critical_value()
    {
        double[][] scores = EqualModels(5, 100, seed: 9);

        Assert.Equal(
            MultipleComparisons.CompareWithBest(scores, 2, 0.95, 1000, seed: 4).CriticalValue,
            MultipleComparisons.CompareWithBest(scores, 2, 0.95, 1000, seed: 4).CriticalValue);
    }
}
