using System.Collections.Immutable;
using Harness.Core.Statistics;

namespace Harness.Core.Reports;

/// <summary>
/// What the run says across suites: the frontier of each open suite, the cost-quality plane with its Pareto front,
/// the cheapest sufficient model of each fixed suite, and one line per model.
/// </summary>
public sealed record FrontierAnalysis(
    ImmutableArray<FrontierSet> Frontiers,
    ImmutableArray<CostQualityPoint> CostQuality,
    ImmutableArray<CheapestSufficient> Cheapest,
    ImmutableArray<ModelStanding> Standings);

/// <summary>One model against the best on an open suite: the paired difference of mean scores over their common items.</summary>
/// <param name="DifferenceFromBest">Mean score minus the best model's, over the items both have (0 for the best itself).</param>
/// <param name="DifferenceInterval">Simultaneous paired-bootstrap interval of that difference (difference ± q standard errors, see
/// <see cref="FrontierSet.CriticalValue"/>); null for the best and with fewer than 2 common items.</param>
/// <param name="OnFrontier">Not significantly below the best: the interval's upper bound is at or above 0.</param>
public sealed record FrontierEntry(string ModelId, double MeanScore, double DifferenceFromBest, Interval? DifferenceInterval, bool OnFrontier);

/// <summary>The frontier of one open suite: every model statistically tied with the best.</summary>
/// <param name="Entries">The best first, then every other model with items on the suite in rank order.</param>
/// <param name="CriticalValue">Max-t quantile q of the simultaneous bootstrap: each interval is the difference ± q standard errors.</param>
/// <param name="Rule">The family-wise guarantee in words, as the reports print it.</param>
public sealed record FrontierSet(
    string Suite,
    string BestModelId,
    double Confidence,
    int Resamples,
    int Seed,
    ImmutableArray<FrontierEntry> Entries,
    double CriticalValue,
    string Rule);

/// <summary>
/// One (model, suite) on the cost-quality plane. Quality: pass rate on a fixed suite, mean score on an open one.
/// Costs are minimised; a point is on the Pareto front when no other model on the same suite is at least as good on
/// quality and every cost and strictly better on one. A missing cost never dominates.
/// </summary>
/// <param name="EnergyEstimated">J/item came from the CPU-time estimate, not a meter.</param>
public sealed record CostQualityPoint(
    string ModelId,
    string Suite,
    double Quality,
    double? JoulesPerItem,
    bool EnergyEstimated,
    TimeSpan? P95Latency,
    long? PeakResidentMemoryBytes,
    bool OnParetoFront);

/// <summary>The cheapest of the models that are sufficient for a fixed suite; null when none is.</summary>
/// <param name="CostRule">How "cheapest" was decided, in words (lowest J/item where intervals do not overlap, then file size, then p95 latency).</param>
/// <param name="PartialCoverage">The chosen model's coverage when some of the suite's items were never recorded (it is
/// sufficient even counting them as failures); null when its coverage is complete or nothing was chosen.</param>
public sealed record CheapestSufficient(string Suite, string? ModelId, string CostRule, Verdicts.Coverage? PartialCoverage = null);

/// <summary>One model's overall line: frontier on these open suites, sufficient for these fixed suites, cheapest for these.</summary>
public sealed record ModelStanding(
    string ModelId,
    ImmutableArray<string> FrontierOn,
    ImmutableArray<string> SufficientFor,
    ImmutableArray<string> CheapestSufficientFor);
