using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Harness.Core.Scoring;

/// <summary>
/// <c>similarity</c> (graded): 1 − Levenshtein(output, target) / max(length) after trim and lowercase; 1 when equal,
/// 0 for empty against non-empty. Flexible: the same on the first non-empty line. No arguments.
/// </summary>
public sealed class SimilarityScorer : IScorer
{
    public const string ScorerName = "similarity";

    public string Name => ScorerName;

    public Score Score(ScoringInput input)
    {
        if (input.Item.Target is null)
        {
            return Scores.NoTarget(Name, input.Item);
        }

        var target = Normalize(input.Item.Target);
        var answer = Normalize(input.Output);
        var flexibleAnswer = Normalize(TextNormalizer.FirstNonEmptyLine(input.Output));
        var value = Similarity(answer, target);
        return Scores.Graded(
            Name,
            value,
            answer,
            Similarity(flexibleAnswer, target),
            flexibleAnswer,
            () => string.Create(CultureInfo.InvariantCulture, $"similarity {value:0.###} to {TextNormalizer.Quote(target)}"));
    }

    internal static double Similarity(string a, string b)
    {
        var longest = Math.Max(a.Length, b.Length);
        return longest == 0 ? 1.0 : 1.0 - ((double)Levenshtein(a, b) / longest);
    }

    /// <summary>Edit distance over UTF-16 code units with two rows, so long outputs cost O(n·m) time but O(m) memory.</summary>
    internal static int Levenshtein(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
                current[j] = Math.Min(substitution, Math.Min(previous[j], current[j - 1]) + 1);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }

    private static string Normalize(string text) => text.Trim().ToLowerInvariant();
}

public sealed class SimilarityScorerFactory : IScorerFactory
{
    public string Name => SimilarityScorer.ScorerName;

    public ScorerDescription Description { get; } = new(
        SimilarityScorer.ScorerName,
        "Graded: 1 − Levenshtein(output, target) / max(length) after trim and lowercase; 1 when equal, 0 for empty "
        + "against non-empty. Flexible: the same on the first non-empty line. (`embedding_similarity` compares meaning.)",
        [],
        """{}""");

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        _ = new ScorerArguments(Description, arguments);
        return new SimilarityScorer();
    }
}
