using Harness.Core.Scoring;
using static Harness.Tests.Scoring.ScoringFixtures;

namespace Harness.Tests.Scoring;

public sealed class SimilarityScorerTests
{
    [Fact]
    public void Equal_after_trim_and_lowercase_is_one()
    {
        var score = Score("similarity", "  Hello World ", "hello world");

        Assert.Equal(1.0, score.Value);
        Assert.True(score.Passed);
        Assert.Null(score.Explanation);
    }

    [Fact]
    public void Partial_match_is_graded_by_edit_distance()
    {
        var score = Score("similarity", "kitten", "sitting");

        Assert.Equal(1.0 - (3.0 / 7.0), score.Value, precision: 12);
        Assert.False(score.Passed);
        Assert.Equal("similarity 0.571 to \"sitting\"", score.Explanation);
    }

    [Fact]
    public void Empty_against_non_empty_is_zero_and_empty_against_empty_is_one()
    {
        Assert.Equal(0.0, Score("similarity", "   ", "x").Value);
        Assert.Equal(0.0, Score("similarity", "x", "").Value);
        Assert.Equal(1.0, Score("similarity", "", " ").Value);
    }

    [Fact]
    public void First_line_is_the_flexible_answer()
    {
        var score = Score("similarity", "Paris\nand more words here", "paris");

        Assert.True(score.Value < 0.5);
        Assert.Equal(1.0, score.FlexibleValue);
        Assert.Equal("paris", score.FlexibleAnswer);
    }

    [Fact]
    public void Explanation_uses_a_decimal_point_under_a_decimal_comma_culture()
    {
        var score = UnderGermanCulture(() => Score("similarity", "kitten", "sitting"));

        Assert.Equal("similarity 0.571 to \"sitting\"", score.Explanation);
    }

    [Theory]
    [InlineData("", "", 0)]
    [InlineData("abc", "", 3)]
    [InlineData("flaw", "lawn", 2)]
    [InlineData("intention", "execution", 5)]
    public void Levenshtein_distance(string a, string b, int expected)
    {
        Assert.Equal(expected, SimilarityScorer.Levenshtein(a, b));
        Assert.Equal(expected, SimilarityScorer.Levenshtein(b, a));
    }
}

public sealed class TokenF1ScorerTests
{
    [Fact]
    public void Same_tokens_ignoring_case_and_punctuation_score_one()
    {
        var score = Score("token_f1", "The Eiffel Tower!", "the eiffel tower");

        Assert.Equal(1.0, score.Value);
        Assert.Equal("the eiffel tower", score.Answer);
    }

    [Fact]
    public void Overlap_is_scored_as_harmonic_mean_of_precision_and_recall()
    {
        // common = {eiffel, tower} = 2; precision 2/4, recall 2/3; F1 = 4/7.
        var score = Score("token_f1", "It's the Eiffel tower", "eiffel tower paris");

        Assert.Equal(4.0 / 7.0, score.Value, precision: 12);
        Assert.Equal("token F1 0.571 against \"eiffel tower paris\"", score.Explanation);
    }

    [Fact]
    public void Repeated_tokens_count_only_as_often_as_in_the_target()
    {
        // common = 1 ("a"); precision 1/3, recall 1/2; F1 = 0.4.
        Assert.Equal(0.4, TokenF1Scorer.F1(["a", "a", "a"], ["a", "b"]), precision: 12);
    }

    [Fact]
    public void Empty_cases()
    {
        Assert.Equal(1.0, Score("token_f1", "!!", "").Value);
        Assert.Equal(0.0, Score("token_f1", "", "x").Value);
        Assert.Equal(0.0, Score("token_f1", "y", "x").Value);
    }

    [Fact]
    public void First_line_is_the_flexible_answer()
    {
        var score = Score("token_f1", "eiffel tower\nbecause it is tall and famous", "Eiffel Tower");

        Assert.True(score.Value < 1.0);
        Assert.Equal(1.0, score.FlexibleValue);
    }

    [Fact]
    public void Explanation_uses_a_decimal_point_under_a_decimal_comma_culture()
    {
        var score = UnderGermanCulture(() => Score("token_f1", "It's the Eiffel tower", "eiffel tower paris"));

        Assert.Equal("token F1 0.571 against \"eiffel tower paris\"", score.Explanation);
    }
}
