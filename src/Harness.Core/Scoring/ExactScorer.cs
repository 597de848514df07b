using System.Collections.Immutable;
using System.Text.Json;

namespace Harness.Core.Scoring;

/// <summary>
/// <c>exact</c>: the normalized output equals the normalized target. Flexible: the first non-empty line does.
/// Argument <c>normalize</c>: list of trim, lowercase, collapse_whitespace, strip_punctuation (default [trim]).
/// </summary>
public sealed class ExactScorer(TextNormalization normalization) : IScorer
{
    public const string ScorerName = "exact";

    public string Name => ScorerName;

    public TextNormalization Normalization { get; } = normalization;

    public Score Score(ScoringInput input)
    {
        if (input.Item.Target is null)
        {
            return Scores.NoTarget(Name, input.Item);
        }

        var target = TextNormalizer.Apply(input.Item.Target, Normalization);
        var answer = TextNormalizer.Apply(input.Output, Normalization);
        var flexibleAnswer = TextNormalizer.Apply(TextNormalizer.FirstNonEmptyLine(input.Output), Normalization);
        return Scores.Binary(
            Name,
            answer == target,
            answer,
            flexibleAnswer == target,
            flexibleAnswer,
            () => $"expected {TextNormalizer.Quote(target)}, got {TextNormalizer.Quote(answer)}");
    }
}

public sealed class ExactScorerFactory : IScorerFactory
{
    public string Name => ExactScorer.ScorerName;

    public ScorerDescription Description { get; } = new(
        ExactScorer.ScorerName,
        "The normalized output equals the normalized target. Flexible: the first non-empty line does.",
        [TextNormalizer.Argument],
        """{"normalize": ["trim", "lowercase"]}""");

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        var args = new ScorerArguments(Description, arguments);
        return new ExactScorer(TextNormalizer.Parse(args));
    }
}
