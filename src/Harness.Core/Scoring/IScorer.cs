using System.Collections.Immutable;
using Harness.Core.Suites;

namespace Harness.Core.Scoring;

/// <summary>
/// The outcome of one scorer on one item. <see cref="Value"/> is in [0, 1] (1 = pass for binary scorers);
/// the extracted answers sit next to it so a reader can see why.
/// </summary>
/// <param name="Answer">Answer extracted strictly (the output must have the declared shape).</param>
/// <param name="FlexibleValue">Score under flexible extraction (e.g. the last number anywhere in the output).</param>
public sealed record Score(
    string Scorer,
    double Value,
    string? Answer,
    double FlexibleValue,
    string? FlexibleAnswer,
    string? Explanation)
{
    public bool Passed => Value >= 1.0;
}

/// <summary>What a scorer sees: the item, the model's raw output, and for log-likelihood items the choice it picked.</summary>
public sealed record ScoringInput(SuiteItem Item, string Output);

/// <summary>One small call: (item, output) -> score. Pure, no model, no I/O after construction.</summary>
public interface IScorer
{
    string Name { get; }
    Score Score(ScoringInput input);
}

/// <summary>Builds a scorer from a suite's <see cref="ScorerSpec"/>; throws <see cref="ScorerArgumentException"/> on bad arguments.</summary>
public interface IScorerFactory
{
    string Name { get; }

    /// <summary>What the scorer does and every argument it accepts: validates arguments and writes the docs.</summary>
    ScorerDescription Description { get; }
    IScorer Create(ImmutableSortedDictionary<string, System.Text.Json.JsonElement> arguments, string suiteDirectory);
}
