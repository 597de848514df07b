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

/// <param name="Quality">Per suite, the paired quality delta against the base on identical items.</param>
/// <param name="Drift">Over every measured position of every suite; null when nothing was measured.</param>
/// <param name="PerplexityRatio">Candidate perplexity over base perplexity on the reference text.</param>
public sealed record CandidateComparison(
    string ModelId,
    long FileSizeBytes,
    double? SizeRatio,
    ImmutableArray<SuiteQualityDelta> Quality,
    DriftSummary? Drift,
    ImmutableArray<SuiteDrift> DriftBySuite,
    PerplexityFigure? Perplexity,
    double? PerplexityRatio,
    CostDelta Cost);

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
/// <param name="JoulesPerItemBase">Null: no energy meter supplied a figure in this run.</param>
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
    double? JoulesPerItemCandidate);

/// <summary>
/// One fixed suite's ladder: base and candidates from smallest file to largest with their verdicts, and the
/// smallest one that is sufficient. File size is the cost order until energy is measured.
/// </summary>
/// <param name="AnswerNote">Why the report's Answer names another model for this suite than this ladder's smallest
/// sufficient rung (a model outside the family, or a measured energy difference); null when they agree.</param>
public sealed record QuantizationLadder(
    string Suite,
    Requirement Requirement,
    ImmutableArray<LadderRung> Rungs,
    string? CheapestSufficientModelId,
    string? AnswerNote = null);

/// <param name="BitsPerParameter">File bits per model parameter (GGUF header), when known.</param>
public sealed record LadderRung(
    string ModelId,
    long FileSizeBytes,
    double? BitsPerParameter,
    VerdictKind Verdict,
    double? PassRate,
    Interval? PassRateInterval,
    double? JoulesPerItem);
