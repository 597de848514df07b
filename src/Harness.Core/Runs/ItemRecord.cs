using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Core.Scoring;

namespace Harness.Core.Runs;

public enum ItemStatus
{
    /// <summary>The model answered and every scorer ran.</summary>
    Scored,
    /// <summary>The backend failed on this item (decode error, NaN logits); recorded, counted as not passed.</summary>
    Failed,
}

/// <summary>
/// Why an item failed. Some failures are the model's (it crashed, hung, or produced non-finite logits on this item) and
/// count as a wrong answer; the rest say nothing about the model's answer (the prompt does not fit the context, a
/// scorer could not run, the backend refused the request) and give the (model, suite) an <c>error</c> verdict instead.
/// </summary>
public enum ItemFailureKind
{
    /// <summary>The backend refused or failed the request for a reason outside the model (a missing ability, a protocol error).</summary>
    Backend,
    /// <summary>The rendered prompt (or context plus continuation) does not fit the model's context size.</summary>
    ContextOverflow,
    /// <summary>A scorer could not run (a missing reference file, a judge that could not load).</summary>
    Scorer,
    /// <summary>The model produced non-finite logits on this item (a corrupt file or numerical failure).</summary>
    ModelOutput,
    /// <summary>The request ran past its deadline; the worker was killed.</summary>
    Timeout,
    /// <summary>The item ended its worker (native abort, out-of-memory kill) on every try.</summary>
    WorkerCrash,
}

/// <summary>Which failures count against the model's pass rate, and which leave the (model, suite) in error.</summary>
public static class ItemFailureKinds
{
    /// <summary>
    /// True where the failure is the model's own (counted as a wrong answer); false where it says nothing about the
    /// model's answer. A failure recorded before kinds existed (null) counts as the model's, as it always did.
    /// </summary>
    public static bool IsModelsFault(ItemFailureKind? kind) =>
        kind is null or ItemFailureKind.ModelOutput or ItemFailureKind.Timeout or ItemFailureKind.WorkerCrash;
}

/// <summary>Identifies an item within a run.</summary>
public readonly record struct ItemKey(string ModelId, string Suite, string ItemId);

/// <summary>Per-item measurements. Rates are derived, never stored twice.</summary>
public sealed record ItemMetrics(
    int PromptTokens,
    int GeneratedTokens,
    RequestTimings Timings)
{
    public double PromptTokensPerSecond => Rate(PromptTokens, Timings.PromptEvaluation);
    public double GenerationTokensPerSecond => Rate(GeneratedTokens, Timings.Generation);

    private static double Rate(int tokens, TimeSpan time) => time > TimeSpan.Zero ? tokens / time.TotalSeconds : 0.0;
}

/// <summary>
/// The evidence for one (model, suite, item): what was fed, what came back, how it was scored and what it cost.
/// Enough to rebuild every report and to re-score without the model.
/// </summary>
/// <param name="RawOutput">Generated text, or for log-likelihood items the chosen continuation.</param>
/// <param name="Choices">Log-likelihood items: every continuation's score, in item order.</param>
/// <param name="Passed">The primary (first) scorer passed.</param>
/// <param name="Energy">The item's energy with its source; null only where no meter or estimate could be read.</param>
/// <param name="Failure">Why a failed item failed; null on scored items (and on failures recorded before kinds existed).</param>
/// <param name="Turns">Multi-turn items: every turn as it was sent and answered, in order; then
/// <paramref name="PromptText"/>, <paramref name="RawOutput"/> and <paramref name="FinishReason"/> are the last turn's,
/// <paramref name="Metrics"/> sums the turns (time to first token: the first turn's) and the energy covers them all.
/// Null on single-turn items, and left out of their JSON.</param>
public sealed record ItemRecord(
    ItemKey Key,
    ItemStatus Status,
    string PromptText,
    string RawOutput,
    FinishReason? FinishReason,
    ImmutableArray<ContinuationScore> Choices,
    ImmutableArray<Score> Scores,
    bool Passed,
    ItemMetrics Metrics,
    string? Error,
    DateTimeOffset CompletedAt,
    EnergyReading? Energy = null,
    ItemFailureKind? Failure = null,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] ImmutableArray<TurnRecord>? Turns = null);

/// <summary>One turn of a multi-turn item: the exact text fed (the whole conversation so far) and the answer.</summary>
public sealed record TurnRecord(
    string PromptText,
    string Output,
    FinishReason FinishReason,
    int PromptTokens,
    int GeneratedTokens,
    RequestTimings Timings);
