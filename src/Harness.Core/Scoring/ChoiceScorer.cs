using System.Collections.Immutable;
using System.Text.Json;

namespace Harness.Core.Scoring;

/// <summary>
/// <c>choice</c>: the output (for log-likelihood items, the continuation the model ranked first) is the target,
/// character for character. Flexible: equal after trimming, ignoring case. No arguments.
/// </summary>
public sealed class ChoiceScorer : IScorer
{
    public const string ScorerName = "choice";

    public string Name => ScorerName;

    public Score Score(ScoringInput input)
    {
        var target = input.Item.Target;
        if (target is null)
        {
            return Scores.NoTarget(Name, input.Item);
        }

        var flexibleAnswer = input.Output.Trim();
        return Scores.Binary(
            Name,
            string.Equals(input.Output, target, StringComparison.Ordinal),
            input.Output,
            string.Equals(flexibleAnswer, target.Trim(), StringComparison.OrdinalIgnoreCase),
            flexibleAnswer,
            () => $"chose {TextNormalizer.Quote(input.Output)}, target {TextNormalizer.Quote(target)}");
    }
}

public sealed class ChoiceScorerFactory : IScorerFactory
{
    public string Name => ChoiceScorer.ScorerName;

    public ScorerDescription Description { get; } = new(
        ChoiceScorer.ScorerName,
        "The output (for a log-likelihood item, the choice the model ranked first) is the target, character for character. "
        + "Flexible: equal after trimming, ignoring case.",
        [],
        """{}""");

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        _ = new ScorerArguments(Description, arguments);
        return new ChoiceScorer();
    }
}
