using Harness.Core.Statistics;
using Harness.Tests.Serialization;

namespace Harness.Tests.Statistics;

public class StatisticsTests
{
    [Theory]
    // Reference values: R qnorm() / published tables, 1e-9 absolute.
    [InlineData(0.975, 1.959963984540054)]
    [InlineData(0.95, 1.644853626951472)]
    [InlineData(0.5, 0.0)]
    [InlineData(0.995, 2.575829303548901)]
    [InlineData(0.025, -1.959963984540054)]
    [InlineData(0.01, -2.326347874040841)]
    [InlineData(1e-10, -6.361340902404056)]
    // Checked by erfc: erfc(37.0470963 / sqrt 2) / 2 = 1.0000e-300.
    [InlineData(1e-300, -37.0470962993612)]
    public void Normal_inverse_cdf_matches_reference_values(double p, double expected)
    {
        Assert.Equal(expected, Normal.InverseCdf(p), 1e-9);
    }

    [Fact]
    public void Normal_inverse_cdf_handles_the_ends_and_rejects_nonsense()
    {
        Assert.Equal(double.NegativeInfinity, Normal.InverseCdf(0));
        Assert.Equal(double.PositiveInfinity, Normal.InverseCdf(1));
        Assert.Throws<ArgumentOutOfRangeException>(() => Normal.InverseCdf(1.5));
        Assert.Throws<ArgumentOutOfRangeException>(() => Normal.TwoSidedCriticalValue(1.0));
        Assert.Equal(1.959964, Normal.TwoSidedCriticalValue(0.95), 6);
    }

    [Theory]
    // Two-sided 95% and 99% critical values from standard t tables (R qt()).
    [InlineData(0.95, 1, 12.706204736174698)]
    [InlineData(0.95, 2, 4.302652729749464)]
    [InlineData(0.95, 5, 2.570581835636314)]
    [InlineData(0.95, 9, 2.262157162798205)]
    [InlineData(0.95, 30, 2.042272456301238)]
    [InlineData(0.99, 10, 3.169272672616951)]
    [InlineData(0.90, 20, 1.724718242920787)]
    public void Student_t_critical_values_match_tables(double confidence, double df, double expected)
    {
        Assert.Equal(expected, StudentT.TwoSidedCriticalValue(confidence, df), 1e-9);
    }

    [Fact]
    public void Student_t_critical_value_for_large_df_matches_cornish_fisher()
    {
        // z + (z³ + z)/(4ν) + (5z⁵ + 16z³ + 3z)/(96ν²) at ν = 1000 = 1.959964 + 0.0023723 + 0.0000028 = 1.9623391
        Assert.Equal(1.9623391, StudentT.TwoSidedCriticalValue(0.95, 1000), 6);
    }

    [Fact]
    public void Student_t_cdf_is_symmetric_and_inverts()
    {
        Assert.Equal(0.5, StudentT.Cdf(0, 7), 15);
        Assert.Equal(1.0 - StudentT.Cdf(1.3, 7), StudentT.Cdf(-1.3, 7), 14);
        // df = 1 is Cauchy: F(1) = 3/4 exactly.
        Assert.Equal(0.75, StudentT.Cdf(1.0, 1), 13);
        Assert.Equal(-1.0, StudentT.InverseCdf(0.25, 1), 10);
    }

    [Fact]
    public void Wilson_interval_matches_hand_computation()
    {
        // 190/200 at 95%: z = 1.959964, z² = 3.841459, denominator 1 + z²/n = 1.0192073.
        // centre = (0.95 + z²/400) / 1.0192073 = 0.9596036 / 1.0192073 = 0.9415203
        // half   = z / 1.0192073 * sqrt(0.95·0.05/200 + z²/160000) = 1.9230265 * 0.0161712 = 0.0310977
        // → [0.910423, 0.972618]
        ProportionEstimate estimate = Estimators.Wilson(190, 200, 0.95);

        Assert.Equal(0.95, estimate.Rate);
        Assert.Equal(0.910423, estimate.Interval.Lower, 5);
        Assert.Equal(0.972618, estimate.Interval.Upper, 5);
    }

