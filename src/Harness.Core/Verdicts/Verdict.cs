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
    /// <summary>The evidence does not decide yet (too few items, or a ceiling that is not measured).</summary>
    Undecided,
}

/// <summary>The verdict for one (model, fixed suite), with the numbers it rests on.</summary>
/// <param name="Items">Items recorded (scored or failed); failed items count as not passed.</param>
/// <param name="PassRate">Primary scorer's pass rate with the Wilson interval at the requirement's confidence; null with no items.</param>
/// <param name="FlexiblePassRate">Share of items whose primary score passes under flexible extraction.</param>
/// <param name="P50Latency">Median of Timings.Total over scored items (type 7 quantile).</param>
/// <param name="JoulesPerItem">Measured energy per item, when a meter supplied one.</param>
/// <param name="Reasons">Human-readable sentences explaining the verdict.</param>
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
    SequentialEvidence? Sequential = null);

/// <summary>One model's standing on an open suite.</summary>
/// <param name="Rank">1 = best mean primary score; equal means share a rank (1, 1, 3).</param>
/// <param name="Score">Mean primary score (failed items count as 0) with a Student-t interval.</param>
public sealed record OpenSuiteStanding(string ModelId, string Suite, int Rank, MeanEstimate Score);
