using System.Collections.Immutable;
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
    EnergyReading? Energy = null);