    [Fact]
    public void Wilson_interval_is_pinned_at_all_and_nothing()
    {
        ProportionEstimate all = Estimators.Wilson(200, 200, 0.95);
        ProportionEstimate none = Estimators.Wilson(0, 10, 0.95);

        Assert.Equal(1.0, all.Interval.Upper);
        // n/(n + z²) = 200 / 203.841459
        Assert.Equal(200 / 203.841459, all.Interval.Lower, 6);
        Assert.Equal(0.0, none.Interval.Lower);
        Assert.Equal(3.841459 / 13.841459, none.Interval.Upper, 6);
        Assert.Throws<ArgumentOutOfRangeException>(() => Estimators.Wilson(3, 2, 0.95));
        Assert.Throws<ArgumentOutOfRangeException>(() => Estimators.Wilson(0, 0, 0.95));
    }

    [Fact]
    public void Quantile_is_type_7_linear_interpolation()
    {
        double[] values = [15, 20, 35, 40, 50];

        // numpy.percentile([15,20,35,40,50], [0, 25, 40, 50, 95, 100]) = 15, 20, 29, 35, 48, 50
        Assert.Equal(15, Estimators.Quantile(values, 0.0), 12);
        Assert.Equal(20, Estimators.Quantile(values, 0.25), 12);
        Assert.Equal(29, Estimators.Quantile(values, 0.40), 12);
        Assert.Equal(35, Estimators.Quantile(values.Reverse(), 0.5), 12);
        Assert.Equal(48, Estimators.Quantile(values, 0.95), 12);
        Assert.Equal(50, Estimators.Quantile(values, 1.0), 12);
        Assert.Equal(7, Estimators.Quantile([7.0], 0.95));
        Assert.Throws<ArgumentException>(() => Estimators.Quantile(Array.Empty<double>(), 0.5));
    }

    [Fact]
    public void Quantile_of_durations_keeps_tick_resolution()
    {
        TimeSpan[] values = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(200)];

        Assert.Equal(TimeSpan.FromMilliseconds(195), Estimators.Quantile(values, 0.95));
    }

    [Fact]
    public void Mean_with_t_interval_matches_hand_computation()
    {
        // mean 5, sample sd = sqrt(32/7) = 2.13809, t(0.975, 7) = 2.364624, half = 2.364624 * 2.13809 / sqrt(8) = 1.787489
        double[] values = [2, 4, 4, 4, 5, 5, 7, 9];

        MeanEstimate estimate = Estimators.MeanWithTInterval(values, 0.95);

        Assert.Equal(5.0, estimate.Mean, 12);
        Assert.Equal(Math.Sqrt(32.0 / 7.0), estimate.StandardDeviation, 12);
        Assert.Equal(5.0 - 1.787489, estimate.Interval!.Lower, 5);
        Assert.Equal(5.0 + 1.787489, estimate.Interval.Upper, 5);
    }

    [Fact]
    public void Mean_of_bounded_scores_has_an_interval_inside_the_bounds()
    {
        // 39 perfect answers and one 0.95: the plain t interval runs past 1.
        double[] values = [.. Enumerable.Repeat(1.0, 39), 0.95];
        Assert.True(Estimators.MeanWithTInterval(values, 0.95).Interval!.Upper > 1);

        MeanEstimate bounded = Estimators.MeanWithTInterval(values, 0.95, 0, 1);

        Assert.Equal(1.0, bounded.Interval!.Upper);
        Assert.Equal(Estimators.MeanWithTInterval(values, 0.95).Interval!.Lower, bounded.Interval.Lower, 12);
        Assert.Equal(0.99875, bounded.Mean, 12);
        Assert.Throws<ArgumentOutOfRangeException>(() => Estimators.MeanWithTInterval(values, 0.95, 1, 0));
    }

    [Fact]
    public void Mean_of_one_value_has_no_interval()
    {
        MeanEstimate estimate = Estimators.MeanWithTInterval([0.5], 0.95);

        Assert.Equal(0.5, estimate.Mean);
        Assert.Null(estimate.Interval);
    }

    [Fact]
    public void Results_do_not_depend_on_the_current_culture()
    {
        double invariant = StudentT.TwoSidedCriticalValue(0.95, 9);
        using (new CultureScope("de-DE"))
        {
            Assert.Equal(invariant, StudentT.TwoSidedCriticalValue(0.95, 9));
            Assert.Equal(0.910423, Estimators.Wilson(190, 200, 0.95).Interval.Lower, 5);
        }
    }
}
