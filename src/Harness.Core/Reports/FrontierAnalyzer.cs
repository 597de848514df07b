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
        ImmutableArray<CheapestSufficient> cheapest = [.. fixedSuites.Select(s => new CostOrder(s, models).Cheapest())];

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

    /// <summary>The cost rule in words, the same for every suite.</summary>
    public const string CostRule =
        "lowest measured J/item where the intervals do not overlap (an estimate or a busy machine's figure never ranks), then smallest file (when every model has one), then p95 latency, then manifest order";

    /// <summary>
    /// Why <paramref name="first"/> comes before <paramref name="second"/> among the sufficient models of a suite, by
    /// the cheapest-sufficient rule; null when either is not sufficient there. The quantization ladders use it to say why
    /// the Answer names another model than their smallest sufficient rung.
    /// </summary>
    public static (CostDecider DecidedBy, string Decision)? Explain(
        FixedSuiteReport suite, IReadOnlyList<ModelSummary> models, string first, string second)
    {
        ArgumentNullException.ThrowIfNull(suite);
        ArgumentNullException.ThrowIfNull(models);
        var costs = new CostOrder(suite, models);
        return costs.Row(first) is { } a && costs.Row(second) is { } b ? costs.Decide(a, b) : null;
    }

    /// <summary>
    /// The sufficient rows of one fixed suite in cost order. Energy ranks only when every sufficient model has a J/item
    /// read by a meter on a calm machine: the CPU-time estimate and figures from a busy machine decide no ceiling, so they
    /// decide no choice either. Where it ranks, the lowest J/item by mean wins, except that every model whose interval
    /// (Student-t over items, widened by the meter bound) overlaps the lowest one's ties with it: noise in J/item never
    /// picks the winner. Ties go to the smallest file, then the lowest p95 latency, then manifest order, which is also
    /// the order of the quantization ladders, so the two agree unless a measured energy difference is real.
    /// </summary>
    private sealed class CostOrder
    {
        private readonly Dictionary<string, ModelSummary> _models;
        private readonly Dictionary<string, int> _order;
        private readonly FixedSuiteRow[] _sufficient;
        private readonly string? _energyCannotRank;
        private readonly double? _lowestUpper;
        private readonly string _suite;
        private readonly bool _sizeRanks;

        public CostOrder(FixedSuiteReport suite, IReadOnlyList<ModelSummary> models)
        {
            _suite = suite.Suite;
            _models = models.ToDictionary(m => m.ModelId, StringComparer.Ordinal);
            _order = models.Select((m, i) => (m.ModelId, i)).ToDictionary(p => p.ModelId, p => p.i, StringComparer.Ordinal);
            _sufficient = [.. suite.Rows.Where(r => r.Verdict.Kind == VerdictKind.Sufficient)];
            _energyCannotRank = EnergyCannotRank();
            _sizeRanks = SizeRanks();
            _lowestUpper = _energyCannotRank is null && _sufficient.Length > 0
                ? Upper(_sufficient.MinBy(r => r.Energy!.JoulesPerItem.Mean)!.Energy!)
                : null;
            Sorted = [.. _sufficient
                .OrderBy(r => Tied(r) ? 0 : 1)
                .ThenBy(r => Tied(r) ? 0 : r.Energy!.JoulesPerItem.Mean)
                .ThenBy(r => _sizeRanks ? Size(r) : 0)
                .ThenBy(r => r.Performance.P95Latency ?? TimeSpan.MaxValue)
                .ThenBy(Position)];
        }

        public FixedSuiteRow[] Sorted { get; }

        public FixedSuiteRow? Row(string modelId) => _sufficient.FirstOrDefault(r => r.ModelId == modelId);

        public CheapestSufficient Cheapest()
        {
            if (Sorted.Length == 0)
            {
                return new CheapestSufficient(_suite, null, "no model is sufficient; " + CostRule);
            }

            FixedSuiteRow winner = Sorted[0];
            Coverage? partial = winner.Verdict.Coverage is { IsComplete: false } coverage ? coverage : null;
            if (Sorted.Length == 1)
            {
                return new CheapestSufficient(_suite, winner.ModelId, CostRule, partial, Figures(winner), null,
                    CostDecider.OnlyOne, "the only sufficient model");
            }

            var (decidedBy, decision) = Decide(winner, Sorted[1]);
            return new CheapestSufficient(_suite, winner.ModelId, CostRule, partial, Figures(winner), Figures(Sorted[1]), decidedBy, decision);
        }

        /// <summary>The first step of the rule at which <paramref name="a"/> and <paramref name="b"/> differ.</summary>
        public (CostDecider, string) Decide(FixedSuiteRow a, FixedSuiteRow b)
        {
            if (Tied(a) != Tied(b))
            {
                return (CostDecider.Energy, "measured J/item decides: the intervals do not overlap");
            }

            string energy = _energyCannotRank is { } why
                ? $"energy cannot separate them ({why})"
                : "energy cannot separate them (the J/item intervals overlap)";
            if (_sizeRanks && Size(a) != Size(b))
            {
                return (CostDecider.FileSize, energy + "; smallest file decides");
            }

            string files = _sizeRanks ? "the files are the same size" : "a served model has no file size";
            if (a.Performance.P95Latency != b.Performance.P95Latency)
            {
                return (CostDecider.P95Latency, energy + $" and {files}; lowest p95 latency decides");
            }

            return (CostDecider.ManifestOrder, _sizeRanks
                ? energy + ", the files and p95 latencies are equal; manifest order decides"
                : energy + ", a served model has no file size and the p95 latencies are equal; manifest order decides");
        }

        private AnswerFigures Figures(FixedSuiteRow row) => new(
            row.ModelId,
            row.Verdict.PassRate,
            row.Energy?.JoulesPerItem.Mean,
            row.Energy?.CheckedInterval,
            row.Energy?.Quality == EnergyQuality.Estimated,
            Busy(row),
            row.Performance.P50Latency,
            row.Performance.P95Latency,
            _models.TryGetValue(row.ModelId, out var m) ? m.LocalFileSizeBytes : null,
            row.Verdict.Coverage is { IsComplete: false } c ? c : null);

        private string? EnergyCannotRank()
        {
            if (_sufficient.All(r => r.Energy is null))
            {
                return "J/item was not measured";
            }

            if (_sufficient.Any(r => r.Energy is null))
            {
                return "J/item is missing for some of them";
            }

            if (_sufficient.Any(r => r.Energy!.Quality == EnergyQuality.Estimated))
            {
                return "≈ J/item is estimated from CPU time, which never ranks";
            }

            return _sufficient.Any(Busy) ? "J/item was measured on a busy machine" : null;
        }

        // Every row ties while energy cannot rank; otherwise a row ties when its interval reaches the lowest upper bound.
        private bool Tied(FixedSuiteRow row) => _lowestUpper is not { } upper || Lower(row.Energy!) <= upper;

        private bool Busy(FixedSuiteRow row) => _models.TryGetValue(row.ModelId, out var m) && m.BusyMachine is not null;

        private long Size(FixedSuiteRow row) =>
            _models.TryGetValue(row.ModelId, out var m) ? m.LocalFileSizeBytes ?? long.MaxValue : long.MaxValue;

        // A served model has no file: when one is sufficient, file size decides nothing in this suite (a 0-byte or an
        // unknown size would claim a win it did not earn), and p95 latency comes next.
        private bool SizeRanks() =>
            _sufficient.All(r => _models.TryGetValue(r.ModelId, out var m) && !m.Served);

        private int Position(FixedSuiteRow row) => _order.GetValueOrDefault(row.ModelId, int.MaxValue);

        // One item gives no interval: its mean is then both bounds, so it ties only with what overlaps that point.
        private static double Lower(EnergySummary e) => e.CheckedInterval?.Lower ?? e.JoulesPerItem.Mean;

        private static double Upper(EnergySummary e) => e.CheckedInterval?.Upper ?? e.JoulesPerItem.Mean;
    }
}
