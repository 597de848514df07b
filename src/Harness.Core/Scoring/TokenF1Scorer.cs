using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Harness.Core.Scoring;

/// <summary>
/// <c>token_f1</c> (graded): SQuAD-style F1 of the bag of whitespace tokens of output and target, after lowercasing
/// and stripping punctuation (articles are kept: the suite's wording decides). Both empty: 1; one empty: 0.
/// Flexible: the same on the first non-empty line. No arguments.
/// </summary>
public sealed class TokenF1Scorer : IScorer
{
    public const string ScorerName = "token_f1";

    public string Name => ScorerName;

    public Score Score(ScoringInput input)
    {
        if (input.Item.Target is null)
        {
            return Scores.NoTarget(Name, input.Item);
        }

        var target = Tokens(input.Item.Target);
        var answer = Tokens(input.Output);
        var flexibleAnswer = Tokens(TextNormalizer.FirstNonEmptyLine(input.Output));
        var value = F1(answer, target);
        return Scores.Graded(
            Name,
            value,
            string.Join(' ', answer),
            F1(flexibleAnswer, target),
            string.Join(' ', flexibleAnswer),
            () => string.Create(CultureInfo.InvariantCulture, $"token F1 {value:0.###} against {TextNormalizer.Quote(string.Join(' ', target))}"));
    }

    internal static string[] Tokens(string text) =>
        TextNormalizer.StripPunctuation(text.ToLowerInvariant()).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);

    internal static double F1(string[] predicted, string[] expected)
    {
        if (predicted.Length == 0 || expected.Length == 0)
        {
            return predicted.Length == expected.Length ? 1.0 : 0.0;
        }

        var remaining = expected.GroupBy(t => t, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var common = 0;
        foreach (var token in predicted)
        {
            if (remaining.TryGetValue(token, out var count) && count > 0)
            {
                remaining[token] = count - 1;
                common++;
            }
        }

        if (common == 0)
        {
            return 0.0;
        }

        var precision = (double)common / predicted.Length;
        var recall = (double)common / expected.Length;
        return 2 * precision * recall / (precision + recall);
    }
}

public sealed class TokenF1ScorerFactory : IScorerFactory
{
    public string Name => TokenF1Scorer.ScorerName;

    public ScorerDescription Description { get; } = new(
        TokenF1Scorer.ScorerName,
        "Graded: SQuAD-style F1 of the bags of whitespace tokens of output and target, after lowercasing and stripping "
        + "punctuation (articles are kept). Both empty: 1; one empty: 0. Flexible: the same on the first non-empty line.",
        [],
        """{}""");

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        _ = new ScorerArguments(Description, arguments);
        return new TokenF1Scorer();
    }
}
