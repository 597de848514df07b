using System.Collections.Immutable;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Verdicts;

namespace Harness.Core.Reports;

/// <summary>
/// Builds the <see cref="FrontierAnalysis"/> of a report from its rows and the stored item records. Pure: the
/// bootstrap is seeded, so the same inputs give the same analysis.
/// </summary>
public static class FrontierAnalyzer
{
    /// <summary>
    /// Resamples of the frontier bootstrap: fewer than <c>harness compare</c> uses, because every model is compared
    /// with the best on every open suite, and 2000 keeps the 2.5% and 97.5% quantiles stable to a few thousandths.
    /// </summary>
    public const int BootstrapResamples = 2_000;

    /// <summary>Fixed so that rebuilding a report reproduces its frontier exactly.</summary>
    public const int BootstrapSeed = 20_260_101;

    /// <summary>
    /// Computes the frontiers, the cost-quality plane with its Pareto front, the cheapest sufficient model per fixed
    /// suite and one line per model. <paramref name="models"/> is in manifest order, which breaks every tie.
    /// </summary>
    /// <remarks>
    /// <para>
    /// <b>Frontier.</b> The best model of an open suite has the highest mean primary score (the first in manifest
    /// order among equal means). Every other model is compared with it by simultaneous paired-bootstrap intervals
    /// (<see cref="MultipleComparisons.CompareWithBest"/>) of the per-item difference model − best over the items both
    /// have (failed items score 0), at <see cref="VerdictCalculator.OpenSuiteConfidence"/>. It is on the frontier when
    /// its interval's upper bound is at or above 0. The intervals hold together, so the chance that any model truly as
    /// good as the best is left off is about 5 % for the whole suite; testing each model alone at 95 % had left a truly
    /// equal model off in most runs with 10 models (docs/statistics.md).
    /// </para>
    /// <para>
    /// With fewer than 2 common items nothing can be decided: such a model stays on the frontier only when its mean
    /// over all its items is at least the best's, and gets no interval. Its difference is over the one common item
    /// when there is one, else the difference of the two means.
    /// </para>
    /// </remarks>
    public static FrontierAnalysis Analyze(
        IReadOnlyList<ModelSummary> models,
        IReadOnlyList<FixedSuiteReport> fixedSuites,
        IReadOnlyList<OpenSuiteReport> openSuites,
        IReadOnlyCollection<ItemRecord> items,
        int resamples = BootstrapResamples,
        int seed = BootstrapSeed)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(fixedSuites);
        ArgumentNullException.ThrowIfNull(openSuites);
        ArgumentNullException.ThrowIfNull(items);

        var order = models
            .Select((m, index) => (m.ModelId, index))
            .ToDictionary(p => p.ModelId, p => p.index, StringComparer.Ordinal);
        // Only ranked open suites have a frontier: indexing the other items' scores (an MMLU run's 140,000) would cost
        // memory and time for nothing. The newest record of an item wins, as in the store, so a caller passing history
        // pairs each item once.
        var ranked = openSuites.Where(s => !s.Rows.IsEmpty).Select(s => s.Suite).ToHashSet(StringComparer.Ordinal);
        var scores = items
            .Where(i => ranked.Contains(i.Key.Suite))
            .GroupBy(i => (i.Key.ModelId, i.Key.Suite))
            .ToDictionary(
                g => g.Key,
                g => g.GroupBy(i => i.Key.ItemId, StringComparer.Ordinal)
                    .ToDictionary(i => i.Key, i => VerdictCalculator.PrimaryValue(i.Last()), StringComparer.Ordinal));

        ImmutableArray<FrontierSet> frontiers = [.. openSuites
            .Where(s => !s.Rows.IsEmpty)
            .Select(s => Frontier(s, scores, order, resamples, seed))];
        ImmutableArray<CostQualityPoint> points = ParetoFront(Points(fixedSuites, openSuites));
        var sizes = models.ToDictionary(m => m.ModelId, m => m.FileSizeBytes, StringComparer.Ordinal);
        ImmutableArray<CheapestSufficient> cheapest = [.. fixedSuites.Select(s => Cheapest(s, sizes, order))];

        ImmutableArray<ModelStanding> standings = [.. models.Select(m => new ModelStanding(
            m.ModelId,
            [.. frontiers.Where(f => f.Entries.Any(e => e.ModelId == m.ModelId && e.OnFrontier)).Select(f => f.Suite)],
            [.. fixedSuites.Where(s => s.Rows.Any(r => r.ModelId == m.ModelId && r.Verdict.Kind == VerdictKind.Sufficient)).Select(s => s.Suite)],
            [.. cheapest.Where(c => c.ModelId == m.ModelId).Select(c => c.Suite)]))];

