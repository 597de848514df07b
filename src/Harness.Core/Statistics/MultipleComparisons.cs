namespace Harness.Core.Statistics;

/// <summary>One model against the best in <see cref="MultipleComparisons.CompareWithBest"/>.</summary>
/// <param name="CommonItems">Items both this model and the best have.</param>
/// <param name="Difference">Mean of this model's score minus the best's over the common items (0 for the best).</param>
/// <param name="Interval">Simultaneous interval of that difference; null for the best and with fewer than 2 common items.</param>
public sealed record DifferenceFromBest(int CommonItems, double Difference, Interval? Interval);

/// <summary>Every model against the best, with intervals that hold together (see <see cref="MultipleComparisons.CompareWithBest"/>).</summary>
/// <param name="CriticalValue">The max-t quantile q: each interval is the difference ± q standard errors.</param>
public sealed record ComparisonWithBest(int BestIndex, double CriticalValue, double Confidence, int Resamples, int Seed, IReadOnlyList<DifferenceFromBest> Models);

/// <summary>Corrections for running many tests on one set of results.</summary>
public static class MultipleComparisons
{
    /// <summary>
    /// Holm's step-down adjustment: sort the m p-values, multiply the i-th smallest (from 0) by m − i, make the sequence
    /// non-decreasing and cap it at 1. Rejecting every adjusted p ≤ α keeps the chance of any false rejection in the
    /// family at most α, whatever the dependence between the tests. Returned in the input order.
    /// </summary>
    public static double[] HolmAdjust(IReadOnlyList<double> pValues)
    {
        ArgumentNullException.ThrowIfNull(pValues);
        int m = pValues.Count;
        int[] order = [.. Enumerable.Range(0, m).OrderBy(i => pValues[i]).ThenBy(i => i)];
        var adjusted = new double[m];
        double running = 0.0;
        for (int rank = 0; rank < m; rank++)
        {
            double p = pValues[order[rank]];
            if (double.IsNaN(p) || p < 0.0 || p > 1.0)
            {
                throw new ArgumentOutOfRangeException(nameof(pValues), p, "A p-value must be in [0, 1].");
            }

            running = Math.Max(running, Math.Min(1.0, (m - rank) * p));
            adjusted[order[rank]] = running;
        }

        return adjusted;
    }

