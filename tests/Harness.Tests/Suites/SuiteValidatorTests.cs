using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Tests.Suites;

public sealed class SuiteValidatorTests
{
    private static readonly string[] ScorerNames = ["numeric", "exact", "choice", "json", "similarity"];

    private sealed class FakeFactory(string name, string? rejectArgument = null) : IScorerFactory
    {
        public string Name => name;

        public ScorerDescription Description => new(name, "a fake", [], "{}");

        public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory) =>
            rejectArgument is not null && arguments.ContainsKey(rejectArgument)
                ? throw new ArgumentException($"unknown argument '{rejectArgument}'")
                : new FakeScorer(name);
    }

    private sealed class FakeScorer(string name) : IScorer
    {
        public string Name => name;

        public Score Score(ScoringInput input) => new(name, 1, input.Output, 1, input.Output, null);
    }

    [Fact]
    public void Unknown_scorer_and_rejected_arguments_are_reported_at_the_scorer_line()
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(SuiteTestFiles.ValidYaml.Replace("scorers:\n", "scorers:\n  - name: nope\n", StringComparison.Ordinal));

        var errors = SuiteValidator.Validate(directory, [new FakeFactory("numeric", rejectArgument: "tolerance"), new FakeFactory("exact")]);

        Assert.Equal([$"{files.YamlPath()}:11", $"{files.YamlPath()}:12"], errors.Select(e => $"{e.FilePath}:{e.Line}"));
        Assert.Equal("unknown scorer 'nope' (known: exact, numeric)", errors[0].Problem);
        Assert.Equal("scorer 'numeric': unknown argument 'tolerance'", errors[1].Problem);
    }

    [Fact]
    public void Committed_suites_pass_with_factories_for_every_scorer_they_name()
    {
        var factories = ScorerNames.Select(n => new FakeFactory(n));

        Assert.Empty(SuiteValidator.ValidateAll(RepoPaths.Tasks(), factories));
    }
}