        return new FrontierAnalysis(frontiers, points, cheapest, standings);
    }

    /// <summary>
    /// Marks each point that no other point on the same suite dominates. A point dominates another when its quality
    /// is at least as high, each cost that both points have (J/item, p95 latency, peak memory) is at most as high,
    /// and it is strictly better on quality or one of those costs. A cost missing on either side is not compared, so
    /// it neither helps nor hurts; equal points do not dominate each other.
    /// </summary>
    public static ImmutableArray<CostQualityPoint> ParetoFront(IReadOnlyList<CostQualityPoint> points)
    {
        ArgumentNullException.ThrowIfNull(points);
        return [.. points.Select((p, i) => p with
        {
            OnParetoFront = !points.Where((q, j) => j != i && q.Suite == p.Suite).Any(q => Dominates(q, p)),
        })];
    }

    /// <summary>True when <paramref name="a"/> dominates <paramref name="b"/> (see <see cref="ParetoFront"/>).</summary>
    public static bool Dominates(CostQualityPoint a, CostQualityPoint b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (a.Quality < b.Quality)
        {
            return false;
        }

        bool strictly = a.Quality > b.Quality;
        foreach (var (costA, costB) in Costs(a, b))
        {
            if (costA is not { } x || costB is not { } y)
            {
                continue;
            }

            if (x > y)
            {
                return false;
            }

            strictly |= x < y;
        }

        return strictly;
    }

    private static IEnumerable<(double? A, double? B)> Costs(CostQualityPoint a, CostQualityPoint b)
    {
        yield return (a.JoulesPerItem, b.JoulesPerItem);
        yield return (a.P95Latency?.Ticks, b.P95Latency?.Ticks);
        yield return (a.PeakResidentMemoryBytes, b.PeakResidentMemoryBytes);
    }

    private static FrontierSet Frontier(
        OpenSuiteReport suite,
        Dictionary<(string ModelId, string Suite), Dictionary<string, double>> scores,
        Dictionary<string, int> order,
        int resamples,
        int seed)
    {
        double confidence = VerdictCalculator.OpenSuiteConfidence;
        double bestMean = suite.Rows.Max(r => r.Score.Mean);
        // Rank orders equal means by id; the frontier's best is the first the user listed instead.
        OpenSuiteRow best = suite.Rows
            .Where(r => r.Score.Mean == bestMean)
            .OrderBy(r => order.GetValueOrDefault(r.ModelId, int.MaxValue))
            .First();
        OpenSuiteRow[] rows = [best, .. suite.Rows.Where(r => r.ModelId != best.ModelId)];
        Dictionary<string, double>[] own = [.. rows.Select(r => Scores(scores, r.ModelId, suite.Suite))];
        // Ordinal item order: the bootstrap draws indices, so the pairing order must not depend on input order.
        string[] itemIds = [.. own.SelectMany(o => o.Keys).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        double[][] matrix = [.. own.Select(o => itemIds.Select(id => o.TryGetValue(id, out double v) ? v : double.NaN).ToArray())];
        ComparisonWithBest comparison = MultipleComparisons.CompareWithBest(matrix, bestIndex: 0, confidence, resamples, seed);

        var entries = ImmutableArray.CreateBuilder<FrontierEntry>(rows.Length);
        entries.Add(new FrontierEntry(best.ModelId, best.Score.Mean, 0.0, null, OnFrontier: true));
        for (int j = 1; j < rows.Length; j++)
        {
            DifferenceFromBest difference = comparison.Models[j];
            // Fewer than 2 common items decide nothing: only a mean at least the best's keeps the model on.
            bool onFrontier = difference.Interval is { } interval
                ? interval.Upper >= 0.0
                : rows[j].Score.Mean >= best.Score.Mean;
            entries.Add(new FrontierEntry(rows[j].ModelId, rows[j].Score.Mean, difference.Difference, difference.Interval, onFrontier));
        }

        return new FrontierSet(
            suite.Suite, best.ModelId, confidence, resamples, seed, entries.MoveToImmutable(), comparison.CriticalValue, FamilyWiseRule(confidence));
    }

    /// <summary>What the frontier promises, in the words every report uses.</summary>
    public static string FamilyWiseRule(double confidence) => ReportText.Inv(
        $"simultaneous {ReportText.Percent(confidence, "0.#")} paired-bootstrap intervals (max-t over every pair of models): the chance that any model truly as good as the best is left off is about {ReportText.Percent(1.0 - confidence, "0.#")} for the whole suite, not per model");

    private static Dictionary<string, double> Scores(
        Dictionary<(string ModelId, string Suite), Dictionary<string, double>> scores, string modelId, string suite) =>
        scores.TryGetValue((modelId, suite), out Dictionary<string, double>? own) ? own : [];

    private static List<CostQualityPoint> Points(IReadOnlyList<FixedSuiteReport> fixedSuites, IReadOnlyList<OpenSuiteReport> openSuites)
    {
        var points = new List<CostQualityPoint>();
        foreach (FixedSuiteReport suite in fixedSuites)
        {
            // An error verdict's pass rate is over part of the suite and says nothing about its quality.
            points.AddRange(suite.Rows.Where(r => r.Verdict.Kind != VerdictKind.Error).Select(r => Point(
                r.ModelId, suite.Suite, r.Verdict.Items == 0 ? 0.0 : (double)r.Verdict.Passed / r.Verdict.Items,
                r.Energy, r.Performance, r.PeakResidentMemoryBytes)));
        }

        foreach (OpenSuiteReport suite in openSuites)
        {
            points.AddRange(suite.Rows.Select(r => Point(
                r.ModelId, suite.Suite, r.Score.Mean, r.Energy, r.Performance, r.PeakResidentMemoryBytes)));
        }

        return points;
    }

    private static CostQualityPoint Point(
        string modelId, string suite, double quality, EnergySummary? energy, PerformanceSummary performance, long? peakMemory) =>
        new(modelId, suite, quality, energy?.JoulesPerItem.Mean, energy?.Quality == EnergyQuality.Estimated,
            performance.P95Latency, peakMemory, OnParetoFront: false);

    /// <summary>
    /// Among the sufficient rows: the lowest J/item by mean, except that energy only separates models whose intervals
    /// (Student-t over items, widened by the meter bound) do not overlap the lowest one's: every model whose interval
    /// overlaps it ties, and ties go to the smallest file, then the lowest p95 latency, then manifest order. Rows
    /// without an energy figure come after every row with one. Noise in J/item (a 10 ms CPU tick on a 2 ms item) thus
    /// never picks the winner; a real difference in energy still does.
    /// </summary>
    private static CheapestSufficient Cheapest(FixedSuiteReport suite, Dictionary<string, long> sizes, Dictionary<string, int> order)
    {
        FixedSuiteRow[] sufficient = [.. suite.Rows.Where(r => r.Verdict.Kind == VerdictKind.Sufficient)];
        var withEnergy = sufficient.Where(r => r.Energy is not null).ToArray();
        var lowest = withEnergy.OrderBy(r => r.Energy!.JoulesPerItem.Mean).FirstOrDefault();
        var lowestUpper = lowest is null ? (double?)null : Upper(lowest.Energy!);
        bool Tied(FixedSuiteRow r) => lowestUpper is { } upper && r.Energy is { } e && Lower(e) <= upper;
        FixedSuiteRow? winner = sufficient
            .OrderBy(r => lowest is null ? 0 : Tied(r) ? 0 : r.Energy is null ? 2 : 1)
            .ThenBy(r => Tied(r) ? 0 : r.Energy?.JoulesPerItem.Mean ?? double.PositiveInfinity)
            .ThenBy(r => sizes.GetValueOrDefault(r.ModelId, long.MaxValue))
            .ThenBy(r => r.Performance.P95Latency ?? TimeSpan.MaxValue)
            .ThenBy(r => order.GetValueOrDefault(r.ModelId, int.MaxValue))
            .FirstOrDefault();

        var energies = sufficient.Select(r => r.Energy).OfType<EnergySummary>().ToArray();
        string energy = energies.Length == 0
            ? "lowest J/item (not measured)"
            : energies.Any(e => e.Quality == EnergyQuality.Estimated)
                ? (energies.All(e => e.Quality == EnergyQuality.Estimated)
                    ? "lowest J/item (≈ estimated from CPU time)"
                    : "lowest J/item (≈ partly estimated from CPU time)")
                : "lowest J/item (measured)";
        string rule = $"{energy}; models whose J/item intervals overlap tie, then smallest file, then p95 latency";
        Coverage? partial = winner?.Verdict.Coverage is { IsComplete: false } coverage ? coverage : null;
        return new CheapestSufficient(suite.Suite, winner?.ModelId, winner is null ? "no model is sufficient; " + rule : rule, partial);
    }

    // One item gives no interval: its mean is then both bounds, so it ties only with what overlaps that point.
    private static double Lower(EnergySummary e) => e.CheckedInterval?.Lower ?? e.JoulesPerItem.Mean;

    private static double Upper(EnergySummary e) => e.CheckedInterval?.Upper ?? e.JoulesPerItem.Mean;
}