    /// <summary>
    /// Compares every model with the one at <paramref name="bestIndex"/> by simultaneous paired-bootstrap intervals
    /// (max-t): the items are resampled once per replicate for all models together, and q is the
    /// <paramref name="confidence"/> quantile of the largest standardized deviation |d* − d| / se over every pair of
    /// models with at least 2 common items. The intervals d ± q·se of all pairs then hold together with about that
    /// confidence, so a model that is truly at least as good as every other is shown below the best with probability
    /// about 1 − <paramref name="confidence"/> or less, whichever model the data happened to make the best (measured:
    /// docs/statistics.md; somewhat above it with many models on 100 pass/fail items).
    /// </summary>
    /// <param name="scores">Per model, its score on each item of a shared item list; NaN where the model has no record.</param>
    /// <remarks>
    /// Pairs are over all models, not just against the best: the best is picked on the same items, and calibrating on
    /// every pair covers whichever model that is. se is the plug-in standard error of the mean paired difference. A pair
    /// whose differences are all equal has se 0: it adds nothing to q, and its interval is the difference itself.
    /// </remarks>
    public static ComparisonWithBest CompareWithBest(
        IReadOnlyList<IReadOnlyList<double>> scores, int bestIndex, double confidence, int resamples, int seed)
    {
        ArgumentNullException.ThrowIfNull(scores);
        Guard.Confidence(confidence);
        ArgumentOutOfRangeException.ThrowIfLessThan(resamples, 100);
        int m = scores.Count;
        ArgumentOutOfRangeException.ThrowIfNegative(bestIndex);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(bestIndex, m);
        int n = scores[0].Count;
        if (scores.Any(s => s.Count != n))
        {
            throw new ArgumentException("Every model's scores must cover the same item list (NaN where missing).", nameof(scores));
        }

        bool[] complete = [.. scores.Select(s => s.All(v => !double.IsNaN(v)))];
        var pairs = new List<Pair>();
        for (int k = 0; k < m; k++)
        {
            for (int j = k + 1; j < m; j++)
            {
                int[] common = [.. Enumerable.Range(0, n).Where(i => !double.IsNaN(scores[k][i]) && !double.IsNaN(scores[j][i]))];
                if (common.Length < 2)
                {
                    continue;
                }

                double mean = common.Average(i => scores[j][i] - scores[k][i]);
                double variance = common.Average(i => Math.Pow(scores[j][i] - scores[k][i] - mean, 2));
                double se = Math.Sqrt(variance / common.Length);
                pairs.Add(new Pair(k, j, common, mean, se, complete[k] && complete[j]));
            }
        }

        double q = CriticalValue([.. scores.Select(s => s.ToArray())], pairs.Where(p => p.StandardError > 0).ToArray(), n, confidence, resamples, seed);
        var models = new DifferenceFromBest[m];
        for (int j = 0; j < m; j++)
        {
            if (j == bestIndex)
            {
                models[j] = new DifferenceFromBest(n - scores[j].Count(double.IsNaN), 0.0, null);
                continue;
            }

            Pair? pair = pairs.FirstOrDefault(p => (p.First, p.Second) == (Math.Min(j, bestIndex), Math.Max(j, bestIndex)));
            if (pair is null)
            {
                int common = Enumerable.Range(0, n).Count(i => !double.IsNaN(scores[j][i]) && !double.IsNaN(scores[bestIndex][i]));
                double difference = common == 1
                    ? Enumerable.Range(0, n).Where(i => !double.IsNaN(scores[j][i]) && !double.IsNaN(scores[bestIndex][i]))
                        .Select(i => scores[j][i] - scores[bestIndex][i]).Single()
                    : MeanOf(scores[j]) - MeanOf(scores[bestIndex]);
                models[j] = new DifferenceFromBest(common, difference, null);
                continue;
            }

            // The pair's difference is Second − First; turn it into model − best.
            double d = pair.First == bestIndex ? pair.Difference : -pair.Difference;
            double half = q * pair.StandardError;
            models[j] = new DifferenceFromBest(pair.Common.Length, d, new Interval(d - half, d + half));
        }

        return new ComparisonWithBest(bestIndex, q, confidence, resamples, seed, models);
    }

    private static double MeanOf(IReadOnlyList<double> values)
    {
        double[] present = [.. values.Where(v => !double.IsNaN(v))];
        return present.Length == 0 ? 0.0 : present.Average();
    }

    private static double CriticalValue(
        double[][] scores, Pair[] pairs, int n, double confidence, int resamples, int seed)
    {
        if (pairs.Length == 0)
        {
            return 0.0;
        }

        int m = scores.Length;
        var random = new Random(seed);
        var weights = new int[n];
        var sums = new double[m];
        var maxima = new double[resamples];
        for (int r = 0; r < resamples; r++)
        {
            Array.Clear(weights);
            for (int i = 0; i < n; i++)
            {
                weights[random.Next(n)]++;
            }

            // Models with every item: one weighted sum each, so a pair of them costs O(1); other pairs walk their items.
            for (int k = 0; k < m; k++)
            {
                double sum = 0.0;
                double[] own = scores[k];
                for (int i = 0; i < n; i++)
                {
                    sum += weights[i] * own[i];
                }

                sums[k] = sum;
            }

            double max = 0.0;
            foreach (Pair pair in pairs)
            {
                double resampled;
                if (pair.BothComplete)
                {
                    resampled = (sums[pair.Second] - sums[pair.First]) / n;
                }
                else
                {
                    double sum = 0.0;
                    int count = 0;
                    foreach (int i in pair.Common)
                    {
                        sum += weights[i] * (scores[pair.Second][i] - scores[pair.First][i]);
                        count += weights[i];
                    }

                    if (count == 0)
                    {
                        continue;
                    }

                    resampled = sum / count;
                }

                max = Math.Max(max, Math.Abs(resampled - pair.Difference) / pair.StandardError);
            }

            maxima[r] = max;
        }

        return Estimators.Quantile(maxima, confidence);
    }

    private sealed record Pair(int First, int Second, int[] Common, double Difference, double StandardError, bool BothComplete);
}
