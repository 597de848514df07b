using System.Collections.Immutable;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

namespace Harness.Core.Comparison;

/// <summary>The comparison section of a run's report: every candidate against the base, and the ladder per fixed suite.</summary>
public sealed record ComparisonReport(
    string BaseModelId,
    int TopK,
    string ReferencePath,
    string ReferenceSha256,
    PerplexityFigure? BasePerplexity,
    ImmutableArray<CandidateComparison> Candidates,
    ImmutableArray<QuantizationLadder> Ladders,
    ImmutableArray<string> Notes);

/// <param name="FileSizeBytes">0 where the model has no local file (a served model).</param>
/// <param name="Quality">Per suite, the paired quality delta against the base on identical items.</param>
/// <param name="Drift">Over every measured position of every suite; null when nothing was measured.</param>
/// <param name="PerplexityRatio">Candidate perplexity over base perplexity on the reference text.</param>
/// <param name="Flips">Per suite, the paired items whose outcome (or generated text) differs from the base's.</param>
/// <param name="NoDrift">Why this candidate has no drift and no perplexity at all (its backend, or the base's, cannot
/// return next-token distributions); null where the drift pass could run.</param>
public sealed record CandidateComparison(
    string ModelId,
    long FileSizeBytes,
    double? SizeRatio,
    ImmutableArray<SuiteQualityDelta> Quality,
    DriftSummary? Drift,
    ImmutableArray<SuiteDrift> DriftBySuite,
    PerplexityFigure? Perplexity,
    double? PerplexityRatio,
    CostDelta Cost,
    ImmutableArray<SuiteFlips> Flips,
    string? NoDrift = null);

/// <summary>
/// The paired items of one suite whose outcome differs between the base and a candidate. For two runtimes of the same
/// weights every delta should be about 0, so these items are the evidence to read.
/// </summary>
/// <param name="Flipped">Items whose outcome differs: pass against fail on a fixed suite, a primary score that differs by
/// more than <see cref="ComparisonReportBuilder.ScoreTolerance"/> on an open one.</param>
/// <param name="Items">The first flipped items in ordinal id order, at most <see cref="ComparisonReportBuilder.FlipListLimit"/>.</param>
/// <param name="TextChanged">Generate suites: items with the same outcome whose generated text differs (0 for
/// log-likelihood suites, whose output is the chosen option).</param>
/// <param name="TextChangedItemIds">The first of those, same order and limit.</param>
public sealed record SuiteFlips(
    string Suite,
    int PairedItems,
    int Flipped,
    ImmutableArray<ItemFlip> Items,
    int TextChanged,
    ImmutableArray<string> TextChangedItemIds);

/// <summary>One flipped item: its outcome for the base and for the candidate ("pass", "fail", "0.8500", "error: timeout").</summary>
public sealed record ItemFlip(string ItemId, string BaseOutcome, string CandidateOutcome);

/// <summary>Quality delta on one suite: a paired pass/fail comparison for fixed suites, a paired bootstrap of the primary score for open ones.</summary>
/// <param name="PairedItems">Items with a record for both models.</param>
/// <param name="AdjustedPValue">The p of <paramref name="PassRate"/> or <paramref name="Score"/> after Holm's adjustment over
/// every quality test of the comparison (each candidate × suite); null before the adjustment.</param>
public sealed record SuiteQualityDelta(
    string Suite,
    SuiteKind Kind,
    int PairedItems,
    PairedProportionComparison? PassRate,
    PairedMeanComparison? Score,
    double? AdjustedPValue = null)
{
    /// <summary>The unadjusted p of whichever test the suite got; null when neither ran (a method, so report.json keeps one copy).</summary>
    public double? RawPValue() => PassRate?.PValue ?? Score?.PValue;
}

