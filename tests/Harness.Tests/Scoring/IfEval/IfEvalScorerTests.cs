using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Scoring.IfEval;

namespace Harness.Tests.Scoring.IfEval;

/// <summary>Strict against loose, and prompt against instruction level, on responses worked by hand against
/// lm-eval's utils.py (test_instruction_following_strict / _loose).</summary>
public sealed class IfEvalScorerTests
{
    // No test here needs a language: a detector that is never asked.
    private readonly IfEvalScorerFactory factory = new(() => throw new InvalidOperationException("no language check in these tests"));

    private static SuiteItem Item(string[] ids, params object[] kwargs) => new(
        "k1",
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
        [
            new KeyValuePair<string, JsonElement>("prompt", JsonSerializer.SerializeToElement("a prompt")),
            new KeyValuePair<string, JsonElement>("instruction_id_list", JsonSerializer.SerializeToElement(ids)),
            new KeyValuePair<string, JsonElement>("kwargs", JsonSerializer.SerializeToElement(kwargs)),
        ]),
        null,
        []);

    private Score Score(string level, string mode, SuiteItem item, string output) =>
        factory.Create(ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
        [
            new KeyValuePair<string, JsonElement>("level", JsonSerializer.SerializeToElement(level)),
            new KeyValuePair<string, JsonElement>("mode", JsonSerializer.SerializeToElement(mode)),
        ]), ".").Score(new ScoringInput(item, output));

    [Fact]
    public void A_chatty_first_line_fails_strict_and_passes_loose()
    {
        // Strict: the response starts with "Here", so it is not wrapped in quotes, and it has a comma. Loose: without
        // its first line it is '"All wrapped."', which follows both.
        var item = Item(["startend:quotation", "punctuation:no_comma"], new { }, new { });
        const string output = "Here you go, friend:\n\"All wrapped.\"";

        var strict = Score("prompt", "strict", item, output);
        Assert.Equal("ifeval.prompt_strict", strict.Scorer);
        Assert.Equal(0.0, strict.Value);
        Assert.Equal(1.0, strict.FlexibleValue);
        Assert.Equal("0/2", strict.Answer);
        Assert.Equal("2/2", strict.FlexibleAnswer);
        Assert.Equal("not followed (strict): startend:quotation, punctuation:no_comma; loose: all followed", strict.Explanation);

        var loose = Score("prompt", "loose", item, output);
        Assert.Equal("ifeval.prompt_loose", loose.Scorer);
        Assert.Equal(1.0, loose.Value);
        Assert.Null(loose.Explanation);
    }

    [Fact]
    public void Asterisks_are_removed_only_in_loose_mode()
    {
        var item = Item(["startend:end_checker"], new { end_phrase = "Is there anything else I can help with?" });
        const string output = "That is all. **Is there anything else I can help with?**";

        Assert.Equal(0.0, Score("prompt", "strict", item, output).Value);
        Assert.Equal(1.0, Score("prompt", "loose", item, output).Value);
    }

    [Fact]
    public void Instruction_level_is_the_fraction_followed_with_the_counts_as_answer()
    {
        // 3 words, no comma, no title: strict follows 2 of 3.
        var item = Item(["length_constraints:number_words", "punctuation:no_comma", "detectable_format:title"],
            new { num_words = 3, relation = "at least" }, new { }, new { });

        var score = Score("instruction", "strict", item, "one two three");

        Assert.Equal("ifeval.inst_strict", score.Scorer);
        Assert.Equal(2.0 / 3.0, score.Value, 12);
        Assert.Equal("2/3", score.Answer);
        Assert.False(score.Passed);
        Assert.Equal("not followed (strict): detectable_format:title", score.Explanation);
        Assert.Equal(0.0, Score("prompt", "strict", item, "one two three").Value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("  \n ")]
    public void An_empty_response_follows_nothing_even_what_it_cannot_break(string output)
    {
        var item = Item(["punctuation:no_comma"], new { });
        var score = Score("instruction", "loose", item, output);
        Assert.Equal(0.0, score.Value);
        Assert.Equal("0/1", score.Answer);
    }

    [Fact]
    public void Loose_variants_are_upstream_eight_in_order()
    {
        Assert.Equal(
            "a*\nb\n*c|a\nb\nc|b\n*c|a*\nb|b|b\nc|a\nb|b",
            string.Join('|', IfEvalScorer.LooseVariants("a*\nb\n*c")));
        Assert.Equal("x|x||||||", string.Join('|', IfEvalScorer.LooseVariants("x")));
    }

    [Fact]
    public void A_malformed_item_scores_zero_with_the_reason()
    {
        var item = Item(["no:such_instruction"], new { });
        var score = Score("prompt", "strict", item, "text");
        Assert.Equal(0.0, score.Value);
        Assert.Contains("unknown IFEval instruction 'no:such_instruction'", score.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Factory_refuses_unknown_arguments_and_values()
    {
        Assert.Contains("unknown argument 'strictness'", Assert.Throws<ScorerArgumentException>(() => factory.Create(
            ImmutableSortedDictionary<string, JsonElement>.Empty.Add("strictness", JsonSerializer.SerializeToElement(1)), ".")).Message, StringComparison.Ordinal);
        Assert.Contains("\"strict\" or \"loose\"", Assert.Throws<ScorerArgumentException>(() => factory.Create(
            ImmutableSortedDictionary<string, JsonElement>.Empty.Add("mode", JsonSerializer.SerializeToElement("lax")), ".")).Message, StringComparison.Ordinal);
        Assert.Equal("ifeval.prompt_strict", factory.Create(ImmutableSortedDictionary<string, JsonElement>.Empty, ".").Name);
    }
}
