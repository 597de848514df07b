using Harness.Core.Scoring;
using static Harness.Tests.Scoring.ScoringFixtures;

namespace Harness.Tests.Scoring;

public sealed class NumericScorerTests
{
    [Theory]
    [InlineData("42", "42")]
    [InlineData(" -3.50 ", "-3.5")]
    [InlineData("1e3", "1000")]
    [InlineData(".5", "0.5")]
    [InlineData("42", "42.0")]
    public void Strict_pass_when_the_whole_output_is_the_number(string output, string target)
    {
        var score = Score("numeric", output, target);

        Assert.Equal(1.0, score.Value);
        Assert.Equal(1.0, score.FlexibleValue);
    }

    [Theory]
    [InlineData("The answer is 42.", "42", "42")]
    [InlineData("48 - 6 = 42", "42", "42")]
    [InlineData("Total: $1,234.50", "1234.5", "1234.5")]
    [InlineData("from 3-4", "4", "4")]
    [InlineData("it fell to -7 degrees", "-7", "-7")]
    public void Last_number_anywhere_passes_only_flexibly(string output, string target, string flexibleAnswer)
    {
        var score = Score("numeric", output, target);

        Assert.Equal(0.0, score.Value);
        Assert.Null(score.Answer);
        Assert.Equal(1.0, score.FlexibleValue);
        Assert.Equal(flexibleAnswer, score.FlexibleAnswer);
    }

    [Fact]
    public void Thousands_separators_are_not_strict_numbers()
    {
        var score = Score("numeric", "1,000", "1000");

        Assert.Equal(0.0, score.Value);
        Assert.Equal(1.0, score.FlexibleValue);
    }

    [Fact]
    public void Wrong_number_fails_with_an_explanation()
    {
        var score = Score("numeric", "41", "42");

        Assert.Equal((0.0, 0.0), (score.Value, score.FlexibleValue));
        Assert.Equal("expected 42, got 41", score.Explanation);
    }

    [Fact]
    public void Absolute_and_relative_tolerances_take_the_larger_bound()
    {
        Assert.Equal(1.0, Score("numeric", "3.14", "3.14159", """{"tolerance": 0.01}""").Value);
        Assert.Equal(0.0, Score("numeric", "3.1", "3.14159", """{"tolerance": 0.01}""").Value);
        Assert.Equal(1.0, Score("numeric", "1010", "1000", """{"tolerance": 1, "relative_tolerance": 0.01}""").Value);
        Assert.Equal(0.0, Score("numeric", "1011", "1000", """{"tolerance": 1, "relative_tolerance": 0.01}""").Value);
    }

    [Fact]
    public void Decimal_comma_culture_changes_neither_parsing_nor_explanations()
    {
        var (pass, commaOutput, explained) = UnderGermanCulture(() => (
            Score("numeric", "3.5", "3.5"),
            Score("numeric", "3,5", "3.5"),
            Score("numeric", "2.5", "3.25", """{"tolerance": 0.5}""")));

        Assert.Equal(1.0, pass.Value);
        Assert.Equal("3.5", pass.Answer);
        Assert.Equal(0.0, commaOutput.Value);
        Assert.Equal("expected 3.25 ± 0.5, got 2.5", explained.Explanation);
    }

    [Fact]
    public void Output_without_any_number_fails_both_ways()
    {
        var score = Score("numeric", "I do not know", "7");

        Assert.Equal((0.0, 0.0), (score.Value, score.FlexibleValue));
        Assert.Equal("output is not a single number (expected 7)", score.Explanation);
    }

    [Fact]
    public void Non_numeric_target_is_explained()
    {
        var score = Score("numeric", "7", "seven");

        Assert.Equal(0.0, score.Value);
        Assert.Contains("target \"seven\" is not a number", score.Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"tolerance": -1}""", "tolerance")]
    [InlineData("""{"tolerance": "0.1"}""", "tolerance")]
    [InlineData("""{"relative_tolerance": -0.5}""", "relative_tolerance")]
    public void Bad_tolerances_are_named(string json, string argument)
    {
        var error = Assert.Throws<ScorerArgumentException>(() => Create("numeric", json));

        Assert.Equal(argument, error.ParamName);
    }
}

public sealed class ChoiceScorerTests
{
    [Fact]
    public void Chosen_continuation_equal_to_the_target_passes()
    {
        var score = Score("choice", " Paris", " Paris");

        Assert.Equal(1.0, score.Value);
        Assert.Equal(" Paris", score.Answer);
    }

    [Fact]
    public void Other_choice_fails()
    {
        var score = Score("choice", " Lyon", " Paris");

        Assert.Equal((0.0, 0.0), (score.Value, score.FlexibleValue));
        Assert.Equal("chose \" Lyon\", target \" Paris\"", score.Explanation);
    }

    [Fact]
    public void Whitespace_and_case_differences_pass_only_flexibly()
    {
        var score = Score("choice", "paris\n", " Paris");

        Assert.Equal(0.0, score.Value);
        Assert.Equal(1.0, score.FlexibleValue);
        Assert.Equal("paris", score.FlexibleAnswer);
    }

    [Fact]
    public void Takes_no_arguments()
    {
        var error = Assert.Throws<ScorerArgumentException>(() => new ChoiceScorerFactory().Create(Args("""{"x": 1}"""), "."));

        Assert.Contains("takes no arguments", error.Message, StringComparison.Ordinal);
    }
}