/// <param name="Items">Items whose text was traced; <paramref name="FailedItems"/> could not be.</param>
/// <param name="MeanKlDivergence">Mean over positions, nats.</param>
/// <param name="P99KlDivergence">99th percentile over positions (type 7), nats.</param>
/// <param name="TopTokenAgreement">Share of positions where both models' most likely token is the same.</param>
/// <param name="MeanDeltaP">Mean over positions of candidate minus base probability of the actual next token.</param>
/// <param name="RmsDeltaP">Root mean square of the same.</param>
public sealed record DriftSummary(
    int Items,
    int FailedItems,
    long Positions,
    double MeanKlDivergence,
    double P99KlDivergence,
    double TopTokenAgreement,
    double MeanDeltaP,
    double RmsDeltaP);

public sealed record SuiteDrift(string Suite, DriftSummary Drift);

public sealed record PerplexityFigure(double Perplexity, long PredictedTokens, int Documents);

/// <summary>Cost of the candidate next to the base, from the same run. Ratios are candidate over base.</summary>
/// <param name="JoulesPerItemBase">Mean measured J/item over the items both models answered; null where no meter measured
/// it (a CPU-time estimate never fills it, see <paramref name="EnergyEstimated"/>; a remote server is not measured).</param>
/// <param name="JoulesPerItemCandidate">The same for the candidate.</param>
/// <param name="BaseP50TimeToFirstToken">Median time to first token over the generate items both models answered.</param>
/// <param name="BasePromptTokensPerSecond">Mean prompt-processing speed over the items both models answered.</param>
/// <param name="JoulesPerItemRatio">Candidate over base J/item, only when both are measured.</param>
/// <param name="EnergyEstimated">Either side's energy in this run is the CPU-time estimate, so it is left out here; the
/// energy tables show it, marked ≈.</param>
public sealed record CostDelta(
    TimeSpan? BaseP50Latency,
    TimeSpan? CandidateP50Latency,
    double? LatencyRatio,
    double? BaseGenerationTokensPerSecond,
    double? CandidateGenerationTokensPerSecond,
    double? GenerationSpeedRatio,
    long? BasePeakResidentMemoryBytes,
    long? CandidatePeakResidentMemoryBytes,
    double? JoulesPerItemBase,
    double? JoulesPerItemCandidate,
    TimeSpan? BaseP50TimeToFirstToken = null,
    TimeSpan? CandidateP50TimeToFirstToken = null,
    double? TimeToFirstTokenRatio = null,
    double? BasePromptTokensPerSecond = null,
    double? CandidatePromptTokensPerSecond = null,
    double? PromptSpeedRatio = null,
    double? JoulesPerItemRatio = null,
    bool EnergyEstimated = false);

/// <summary>How a ladder's rungs are ordered, and so what decides its cheapest sufficient rung.</summary>
public enum LadderOrder
{
    /// <summary>Smallest file first (then p95 latency, then manifest order): the files differ and every rung has one.</summary>
    FileSize,

    /// <summary>Lowest p95 latency first, then manifest order: the files are all the same size, or some rung has none
    /// (a served model), so file size decides nothing.</summary>
    P95Latency,
}

/// <summary>
/// One fixed suite's ladder: base and candidates in cost order with their verdicts, and the first one that is
/// sufficient. The cost order is file size where the files differ, else p95 latency (see <see cref="LadderOrder"/>).
/// </summary>
/// <param name="AnswerNote">Why the report's Answer names another model for this suite than this ladder's smallest
/// sufficient rung (a model outside the family, or a measured energy difference); null when they agree.</param>
/// <param name="Order">What ordered the rungs.</param>
public sealed record QuantizationLadder(
    string Suite,
    Requirement Requirement,
    ImmutableArray<LadderRung> Rungs,
    string? CheapestSufficientModelId,
    string? AnswerNote = null,
    LadderOrder Order = LadderOrder.FileSize);

/// <param name="FileSizeBytes">0 where the model has no local file (a served model).</param>
/// <param name="BitsPerParameter">File bits per model parameter (GGUF header), when known.</param>
/// <param name="P95Latency">The suite's p95 latency for this model; it orders the rungs when file size cannot.</param>
public sealed record LadderRung(
    string ModelId,
    long FileSizeBytes,
    double? BitsPerParameter,
    VerdictKind Verdict,
    double? PassRate,
    Interval? PassRateInterval,
    double? JoulesPerItem,
    TimeSpan? P95Latency = null);
