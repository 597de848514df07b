using System.Collections.Immutable;
using Harness.Core.Statistics;
using Harness.Core.Suites;

namespace Harness.Core.Verdicts;

/// <summary>Whether a model provably clears a fixed suite's bar.</summary>
public enum VerdictKind
{
    /// <summary>The lower confidence bound clears the bar and every measured ceiling holds.</summary>
    Sufficient,
    /// <summary>The upper confidence bound is below the bar, or a measured ceiling is broken.</summary>
    Insufficient,
    /// <summary>The evidence does not decide yet (too few items, missing items, or a ceiling that is not measured).</summary>
    Undecided,
    /// <summary>
    /// Items failed for a reason that is not the model's answer (the prompt does not fit the context, a scorer could
    /// not run, a backend error): the suite was not really evaluated, so nothing is decided until the cause is fixed.
    /// </summary>
    Error,
}

/// <summary>The verdict for one (model, fixed suite), with the numbers it rests on.</summary>
/// <param name="Items">Answers: items scored or failed through the model's fault (failed ones count as not passed). Errored
/// and missing items are not answers; <paramref name="Coverage"/> counts them.</param>
/// <param name="PassRate">Primary scorer's pass rate over the answers with the Wilson interval at the requirement's
/// confidence; null with no answers.</param>
/// <param name="FlexiblePassRate">Share of items whose primary score passes under flexible extraction.</param>
/// <param name="P50Latency">Median of Timings.Total over scored items (type 7 quantile).</param>
/// <param name="JoulesPerItem">Measured energy per item, when a meter supplied one.</param>
/// <param name="Reasons">Human-readable sentences explaining the verdict.</param>
/// <param name="Coverage">Evaluated / failed / errored / missing of the suite's items; null in reports made before coverage existed.</param>
/// <param name="CoverageBounds">
/// With missing items: the Wilson lower bound counting every missing item as failed and the upper bound counting every
/// one as passed, each over answers plus missing items; the pass-rate rule uses these. Null when nothing is missing.
/// </param>
/// <param name="Sequential">How the sequential rule decided (items used, capitals); null: the fixed-n rule over every
/// recorded item.</param>
public sealed record FixedSuiteVerdict(
    string ModelId,
    string Suite,
    Requirement Requirement,
    VerdictKind Kind,
    int Items,
    int Passed,
    ProportionEstimate? PassRate,
    double? FlexiblePassRate,
    TimeSpan? P50Latency,
    TimeSpan? P95Latency,
    double? JoulesPerItem,
    ImmutableArray<string> Reasons,
    Coverage? Coverage = null,
    Interval? CoverageBounds = null,
    SequentialEvidence? Sequential = null);

/// <summary>One model's standing on an open suite.</summary>
/// <param name="Rank">1 = best mean primary score; equal means share a rank (1, 1, 3).</param>
/// <param name="Score">Mean primary score (failed items count as 0) with a Student-t interval.</param>
public sealed record OpenSuiteStanding(string ModelId, string Suite, int Rank, MeanEstimate Score);
