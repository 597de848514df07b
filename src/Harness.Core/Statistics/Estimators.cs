namespace Harness.Core.Statistics;

/// <summary>Pure estimators used by verdicts and reports.</summary>
public static class Estimators
{
    /// <summary>
    /// Wilson score interval for a binomial proportion at a two-sided <paramref name="confidence"/>.
    /// Unlike the normal (Wald) interval it stays inside [0, 1] and behaves at 0/n and n/n, which is where
    /// small models and strict bars live.
    /// </summary>
    public static ProportionEstimate Wilson(int successes, int trials, double confidence)
    {
        if (trials <= 0)
        {
            throw new ArgumentOutOfRangeException(nameof(trials), trials, "A proportion needs at least one trial.");
        }

        if (successes < 0 || successes > trials)
        {
            throw new ArgumentOutOfRangeException(nameof(successes), successes, $"Successes must be in [0, {trials}].");
        }

        Interval interval = WilsonInterval((double)successes / trials, trials, confidence);
        return new ProportionEstimate(successes, trials, (double)successes / trials, interval, confidence);
    }

    /// <summary>Wilson interval for an observed rate over <paramref name="trials"/> (which need not give an integer count).</summary>
    public static Interval WilsonInterval(double rate, double trials, double confidence)
    {
        Guard.Confidence(confidence);
        double z = Normal.TwoSidedCriticalValue(confidence);
        double z2 = z * z;
        double denominator = 1.0 + z2 / trials;
        double centre = (rate + z2 / (2.0 * trials)) / denominator;
        double halfWidth = z / denominator * Math.Sqrt(rate * (1.0 - rate) / trials + z2 / (4.0 * trials * trials));
        // At 0/n and n/n one bound is exactly 0 or 1; pin it so rounding cannot move it past the bar.
        double lower = rate <= 0.0 ? 0.0 : Math.Max(0.0, centre - halfWidth);
        double upper = rate >= 1.0 ? 1.0 : Math.Min(1.0, centre + halfWidth);
        return new Interval(lower, upper);
    }

    /// <summary>
    /// Quantile by linear interpolation between order statistics (Hyndman–Fan type 7; R's default and
    /// numpy's <c>linear</c>): h = (n - 1)p, Q = x[⌊h⌋] + (h - ⌊h⌋)(x[⌊h⌋ + 1] - x[⌊h⌋]).
    /// </summary>
    public static double Quantile(IEnumerable<double> values, double probability)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (double.IsNaN(probability) || probability < 0.0 || probability > 1.0)
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "A quantile probability must be in [0, 1].");
        }

        double[] sorted = values.ToArray();
        if (sorted.Length == 0)
        {
            throw new ArgumentException("A quantile of no values is undefined.", nameof(values));
        }

        Array.Sort(sorted);
        double h = (sorted.Length - 1) * probability;
        int below = (int)Math.Floor(h);
        if (below >= sorted.Length - 1)
        {
            return sorted[^1];
        }

        return sorted[below] + (h - below) * (sorted[below + 1] - sorted[below]);
    }

    /// <summary>Quantile of durations, same method as <see cref="Quantile(IEnumerable{double}, double)"/>, at 100 ns resolution.</summary>
    public static TimeSpan Quantile(IEnumerable<TimeSpan> values, double probability)
    {
        ArgumentNullException.ThrowIfNull(values);
        double ticks = Quantile(values.Select(v => (double)v.Ticks), probability);
        return TimeSpan.FromTicks((long)Math.Round(ticks, MidpointRounding.AwayFromZero));
    }

    /// <summary>
    /// Sample mean with a two-sided Student-t interval, cut to the range the quantity cannot leave: a mean of scores in
    /// [0, 1] is in [0, 1], a mean of joules is not negative. The t interval is symmetric and knows nothing of the
    /// bound, so near it (every answer right, or items that cost almost nothing) it runs past; cutting it there only
    /// removes impossible values and keeps its coverage (docs/statistics.md).
    /// </summary>
    public static MeanEstimate MeanWithTInterval(IReadOnlyCollection<double> values, double confidence, double lowerBound, double upperBound)
    {
        if (!(lowerBound <= upperBound))
        {
            throw new ArgumentOutOfRangeException(nameof(upperBound), upperBound, $"The upper bound must not be below the lower bound {lowerBound}.");
        }

        var estimate = MeanWithTInterval(values, confidence);
        return estimate.Interval is { } i
            ? estimate with { Interval = new Interval(Math.Clamp(i.Lower, lowerBound, upperBound), Math.Clamp(i.Upper, lowerBound, upperBound)) }
            : estimate;
    }

    /// <summary>Sample mean with a two-sided Student-t interval (n - 1 degrees of freedom).</summary>
    public static MeanEstimate MeanWithTInterval(IReadOnlyCollection<double> values, double confidence)
    {
        ArgumentNullException.ThrowIfNull(values);
        Guard.Confidence(confidence);
        if (values.Count == 0)
        {
            throw new ArgumentException("A mean of no values is undefined.", nameof(values));
        }

        int n = values.Count;
        double mean = values.Average();
        if (n == 1)
        {
            return new MeanEstimate(1, mean, 0.0, null, confidence);
        }

        double sumOfSquares = values.Sum(v => (v - mean) * (v - mean));
        double standardDeviation = Math.Sqrt(sumOfSquares / (n - 1));
        double t = StudentT.TwoSidedCriticalValue(confidence, n - 1);
        double halfWidth = t * standardDeviation / Math.Sqrt(n);
        return new MeanEstimate(n, mean, standardDeviation, new Interval(mean - halfWidth, mean + halfWidth), confidence);
    }
}
