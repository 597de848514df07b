using System.Collections.Immutable;

namespace Harness.Core.Comparison;

/// <summary>
/// What <c>harness compare</c> adds to a run's plan (run.json): which model is the base, which are compared with
/// it, and the settings that decide the drift figures.
/// </summary>
/// <param name="TopK">Base tokens per position that drift is measured over (the rest is one pooled bin).</param>
/// <param name="ReferencePath">Text whose perplexity every model is scored on, one document per non-empty line.</param>
public sealed record ComparisonPlan(
    string BaseModelId,
    ImmutableArray<string> CandidateModelIds,
    int TopK,
    string ReferencePath,
    string ReferenceSha256);

/// <summary>
/// Drift of one candidate from the base on one item's text (rendered prompt + the base's answer), per position.
/// </summary>
/// <param name="KlDivergence">KL(base ‖ candidate) in nats at each position (top-k + rest bin).</param>
/// <param name="DeltaP">Candidate minus base probability of the actual next token at each position.</param>
/// <param name="TopTokenAgreements">Positions where both models' most likely token is the same.</param>
/// <param name="Error">Why the item could not be traced (then the arrays are empty); null when measured.</param>
public sealed record DriftRecord(
    string BaseModelId,
    string CandidateModelId,
    string Suite,
    string ItemId,
    int TopK,
    ImmutableArray<float> KlDivergence,
    ImmutableArray<float> DeltaP,
    int TopTokenAgreements,
    string? Error,
    DateTimeOffset CompletedAt)
{
    public int Positions => KlDivergence.Length;
}

/// <summary>One model's perplexity on the comparison's reference text.</summary>
/// <param name="PredictedTokens">Tokens scored (every token after each document's first).</param>
/// <param name="NegativeLogLikelihood">Sum over those tokens, in nats.</param>
public sealed record PerplexityRecord(
    string ModelId,
    string ReferenceSha256,
    int Documents,
    long PredictedTokens,
    double NegativeLogLikelihood,
    DateTimeOffset CompletedAt)
{
    public double Perplexity => Math.Exp(NegativeLogLikelihood / PredictedTokens);
}

/// <summary>
/// Why a candidate gets no drift and no perplexity at all: its session (or the base's) cannot return next-token
/// distributions, as an OpenAI-compatible server cannot. A stated absence, not a failure: the quality deltas, flips and
/// cost ratios of the candidate stand, and the report says why drift is missing.
/// </summary>
/// <param name="Reason">In words, e.g. "tiny-f16-server's backend cannot return next-token distributions".</param>
public sealed record DriftAbsence(string BaseModelId, string CandidateModelId, string Reason, DateTimeOffset RecordedAt);

/// <summary>Where drift and perplexity records are kept, durable on return like every other record of a run.</summary>
public interface IComparisonStore
{
    Task AppendDriftAsync(DriftRecord record, CancellationToken cancellationToken);

    IAsyncEnumerable<DriftRecord> ReadDriftAsync(CancellationToken cancellationToken);

    Task RecordPerplexityAsync(PerplexityRecord record, CancellationToken cancellationToken);

    /// <summary>The newest record per model.</summary>
    Task<IReadOnlyList<PerplexityRecord>> ReadPerplexityAsync(CancellationToken cancellationToken);

    Task RecordDriftAbsenceAsync(DriftAbsence record, CancellationToken cancellationToken);

    /// <summary>The newest record per candidate.</summary>
    Task<IReadOnlyList<DriftAbsence>> ReadDriftAbsencesAsync(CancellationToken cancellationToken);
}
