using Harness.Core.Scoring;
using static Harness.Tests.Scoring.ScoringFixtures;

namespace Harness.Tests.Scoring;

public sealed class ExactScorerTests
{
    [Fact]
    public void Default_trims_only()
    {
        var pass = Score("exact", "  Paris \n", "Paris");
        var caseDiffers = Score("exact", "paris", "Paris");

        Assert.Equal((1.0, "Paris", 1.0, null), (pass.Value, pass.Answer, pass.FlexibleValue, pass.Explanation));
        Assert.True(pass.Passed);
        Assert.Equal(0.0, caseDiffers.Value);
        Assert.Equal("expected \"Paris\", got \"paris\"", caseDiffers.Explanation);
    }

    [Fact]
    public void Normalization_steps_apply_to_output_and_target()
    {
        var score = Score("exact", " The  Eiffel\tTower! ", "the eiffel tower", """{"normalize": ["trim", "lowercase", "collapse_whitespace", "strip_punctuation"]}""");

        Assert.Equal(1.0, score.Value);
        Assert.Equal("the eiffel tower", score.Answer);
    }

    [Fact]
    public void Empty_normalize_list_compares_raw_text()
    {
        Assert.Equal(0.0, Score("exact", "Paris ", "Paris", """{"normalize": []}""").Value);
        Assert.Equal(1.0, Score("exact", "Paris", "Paris", """{"normalize": []}""").Value);
    }

    [Fact]
    public void First_non_empty_line_passes_only_flexibly()
    {
        var score = Score("exact", "\n\nParis\nIt is the capital of France.", "Paris");

        Assert.Equal(0.0, score.Value);
        Assert.Equal(1.0, score.FlexibleValue);
        Assert.Equal("Paris", score.FlexibleAnswer);
        Assert.Contains("flexible extraction passed", score.Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"normalize": "trim"}""")]
    [InlineData("""{"normalize": ["trim", "stem"]}""")]
    [InlineData("""{"normalize": [1]}""")]
    public void Bad_normalize_argument_is_named(string json)
    {
        var error = Assert.Throws<ScorerArgumentException>(() => Create("exact", json));

        Assert.Equal("normalize", error.ParamName);
    }
}

public sealed class RegexScorerTests
{
    [Fact]
    public void Strict_needs_the_whole_trimmed_output_to_match()
    {
        var score = Score("regex", " Answer: B \n", "B", """{"pattern": "Answer: ([A-D])", "group": 1}""");

        Assert.Equal(1.0, score.Value);
        Assert.Equal("B", score.Answer);
    }

    [Fact]
    public void First_match_anywhere_passes_only_flexibly()
    {
        var score = Score("regex", "I think... Answer: B, then Answer: C", "B", """{"pattern": "Answer: (?<letter>[A-D])", "group": "letter"}""");

        Assert.Equal(0.0, score.Value);
        Assert.Null(score.Answer);
        Assert.Equal(1.0, score.FlexibleValue);
        Assert.Equal("B", score.FlexibleAnswer);
        Assert.Contains("does not match the whole output", score.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Whole_match_uses_backtracking_across_alternatives()
    {
        Assert.Equal(1.0, Score("regex", "ab", "ab", """{"pattern": "a|ab"}""").Value);
    }

    [Fact]
    public void Wrong_extracted_answer_fails_both_ways()
    {
        var score = Score("regex", "Answer: C", "B", """{"pattern": "Answer: ([A-D])", "group": 1}""");

        Assert.Equal((0.0, 0.0), (score.Value, score.FlexibleValue));
        Assert.Equal("expected \"B\", got \"C\"", score.Explanation);
    }

    [Fact]
    public void Ignore_case_and_normalize_apply()
    {
        var score = Score("regex", "ANSWER: yes", "Yes", """{"pattern": "answer: (\\w+)", "group": 1, "ignore_case": true, "normalize": ["trim", "lowercase"]}""");

        Assert.Equal(1.0, score.Value);
        Assert.Equal("yes", score.Answer);
    }

    [Theory]
    [InlineData("""{}""", "pattern")]
    [InlineData("""{"pattern": ""}""", "pattern")]
    [InlineData("""{"pattern": "(unclosed"}""", "pattern")]
    [InlineData("""{"pattern": "a(b)", "group": 2}""", "group")]
    [InlineData("""{"pattern": "a(b)", "group": "name"}""", "group")]
    [InlineData("""{"pattern": "a(b)", "group": -1}""", "group")]
    [InlineData("""{"pattern": "a(b)", "group": 1.5}""", "group")]
    [InlineData("""{"pattern": "a", "ignore_case": "yes"}""", "ignore_case")]
    public void Bad_arguments_are_named(string json, string argument)
    {
        var error = Assert.Throws<ScorerArgumentException>(() => Create("regex", json));

        Assert.Equal(argument, error.ParamName);
    }
}
