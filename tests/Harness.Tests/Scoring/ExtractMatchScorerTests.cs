using Harness.Core.Scoring;
using static Harness.Tests.Scoring.ScoringFixtures;

namespace Harness.Tests.Scoring;

/// <summary>
/// lm-eval's regex filter + exact_match. Every expected answer below was produced by running lm-eval's filter and
/// metric logic under CPython 3 (re.findall, group_select, strip, fallback; re.sub of each ignored regex on both
/// sides, str.lower), so a difference between Python's and .NET's regex engines on these patterns would show here.
/// </summary>
public sealed class ExtractMatchScorerTests
{

    // lm_eval/tasks/gsm8k/gsm8k-cot.yaml@4e7e0d4: strict-match and flexible-extract, exact_match with ignore_case.
    private const string Gsm8kCot = """
        {"pattern": "The answer is (\\-?[0-9\\.\\,]+).", "flexible_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)",
         "flexible_group_select": -1, "ignore_case": true, "regexes_to_ignore": [",", "\\$", "(?s).*#### ", "\\.$"]}
        """;

    private const string Gsm8kPlain = """
        {"pattern": "#### (\\-?[0-9\\.\\,]+)", "flexible_pattern": "(-?[$0-9.,]{2,})|(-?[0-9]+)",
         "flexible_group_select": -1, "ignore_case": true, "regexes_to_ignore": [",", "\\$", "(?s).*#### ", "\\.$"]}
        """;

    // lm_eval/tasks/bbh/cot_fewshot/_cot_fewshot_template_yaml@4e7e0d4: get-answer, plain exact_match.
    private const string Bbh = """{"pattern": "(?<=the answer is )(.*)(?=.)"}""";

    [Theory]
    [InlineData("Olivia had 23 dollars. 23 - 15 is 8. The answer is 8.", "8", "8", 1.0)]
    [InlineData("So she has $1,234.50 left. The answer is $1,234.50.", "1234.5", "[invalid]", 0.0)]
    [InlineData("The answer is 1,234. Then more.", "1234", "1,234.", 1.0)]
    [InlineData("The answer is 18", "18", "1", 0.0)]
    [InlineData("The answer is 18\n", "18", "1", 0.0)]
    [InlineData("The answer is -3.", "-3", "-3", 1.0)]
    public void Gsm8k_cot_strict_match_extracts_as_lm_eval(string output, string target, string answer, double value)
    {
        var score = Score("extract_match", output, target, Gsm8kCot);

        Assert.Equal((answer, value), (score.Answer, score.Value));
    }

    [Theory]
    [InlineData("She makes 9 * 2 = $18 every day.", "18", "$18", 1.0)]
    [InlineData("The answer is 18. Then 5 more", "18", "5", 0.0)]
    [InlineData("Total is $1,234.", "1234", "$1,234.", 1.0)]
    [InlineData("no numbers here", "18", "[invalid]", 0.0)]
    [InlineData("x 7", "7", "7", 1.0)]
    public void Gsm8k_flexible_extract_takes_the_last_number_as_lm_eval(string output, string target, string answer, double value)
    {
        var score = Score("extract_match", output, target, Gsm8kCot);

        Assert.Equal((answer, value), (score.FlexibleAnswer, score.FlexibleValue));
    }

    [Fact]
    public void Flexible_is_recorded_independently_and_may_fail_where_strict_passes()
    {
        var score = Score("extract_match", "The answer is 18. Then 5 more", "18", Gsm8kCot);

        Assert.Equal((1.0, "18.", 0.0, "5"), (score.Value, score.Answer, score.FlexibleValue, score.FlexibleAnswer));
        Assert.Null(score.Explanation);
    }

    [Fact]
    public void Gsm8k_reference_is_the_full_solution_and_loses_everything_up_to_the_hashes()
    {
        const string reference = "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs a day.\nShe makes 9 * 2 = $<<9*2=18>>18 every day at the farmer\u2019s market.\n#### 18";

        var pass = Score("extract_match", "Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 duck eggs.\n#### 18", reference, Gsm8kPlain);
        var fail = Score("extract_match", "#### 17", reference, Gsm8kPlain);

        Assert.Equal((1.0, "18"), (pass.Value, pass.Answer));
        Assert.Equal(0.0, fail.Value);
        Assert.Equal("expected \"18\", got \"17\"", fail.Explanation);
    }

