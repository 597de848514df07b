using System.Text;
using Harness.Core.Suites;

namespace Harness.Tasks.Generators;

/// <summary><c>reverse</c> (open): reverse a pronounceable made-up word of 3-8 lowercase letters.</summary>
public sealed class ReverseGenerator : TaskGenerator<ReverseGenerator.Problem>
{
    public sealed record Problem(string Word);

    private const string Consonants = "bdfgklmnprstvz";
    private const string Vowels = "aeiou";

    public override SuiteDefinition Definition { get; } = new(
        Name: "reverse",
        Version: 1,
        Kind: SuiteKind.Open,
        Description: "Reverse a made-up lowercase word of 3-8 letters; graded by similarity to the reversed word.",
        Request: RequestKind.Generate,
        Prompt: Template("reverse {{word}}:"),
        Generation: new GenerationSettings(MaxTokens: 12, Stop: ["\n"], Temperature: 0, Seed: 0),
        Scorers: Scorer("similarity"),
        Requirement: null,
        ExtraFiles: NoExtraFiles);

    protected override int EvaluationSeed => 1005;

    // Syllables (consonant + vowel, sometimes a closing consonant) give words that tokenize like real ones.
    protected override Problem Sample(Random random)
    {
        var length = random.Next(3, 9);
        var word = new StringBuilder();
        while (word.Length < length)
        {
            word.Append(Consonants[random.Next(Consonants.Length)]).Append(Vowels[random.Next(Vowels.Length)]);
            if (random.Next(3) == 0)
            {
                word.Append(Consonants[random.Next(Consonants.Length)]);
            }
        }
        return new Problem(word.ToString(0, length));
    }

    protected override string KeyOf(Problem problem) => problem.Word;

    protected override SuiteItem ToItem(string id, Problem problem)
    {
        var reversed = problem.Word.ToCharArray();
        Array.Reverse(reversed);
        return new SuiteItem(id, Fields(("word", Json(problem.Word))), new string(reversed), []);
    }
}
