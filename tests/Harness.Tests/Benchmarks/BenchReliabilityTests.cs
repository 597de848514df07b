using System.Collections.Immutable;
using Harness.Core.Benchmarks;
using Harness.Core.Contention;

namespace Harness.Tests.Benchmarks;

/// <summary>Which bench figures are marked unreliable, from made-up repetitions and contention windows.</summary>
public sealed class BenchReliabilityTests
{
    private static ImmutableArray<string> Check(double[] values, int warmups = 1, ModelContention? contention = null) =>
        BenchReliability.Warnings(values, warmups, contention, ContentionThresholds.Default, BenchReliabilityThresholds.Default);

    private static ModelContention Contention(double otherShare, double load1m, int cores = 2) =>
        new("test", cores, DateTimeOffset.UnixEpoch, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), 2, load1m, load1m, load1m, otherShare, 0, 0.5, null, null);

    [Fact]
    public void Steady_repetitions_on_a_quiet_machine_have_no_warning()
    {
        Assert.Empty(Check([300, 306, 297, 301, 303], contention: Contention(0.02, 0.8)));
    }

    [Fact]
    public void One_repetition_says_n_1_because_it_has_no_spread()
    {
        var warning = Assert.Single(Check([12.5]));

        Assert.Contains("n=1", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_repetition_290x_below_the_others_is_named_as_the_outlier()
    {
        var warnings = Check([3500, 12, 3480, 3520]);

        // The spread is over the threshold too; only the slow repetition is an outlier against the others' median.
        Assert.Contains(warnings, w => w.StartsWith("spread ", StringComparison.Ordinal));
        var outlier = Assert.Single(warnings, w => w.StartsWith("repetition", StringComparison.Ordinal));
        Assert.Equal("repetition 2 of 4 (12) is 292x below the median of the others (3500)", outlier);
    }

    [Fact]
    public void A_spread_over_ten_percent_of_the_mean_is_flagged_without_an_outlier_for_two_repetitions()
    {
        var warnings = Check([100, 140]);

        Assert.Equal(["spread 24% of the mean (over 10%): the repetitions disagree"], warnings.ToArray());
    }

    [Fact]
    public void A_busy_machine_and_a_load_average_over_the_core_count_are_both_reasons()
    {
        var warnings = Check([300, 301, 302], contention: Contention(0.43, 3.5));

        Assert.Equal(["busy machine: other processes used 43% of the CPU", "load average 3.5 on 2 logical cores: threads waited for a core"], warnings.ToArray());
    }

    [Fact]
    public void No_warm_up_is_a_warning_of_its_own()
    {
        Assert.Contains(Check([300, 301, 302], warmups: 0), w => w.StartsWith("no warm-up", StringComparison.Ordinal));
    }

    [Fact]
    public void Warnings_are_formatted_with_the_invariant_culture()
    {
        var culture = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE");
            Assert.Contains(Check([300, 301, 302], contention: Contention(0, 2.5)), w => w.Contains("2.5 on 2", StringComparison.Ordinal));
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = culture;
        }
    }
}