    [Theory]
    [InlineData("Let's evaluate A. So the answer is False.", "False", "False", 1.0)]
    [InlineData("So the answer is (B).", "(B)", "(B)", 1.0)]
    [InlineData("So the answer is (B)", "(B)", "(B", 0.0)]
    [InlineData("the answer is Yes.\nand the answer is No.", "Yes", "Yes", 1.0)]
    [InlineData("So the answer is  costume counterpart oven.", "costume counterpart oven", "costume counterpart oven", 1.0)]
    [InlineData("So The Answer Is False.", "False", "[invalid]", 0.0)]
    public void Bbh_get_answer_uses_the_lookbehind_as_lm_eval(string output, string target, string answer, double value)
    {
        var score = Score("extract_match", output, target, Bbh);

        Assert.Equal((answer, value), (score.Answer, score.Value));
        Assert.Equal((answer, value), (score.FlexibleAnswer, score.FlexibleValue));
    }

    [Fact]
    public void Case_and_punctuation_are_ignored_only_when_asked()
    {
        var both = Score("extract_match", "Hello, World!", "hello world", """{"pattern": ".+", "ignore_case": true, "ignore_punctuation": true}""");
        var caseOnly = Score("extract_match", "Hello, World!", "hello world", """{"pattern": ".+", "ignore_case": true}""");
        var neither = Score("extract_match", "Hello", "hello", """{"pattern": ".+"}""");

        Assert.Equal((1.0, 0.0, 0.0), (both.Value, caseOnly.Value, neither.Value));
    }

    [Fact]
    public void Groups_follow_python_findall()
    {
        Assert.Equal("[invalid]", Score("extract_match", "c", "x", """{"pattern": "(a)|(b)|()"}""").Answer);
        Assert.Equal(string.Empty, Score("extract_match", "y", "x", """{"pattern": "(x)?y"}""").Answer);
        Assert.Equal("b", Score("extract_match", "a1 b2", "x", """{"pattern": "([a-z])\\d", "group_select": 1}""").Answer);
        Assert.Equal("a1", Score("extract_match", " a1 b2", "x", """{"pattern": "[a-z]\\d"}""").Answer);
    }

    [Fact]
    public void Group_select_past_the_matches_gives_the_fallback()
    {
        var score = Score("extract_match", "1 2", "1", """{"pattern": "\\d+", "group_select": 5, "fallback": "NONE"}""");

        Assert.Equal(("NONE", 0.0), (score.Answer, score.Value));
    }

    [Fact]
    public void Dollar_strips_a_final_period_before_a_trailing_newline_as_python_does()
    {
        var scorer = new ExtractMatchScorer(
            new ExtractMatchScorer.Extraction(ExtractMatchScorer.Compile(".+"), 0, "[invalid]"),
            null,
            [ExtractMatchScorer.Compile("\\.$")],
            ignoreCase: false,
            ignorePunctuation: false);

        Assert.Equal("18\n", scorer.Normalize("18.\n"));
    }

    [Fact]
    public void Missing_target_and_bad_arguments_are_reported()
    {
        Assert.Contains("no target", Score("extract_match", "x", null, Bbh).Explanation, StringComparison.Ordinal);
        Assert.Equal("pattern", Assert.Throws<ScorerArgumentException>(() => Create("extract_match", "{}")).ParamName);
        Assert.Equal("pattern", Assert.Throws<ScorerArgumentException>(() => Create("extract_match", """{"pattern": "(unclosed"}""")).ParamName);
        Assert.Equal("group_select", Assert.Throws<ScorerArgumentException>(() => Create("extract_match", """{"pattern": "x", "group_select": "last"}""")).ParamName);
        Assert.Equal("flexible_group_select", Assert.Throws<ScorerArgumentException>(() => Create("extract_match", """{"pattern": "x", "flexible_group_select": -1}""")).ParamName);
        Assert.Equal("regexes_to_ignore", Assert.Throws<ScorerArgumentException>(() => Create("extract_match", """{"pattern": "x", "regexes_to_ignore": ["["]}""")).ParamName);
    }

    [Fact]
    public void Scores_do_not_depend_on_the_current_culture()
    {
        var score = UnderGermanCulture(() => Score("extract_match", "THE ANSWER IS 1,5.", "15", Gsm8kCot));

        Assert.Equal(0.0, score.Value);
        Assert.Equal("[invalid]", score.Answer);
    }
}
