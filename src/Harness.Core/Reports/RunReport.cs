using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Comparison;
using Harness.Core.Contention;
using Harness.Core.Energy;
using Harness.Core.Judging;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

namespace Harness.Core.Reports;

/// <summary>
/// Everything a report shows, computed from run.json and the stored records only (never from a live run),
/// so a report can be rebuilt at any time. Serialized as report.json.
/// </summary>
/// <param name="Comparison">Present for runs made by <c>harness compare</c>.</param>
/// <param name="Energy">The meters probed and used and the power state at the start; null for runs planned before energy was measured.</param>
/// <param name="Analysis">Frontiers, the cost-quality plane, the cheapest sufficient models and one line per model.</param>
/// <param name="Quantization">Quantization ladders of the run's model families (models sharing a <c>base_model</c>).</param>
/// <param name="Contention">How contention was sampled and the thresholds above which ceilings go undecided; null for
/// runs planned before contention was recorded.</param>
public sealed record RunReport(
    int ReportSchemaVersion,
    string RunId,
    DateTimeOffset CreatedAt,
    HostFacts Host,
    ImmutableSortedDictionary<string, string> Versions,
    ImmutableArray<ModelSummary> Models,
    ImmutableArray<FixedSuiteReport> FixedSuites,
    ImmutableArray<OpenSuiteReport> OpenSuites,
    ComparisonReport? Comparison = null,
    EnergyPlan? Energy = null,
    FrontierAnalysis? Analysis = null,
    QuantizationFamilies? Quantization = null,
    ContentionPlan? Contention = null,
    ImmutableArray<Sharding.MachineShards>? Machines = null)
{
    public const int CurrentSchemaVersion = 1;

    /// <summary>
    /// True when some (model, suite) has items that failed for a reason that is not the model's answer: an
    /// <see cref="VerdictKind.Error"/> verdict on a fixed suite, or an open-suite model left unranked for errored items.
    /// </summary>
    public bool HasErrors() =>
        FixedSuites.Any(s => s.Rows.Any(r => r.Verdict.Kind == VerdictKind.Error))
        || OpenSuites.Any(s => (s.Unranked ?? []).Any(u => u.Coverage.Errored > 0));
}

/// <summary>One model's run, from its newest <see cref="ModelRunRecord"/>.</summary>
/// <param name="Status">Null when the run has no record for the model (it never started).</param>
/// <param name="ItemsRecorded">Item records across all suites.</param>
/// <param name="Served">The model answers from a server (backend.kind openai): no local file, so no file size.</param>
public sealed record ModelSummary(
    string ModelId,
    ModelRunStatus? Status,
    ModelLoadInfo? LoadInfo,
    long? PeakResidentMemoryBytes,
    long FileSizeBytes,
    string? Failure,
    int ItemsRecorded,
    ModelEnergy? Energy = null,
    ModelContention? Contention = null,
    BusyMachine? BusyMachine = null,
    bool Served = false)
{
    /// <summary>The file size to show and rank; null for a served model, which has no local file (its <see cref="FileSizeBytes"/> is 0).</summary>
    public long? LocalFileSizeBytes => Served ? null : FileSizeBytes;
}

/// <summary>Throughput and latency of one (model, suite) over its scored items; null where nothing was measured.</summary>
public sealed record PerformanceSummary(
    TimeSpan? P50Latency,
    TimeSpan? P95Latency,
    double? MeanGenerationTokensPerSecond,
    double? MeanPromptTokensPerSecond,
    TimeSpan? MeanTimeToFirstToken);

public sealed record FixedSuiteRow(
    string ModelId, FixedSuiteVerdict Verdict, PerformanceSummary Performance, long? PeakResidentMemoryBytes, EnergySummary? Energy = null);

/// <param name="Judge">When the suite's scores come from a judge model: which, and how much it reached.</param>
/// <param name="Metrics">Every scorer's mean per model where items carry more than one score (acc and acc_norm, strict
/// and flexible extraction, IFEval's levels); null in reports made before metrics existed.</param>
public sealed record FixedSuiteReport(
    string Suite, int Version, Requirement Requirement, int ItemCount, ImmutableArray<FixedSuiteRow> Rows, JudgeSummary? Judge = null,
    ImmutableArray<ScorerMetric>? Metrics = null);

/// <param name="Coverage">Evaluated / failed of the suite's items (a ranked row has nothing errored or missing); null in
/// reports made before coverage existed.</param>
public sealed record OpenSuiteRow(
    int Rank, string ModelId, MeanEstimate Score, PerformanceSummary Performance, long? PeakResidentMemoryBytes, EnergySummary? Energy = null,
    Coverage? Coverage = null);

/// <summary>
/// A model with items on an open suite that is left out of its ranking and frontier: some items errored (not the
/// model's answer) or were never recorded, so a mean over the rest would rank it on a subset of the suite.
/// </summary>
/// <param name="PartialScore">Mean primary score over its answers only; shown, never ranked. Null with no answers.</param>
/// <param name="Reasons">Why it is not ranked, one sentence per cause.</param>
public sealed record OpenSuiteExclusion(string ModelId, Coverage Coverage, MeanEstimate? PartialScore, ImmutableArray<string> Reasons);

/// <param name="Rows">Best first; only models whose every item of the suite is an answer.</param>
/// <param name="Judge">When the suite's scores come from a judge model: which, and how much it reached.</param>
/// <param name="Unranked">Models left out of the ranking and frontier for errored or missing items; null in reports
/// made before coverage existed.</param>
/// <param name="Metrics">As <see cref="FixedSuiteReport.Metrics"/>.</param>
public sealed record OpenSuiteReport(
    string Suite, int Version, int ItemCount, ImmutableArray<OpenSuiteRow> Rows, JudgeSummary? Judge = null,
    ImmutableArray<OpenSuiteExclusion>? Unranked = null, ImmutableArray<ScorerMetric>? Metrics = null);

/// <summary>
/// Quantizations of one base model in the run (manifest <c>metadata.base_model</c>, as <c>harness quantize</c> writes it),
/// as a ladder per fixed suite in cost order (smallest file first where the files differ), with the first sufficient rung.
/// </summary>
public sealed record QuantizationFamily(string BaseModel, ImmutableArray<QuantizationLadder> Ladders);

/// <summary>Every family with at least two quantizations in the run.</summary>
public sealed record QuantizationFamilies(ImmutableArray<QuantizationFamily> Families);
