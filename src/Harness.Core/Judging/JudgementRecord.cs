using System.Collections.Immutable;

namespace Harness.Core.Judging;

/// <summary>One request to the judge: the exact prompt fed and what came back.</summary>
/// <param name="Order">Pairwise: <c>candidate-first</c> or <c>candidate-second</c>; pointwise: <c>single</c>.</param>
public sealed record JudgeCall(string Order, string PromptText, string RawOutput, string? Parsed);

/// <summary>
/// The judge's verdict on one candidate item, with everything needed to trust or redo it: the judge's identity (model
/// id and file sha256), the spec it followed, and every prompt and raw output.
/// </summary>
/// <param name="Score">Pointwise: the integer score on the scale. Pairwise: the candidate's share of the two orders
/// (1 per win, 0.5 per tie), so a judge that always prefers one position scores 0.5: a tie.</param>
/// <param name="NormalizedScore">The score on [0, 1]; this is what the report ranks by.</param>
/// <param name="Error">Why no verdict was reached (the candidate failed the item, the other model has no answer, a
/// backend error); Score and NormalizedScore are then 0.</param>
public sealed record JudgementRecord(
    string ModelId,
    string Suite,
    string ItemId,
    string JudgeModelId,
    string JudgeFileSha256,
    JudgeSpec Spec,
    double Score,
    double NormalizedScore,
    bool Passed,
    ImmutableArray<JudgeCall> Calls,
    string? Error,
    DateTimeOffset CompletedAt);

/// <summary>Where judgements are kept; the judge pass writes one per (candidate, suite, item, judge).</summary>
public interface IJudgementStore
{
    Task AppendJudgementAsync(JudgementRecord record, CancellationToken cancellationToken);

    IAsyncEnumerable<JudgementRecord> ReadJudgementsAsync(CancellationToken cancellationToken);
}
