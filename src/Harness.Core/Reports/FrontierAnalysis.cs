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
/// <param name="CostRule">How "cheapest" is decided, in words: the same sentence for every suite.</param>
/// <param name="PartialCoverage">The chosen model's coverage when some of the suite's items were never recorded (it is
/// sufficient even counting them as failures); null when its coverage is complete or nothing was chosen.</param>
/// <param name="Choice">The chosen model's figures, as the Answer shows them; null when nothing was chosen.</param>
/// <param name="RunnerUp">The next sufficient model in the same order; null when at most one model is sufficient.</param>
/// <param name="DecidedBy">The one rule that put <paramref name="Choice"/> before <paramref name="RunnerUp"/>.</param>
/// <param name="Decision">That rule in words, with why energy could not decide where it could not.</param>
public sealed record CheapestSufficient(
    string Suite,
    string? ModelId,
    string CostRule,
    Verdicts.Coverage? PartialCoverage = null,
    AnswerFigures? Choice = null,
    AnswerFigures? RunnerUp = null,
    CostDecider? DecidedBy = null,
    string? Decision = null);

/// <summary>Which step of the cost rule separated two sufficient models.</summary>
public enum CostDecider
{
    /// <summary>Only one model is sufficient.</summary>
    OnlyOne,

    /// <summary>Measured J/item whose intervals do not overlap.</summary>
    Energy,
    FileSize,
    P95Latency,
    ManifestOrder,
}

/// <summary>What a recommended model costs, beside its name in the Answer.</summary>
/// <param name="PassRate">The verdict's pass rate with its interval.</param>
/// <param name="JoulesPerItemInterval">Student-t over items, widened by the meter's bound; null with one item.</param>
/// <param name="EnergyEstimated">J/item is the CPU-time estimate, not a meter's reading.</param>
/// <param name="EnergyBusy">J/item and latencies were measured on a busy machine.</param>
/// <param name="PartialCoverage">Its coverage when items of the suite are missing; null when complete.</param>
public sealed record AnswerFigures(
    string ModelId,
    ProportionEstimate? PassRate,
    double? JoulesPerItem,
    Interval? JoulesPerItemInterval,
    bool EnergyEstimated,
    bool EnergyBusy,
    TimeSpan? P50Latency,
    TimeSpan? P95Latency,
    long? FileSizeBytes,
    Verdicts.Coverage? PartialCoverage = null);

/// <summary>One model's overall line: frontier on these open suites, sufficient for these fixed suites, cheapest for these.</summary>
public sealed record ModelStanding(
    string ModelId,
    ImmutableArray<string> FrontierOn,
    ImmutableArray<string> SufficientFor,
    ImmutableArray<string> CheapestSufficientFor);
