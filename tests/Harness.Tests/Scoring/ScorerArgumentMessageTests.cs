using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Scoring.IfEval;
using Harness.Tests.Suites;
using static Harness.Tests.Scoring.ScoringFixtures;

namespace Harness.Tests.Scoring;

/// <summary>A suite author reads these messages: each names the scorer once and ends with the problem, not with .NET's " (Parameter 'x')".</summary>
public sealed class ScorerArgumentMessageTests
{
    private const string Steps = "trim, lowercase, collapse_whitespace, strip_punctuation";

    [Theory]
    [InlineData("exact", """{"ignore_case": true}""", "scorer 'exact': unknown argument 'ignore_case'; known: normalize (steps: " + Steps + ")")]
    [InlineData("exact", """{"normalize": ["trim", "upper"]}""", "scorer 'exact': argument 'normalize' has unknown step 'upper'; known steps: " + Steps)]
    [InlineData("exact", """{"normalize": "trim"}""", "scorer 'exact': argument 'normalize' must be a list of strings, got \"trim\"")]
    [InlineData("choice", """{"normalize": ["trim"]}""", "scorer 'choice': unknown argument 'normalize'; it takes no arguments")]
    [InlineData("numeric", """{"tolerance": -1}""", "scorer 'numeric': argument 'tolerance' must be a number zero or greater, got -1")]
    [InlineData("numeric", """{"tolerence": 1}""", "scorer 'numeric': unknown argument 'tolerence'; known: tolerance, relative_tolerance")]
    [InlineData("regex", """{"group": 1}""", "scorer 'regex': argument 'pattern' is required and must be a non-empty string")]
    [InlineData("regex", """{"pattern": "(a)", "group": 2}""", "scorer 'regex': argument 'group' names group '2', which the pattern does not have")]
    [InlineData("json", """{"match_target": "yes"}""", "scorer 'json': argument 'match_target' must be true or false, got \"yes\"")]
    [InlineData("judge", """{"model": "j", "rubric": "r", "mode": "best-of"}""", "scorer 'judge': argument 'mode' must be \"pointwise\", \"pairwise\" or \"mt-bench\", got \"best-of\"")]
    public void Built_in_scorers_name_themselves_once_and_say_what_is_known(string scorer, string json, string expected)
    {
        var error = Assert.Throws<ScorerArgumentException>(() => Create(scorer, json));

        Assert.Equal(expected, error.Message);
    }

    [Fact]
    public void Ifeval_lists_its_allowed_values()
    {
        var factory = new IfEvalScorerFactory();

        Assert.Equal(
            "scorer 'ifeval': unknown argument 'strictness'; known: level (one of: prompt, instruction), mode (one of: strict, loose)",
            Assert.Throws<ScorerArgumentException>(() => factory.Create(Args("""{"strictness": "lax"}"""), ".")).Message);
        Assert.Equal(
            "scorer 'ifeval': argument 'mode' must be \"strict\" or \"loose\", got \"lax\"",
            Assert.Throws<ScorerArgumentException>(() => factory.Create(Args("""{"mode": "lax"}"""), ".")).Message);
    }

    [Fact]
    public void An_unknown_scorer_reads_without_a_parameter_suffix()
    {
        var error = Assert.Throws<ScorerArgumentException>(() => ScorerRegistry.Default.Create(new ScorerSpec("exakt", Args()), "."));

        Assert.Equal("unknown scorer 'exakt'; known scorers: choice, exact, extract_match, json, judge, numeric, regex, similarity, token_f1", error.Message);
    }

    [Fact]
    public void The_suite_validator_prints_the_message_once()
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(SuiteTestFiles.ValidYaml.Replace("args: { tolerance: 0 }", "args: { tolerance: 0, ignore_case: true }", StringComparison.Ordinal));

        var error = Assert.Single(SuiteValidator.Validate(directory, ScorerRegistry.Default.Factories));

        Assert.Equal("scorer 'numeric': unknown argument 'ignore_case'; known: tolerance, relative_tolerance", error.Problem);
    }
}
