using System.Globalization;
using Harness.Core.Scoring;

namespace Harness.Scoring.Onnx;

/// <summary>
/// <c>embedding_similarity</c>: cosine of the output's and the target's sentence embeddings, clamped to [0, 1], so a
/// paraphrase scores high where <c>similarity</c> (edit distance) does not. With <c>threshold</c> the score is binary
/// (1 when the cosine reaches it) and the cosine goes in the explanation. Flexible: the same on the first non-empty line.
/// An empty text has no meaning to compare: against a non-empty one it scores 0, against another empty one 1.
/// </summary>
public sealed class EmbeddingSimilarityScorer : IScorer
{
    public const string ScorerName = "embedding_similarity";

    private readonly Lazy<ITextEmbedder> embedder;
    private readonly double? threshold;

    /// <param name="threshold">Null for a graded score; else in [0, 1], the cosine that passes.</param>
    public EmbeddingSimilarityScorer(ITextEmbedder embedder, double? threshold = null)
        : this(new Lazy<ITextEmbedder>(embedder), threshold)
    {
    }

    /// <summary>The factory passes its lazily loaded model so that building a scorer (suite validation) loads nothing.</summary>
    internal EmbeddingSimilarityScorer(Lazy<ITextEmbedder> embedder, double? threshold)
    {
        if (threshold is { } t && !(t is >= 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(threshold), t, "threshold must be in [0, 1]");
        }

        this.embedder = embedder;
        this.threshold = threshold;
    }

    public string Name => ScorerName;

    public Score Score(ScoringInput input)
    {
        if (input.Item.Target is not { } rawTarget)
        {
            return new Score(Name, 0.0, null, 0.0, null, $"item '{input.Item.Id}' has no target to compare with");
        }

        var target = rawTarget.Trim();
        var answer = input.Output.Trim();
        var flexibleAnswer = FirstNonEmptyLine(input.Output).Trim();

        float[]? targetEmbedding = null;
        double Cosine(string text)
        {
            if (text.Length == 0 || target.Length == 0)
            {
                return text.Length == target.Length ? 1.0 : 0.0;
            }

            if (text == target)
            {
                return 1.0;
            }

            targetEmbedding ??= embedder.Value.Embed(target);
            return Math.Clamp(MiniLmEmbedder.Cosine(embedder.Value.Embed(text), targetEmbedding), 0.0, 1.0);
        }

        var similarity = Cosine(answer);
        var flexibleSimilarity = flexibleAnswer == answer ? similarity : Cosine(flexibleAnswer);
        if (flexibleSimilarity <= similarity)
        {
            // Flexible extraction is never stricter than strict.
            flexibleSimilarity = similarity;
            flexibleAnswer = answer;
        }

        if (threshold is { } limit)
        {
            var passed = similarity >= limit;
            var explanation = string.Create(CultureInfo.InvariantCulture,
                $"embedding similarity {similarity:0.###} {(passed ? ">=" : "<")} threshold {limit:0.###} to {Quote(target)}");
            if (!passed && flexibleSimilarity >= limit)
            {
                explanation += string.Create(CultureInfo.InvariantCulture, $"; flexible extraction passed ({flexibleSimilarity:0.###})");
            }

            return new Score(Name, passed ? 1.0 : 0.0, answer, flexibleSimilarity >= limit ? 1.0 : 0.0, flexibleAnswer, explanation);
        }

        return new Score(Name, similarity, answer, flexibleSimilarity, flexibleAnswer,
            similarity >= 1.0 ? null : string.Create(CultureInfo.InvariantCulture, $"embedding similarity {similarity:0.###} to {Quote(target)}"));
    }

    // The same rules as the core scorers' text helpers, which are internal to Harness.Core.
    private static string FirstNonEmptyLine(string text)
    {
        foreach (var line in text.Split('\n'))
        {
            if (!string.IsNullOrWhiteSpace(line))
            {
                return line.TrimEnd('\r');
            }
        }

        return string.Empty;
    }

    private static string Quote(string text, int maxChars = 60)
    {
        var flat = text.Replace("\r", "\\r", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);
        return flat.Length <= maxChars ? $"\"{flat}\"" : $"\"{flat[..maxChars]}…\"";
    }
}
