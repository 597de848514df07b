using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Contention;

namespace Harness.Core.Benchmarks;

/// <summary>
/// When a benchmark figure should not be trusted, and why. docs/performance.md gives the reasoning behind the defaults.
/// </summary>
/// <param name="MaxCoefficientOfVariation">Largest sample standard deviation, as a share of the mean, of a steady figure.</param>
/// <param name="OutlierFactor">A repetition this many times above or below the median of the others is an outlier.</param>
public sealed record BenchReliabilityThresholds(double MaxCoefficientOfVariation, double OutlierFactor)
{
    /// <summary>
    /// 10 % and 1.5x. On a quiet machine the repetitions of a test agree within a few percent (1-6 % in
    /// docs/performance.md's tables), so a spread over 10 % means something besides the measured work varied; a
    /// repetition 50 % away from the median of the rest is far outside that spread, and naming it says which one.
    /// </summary>
    public static BenchReliabilityThresholds Default { get; } = new(0.10, 1.5);
}

/// <summary>The warnings a bench row carries in the console, bench.md, bench.csv and bench.json.</summary>
public static class BenchReliability
{
    /// <param name="values">The timed repetitions, in the order they ran.</param>
    /// <param name="warmups">Untimed repetitions run before them (summed over rounds).</param>
    /// <param name="contention">The machine's contention while they were timed; null where not sampled.</param>
    public static ImmutableArray<string> Warnings(
        IReadOnlyList<double> values, int warmups, ModelContention? contention, ContentionThresholds busy, BenchReliabilityThresholds thresholds)
    {
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(busy);
        ArgumentNullException.ThrowIfNull(thresholds);
        var warnings = ImmutableArray.CreateBuilder<string>();
        if (warmups == 0)
            warnings.Add("no warm-up: the first repetition pays for first-call costs (the weights' pages, the thread pool, the JIT)");

        if (values.Count == 1)
        {
            warnings.Add("one repetition (n=1): no spread to judge the figure by; use -r 3 or more");
        }
        else if (values.Count > 1)
        {
            var (mean, sd) = BenchStatistics.MeanAndSd(values);
            if (mean > 0 && sd / mean > thresholds.MaxCoefficientOfVariation)
            {
                warnings.Add(Invariant(
                    $"spread {sd / mean * 100:F0}% of the mean (over {thresholds.MaxCoefficientOfVariation * 100:F0}%): the repetitions disagree"));
            }

            // Against the median of the others, so the outlier itself does not pull the reference; with two
            // repetitions there is no telling which one is off, and the spread above already says they disagree.
            for (var i = 0; values.Count >= 3 && i < values.Count; i++)
            {
                var others = values.Where((_, j) => j != i).Order().ToList();
                var median = others.Count % 2 == 1 ? others[others.Count / 2] : (others[others.Count / 2 - 1] + others[others.Count / 2]) / 2;
                if (median <= 0 || values[i] <= 0)
                    continue;
                var ratio = values[i] / median;
                if (ratio > thresholds.OutlierFactor || ratio < 1 / thresholds.OutlierFactor)
                {
                    var factor = ratio > 1 ? ratio : 1 / ratio;
                    warnings.Add(Invariant(
                        $"repetition {i + 1} of {values.Count} ({values[i]:G4}) is {Factor(factor)}x {(ratio > 1 ? "above" : "below")} the median of the others ({median:G4})"));
                }
            }
        }

        if (busy.Check(contention) is { } machine)
            warnings.Add($"busy machine: {machine.Reason}");
        if (contention is { LoadAverage1mMax: { } load, LogicalCores: > 0 and var cores } && load > cores)
            warnings.Add(Invariant($"load average {load:F1} on {cores} logical cores: threads waited for a core"));
        return warnings.ToImmutable();
    }

    private static string Factor(double factor) => factor >= 10
        ? factor.ToString("F0", CultureInfo.InvariantCulture)
        : factor.ToString("F1", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
