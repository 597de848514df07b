using System.Collections.Immutable;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;

namespace Harness.Core.Reports;

/// <summary>
/// Two runs compared item by item (<c>harness report &lt;runA&gt; &lt;runB&gt;</c>): records are paired by
/// (model id, suite, item id); every difference is B minus A. Built from run.json and the stored items alone.
/// </summary>
/// <param name="Warnings">What differs between the runs besides the answers: suite versions or content, model files,
/// host, energy source. Reported, never refused: a changed model file under the same id is often the point.</param>
/// <param name="ItemsOnlyInA">Items recorded in run A with no partner in run B; left out of every figure.</param>
/// <param name="Unpaired">The unpaired items per (model, suite), for the (model, suite)s that have any.</param>
/// <param name="Suites">One entry per (model, suite) with at least one paired item, in run B's manifest order.</param>
/// <param name="BootstrapSeed">Seed of every paired bootstrap, so the same runs always give the same intervals.</param>
public sealed record RunDiff(
    int DiffSchemaVersion,
    RunDiffSide RunA,
    RunDiffSide RunB,
    ImmutableArray<RunDiffWarning> Warnings,
    int PairedItems,
    int ItemsOnlyInA,
    int ItemsOnlyInB,
    ImmutableArray<UnpairedItems> Unpaired,
    ImmutableArray<SuiteDiff> Suites,
    int BootstrapResamples,
    int BootstrapSeed,
    int FlipListLimit)
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>File name without extension: <c>diff-&lt;runIdA&gt;-vs-&lt;runIdB&gt;</c>.</summary>
    public static string FileStem(string runIdA, string runIdB) => $"diff-{runIdA}-vs-{runIdB}";
}

/// <summary>One run as the diff names it.</summary>
/// <param name="EnergySource">The run plan's selected meters joined with '+', e.g. <c>rapl</c> or <c>estimate</c>; null
/// for a run planned without energy.</param>
public sealed record RunDiffSide(string RunId, DateTimeOffset CreatedAt, string CpuModel, int LogicalCores, string HostName, string? EnergySource);

public enum RunDiffWarningKind
{
    /// <summary>A suite's version number differs: its items or scoring were deliberately changed.</summary>
    SuiteVersion,
    /// <summary>A suite's content sha256 differs (items, templates or scorers edited) under the same version.</summary>
    SuiteContent,
    /// <summary>A model id names a different file (e.g. re-quantized or re-downloaded).</summary>
    ModelFile,
    /// <summary>The runs ran on different CPUs or core counts: latency and energy are not like for like.</summary>
    Host,
    /// <summary>Energy was read from different meters, or measured in one run and estimated in the other.</summary>
    EnergySource,
}

/// <summary>A difference between the runs that qualifies the comparison.</summary>
/// <param name="ModelId">The model concerned, for <see cref="RunDiffWarningKind.ModelFile"/>.</param>
/// <param name="Suite">The suite concerned, for suite warnings.</param>
public sealed record RunDiffWarning(RunDiffWarningKind Kind, string? ModelId, string? Suite, string Message);

/// <summary>Items of one (model, suite) recorded in only one of the runs.</summary>
public sealed record UnpairedItems(string ModelId, string Suite, int OnlyInA, int OnlyInB);

/// <summary>
/// One (model, suite) present in both runs, over its paired items only.
/// </summary>
/// <param name="PassRate">Paired pass/fail comparison: A is the base, B the candidate, so the difference is B − A, the
/// Newcombe interval is at the suite's confidence and p is exact McNemar on the flips.</param>
/// <param name="Score">Open suites: paired bootstrap of the mean primary score (B − A); null for fixed suites, whose
/// scores are pass/fail.</param>
/// <param name="OutputsChanged">Paired items whose raw output differs (ordinal comparison).</param>
/// <param name="PassToFail">Ids of items that passed in A and fail in B, ordinal order, at most
/// <see cref="RunDiff.FlipListLimit"/>; the full count is in <see cref="PairedCounts.OnlyBasePassed"/>.</param>
/// <param name="FailToPass">Ids of items that failed in A and pass in B, same rules.</param>
public sealed record SuiteDiff(
    string ModelId,
    string Suite,
    SuiteKind Kind,
    int PairedItems,
    double PassRateA,
    double PassRateB,
    PairedProportionComparison PassRate,
    PairedMeanComparison? Score,
    int OutputsChanged,
    ImmutableArray<string> PassToFail,
    ImmutableArray<string> FailToPass,
    LatencyChange Latency,
    EnergyChange? Energy);

/// <summary>Latency of the paired items answered in each run; ratios are B over A (below 1: B is faster).</summary>
public sealed record LatencyChange(TimeSpan? P50A, TimeSpan? P50B, double? P50Ratio, TimeSpan? P95A, TimeSpan? P95B, double? P95Ratio);

/// <summary>
/// Mean attributed joules per paired item in each run, with its source. A ratio is given only when both sides were
/// read the same way (both measured or both estimated); an estimate against a measurement is not a change.
/// </summary>
/// <param name="Estimated">At least one side is an estimate (CPU time × configured watts), not a meter reading.</param>
public sealed record EnergyChange(
    double? JoulesPerItemA,
    string? SourceA,
    EnergyQuality? QualityA,
    double? JoulesPerItemB,
    string? SourceB,
    EnergyQuality? QualityB,
    double? Ratio,
    bool Estimated);
