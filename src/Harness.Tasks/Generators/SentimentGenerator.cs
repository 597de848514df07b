using System.Collections.Immutable;
using Harness.Core.Suites;

namespace Harness.Tasks.Generators;

/// <summary>
/// <c>sentiment</c>: a 3-5 word review from a fixed lexicon with at most one word of the other polarity, ranked by
/// log-likelihood of <c>" positive"</c> against <c>" negative"</c>.
/// </summary>
public sealed class SentimentGenerator : TaskGenerator<SentimentGenerator.Problem>
{
    public sealed record Problem(ImmutableArray<string> Words, bool Positive);

    public const string PositiveChoice = " positive";
    public const string NegativeChoice = " negative";

    internal static readonly ImmutableArray<string> PositiveWords =
        ["great", "fast", "tasty", "fresh", "kind", "clean", "tidy", "lovely", "friendly", "good", "nice", "sweet"];

    internal static readonly ImmutableArray<string> NegativeWords =
        ["cold", "slow", "rude", "stale", "dirty", "bland", "noisy", "greasy", "awful", "bad", "late", "soggy"];

    public override SuiteDefinition Definition { get; } = new(
        Name: "sentiment",
        Version: 1,
        Kind: SuiteKind.Fixed,
        Description: "Label a 3-5 word review positive or negative; all but at most one word share the label's polarity.",
        Request: RequestKind.LogLikelihood,
        Prompt: Template("review: {{text}}\nlabel:"),
        Generation: null,
        Scorers: Scorer("choice"),
        Requirement: new Requirement(MinPassRate: 0.85, Confidence: 0.95, MaxP95Latency: null, MaxJoulesPerItem: null),
        ExtraFiles: NoExtraFiles);

    protected override int EvaluationSeed => 1003;

    protected override Problem Sample(Random random)
    {
        var positive = random.Next(2) == 0;
        var length = random.Next(3, 6);
        var minority = random.Next(2);
        var (major, minor) = positive ? (PositiveWords, NegativeWords) : (NegativeWords, PositiveWords);
        var words = new string[length];
        for (var i = 0; i < length; i++)
        {
            var lexicon = i < minority ? minor : major;
            words[i] = lexicon[random.Next(lexicon.Length)];
        }
        random.Shuffle(words);
        return new Problem([.. words], positive);
    }

    // Word order carries no label information, so reviews with the same words count as the same problem.
    protected override string KeyOf(Problem problem) => string.Join(' ', problem.Words.Order(StringComparer.Ordinal));

    protected override SuiteItem ToItem(string id, Problem problem) => new(
        id,
        Fields(("text", Json(string.Join(' ', problem.Words)))),
        problem.Positive ? PositiveChoice : NegativeChoice,
        [PositiveChoice, NegativeChoice]);
}
