using Harness.Core.Scoring;
using Harness.Core.Suites;
using static Harness.Tests.Scoring.ScoringFixtures;

namespace Harness.Tests.Scoring;

public sealed class ScorerRegistryTests
{
    [Fact]
    public void Default_registry_knows_every_built_in_scorer()
    {
        Assert.Equal(["choice", "exact", "extract_match", "json", "judge", "numeric", "regex", "similarity", "token_f1"], ScorerRegistry.Default.Names);
    }

    [Theory]
    [InlineData("choice")]
    [InlineData("exact")]
    [InlineData("json")]
    [InlineData("numeric")]
    [InlineData("similarity")]
    [InlineData("token_f1")]
    public void Created_scorer_carries_its_name_into_scores(string name)
    {
        var scorer = Create(name);

        Assert.Equal(name, scorer.Name);
        Assert.Equal(name, scorer.Score(Input("x", "x")).Scorer);
    }

    [Fact]
    public void Unknown_scorer_lists_the_known_names()
    {
        var error = Assert.Throws<ScorerArgumentException>(() => ScorerRegistry.Default.Create(new ScorerSpec("exakt", Args()), "."));

        Assert.Contains("unknown scorer 'exakt'", error.Message, StringComparison.Ordinal);
        Assert.Contains("choice, exact, extract_match, json, judge, numeric, regex, similarity, token_f1", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("exact", "tolerance")]
    [InlineData("numeric", "normalize")]
    [InlineData("choice", "normalize")]
    [InlineData("similarity", "threshold")]
    [InlineData("token_f1", "normalize")]
    [InlineData("json", "schemas")]
    [InlineData("regex", "patern")]
    public void Unknown_argument_is_rejected_by_name(string scorer, string argument)
    {
        var json = scorer == "regex" ? $$"""{"pattern": "x", "{{argument}}": 1}""" : $$"""{"{{argument}}": 1}""";

        var error = Assert.Throws<ScorerArgumentException>(() => Create(scorer, json));

        Assert.Equal(argument, error.ParamName);
        Assert.Contains($"scorer '{scorer}'", error.Message, StringComparison.Ordinal);
        Assert.Contains("unknown argument", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Duplicate_factory_names_are_rejected()
    {
        Assert.Throws<ArgumentException>(() => new ScorerRegistry([new ExactScorerFactory(), new ExactScorerFactory()]));
    }

    [Fact]
    public void Every_scorer_reports_a_missing_target_instead_of_throwing()
    {
        foreach (var name in new[] { "choice", "exact", "numeric", "similarity", "token_f1" })
        {
            var score = Create(name).Score(Input("x", null));
            Assert.Equal(0.0, score.Value);
            Assert.Contains("no target", score.Explanation, StringComparison.Ordinal);
        }
    }
}
