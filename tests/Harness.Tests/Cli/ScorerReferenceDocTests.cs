using System.Text.RegularExpressions;
using Harness.Cli.Scoring;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Tests.Suites;

namespace Harness.Tests.Cli;

/// <summary>
/// docs/suite-format.md's scorer reference is what <c>harness tasks scorers --markdown</c> prints from the scorers' own
/// argument descriptions (the ones that validate suites), and each of its examples loads as written.
/// </summary>
public sealed partial class ScorerReferenceDocTests
{
    private const string Regenerate =
        "regenerate it: dotnet run --project src/Harness.Cli -- tasks scorers --markdown, and paste the output between the markers of docs/suite-format.md";

    [Fact]
    public void The_doc_holds_the_generated_reference_of_every_registered_scorer()
    {
        using var scorers = new HarnessScorers();
        var path = Path.Combine(RepoPaths.Root(), "docs", "suite-format.md");
        var document = File.ReadAllText(path).ReplaceLineEndings("\n");

        var expected = ScorerReference.Replace(document, ScorerReference.Markdown(scorers.Registry.Factories));

        Assert.True(expected == document, $"{path}: the scorer reference is out of date; {Regenerate}");
        foreach (var name in scorers.Registry.Names)
        {
            Assert.Contains($"### `{name}`", document, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_example_of_the_reference_loads_as_written()
    {
        using var scorers = new HarnessScorers();
        var examples = YamlBlock().Matches(ScorerReference.Markdown(scorers.Registry.Factories)).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal(scorers.Registry.Names.Count(), examples.Count);

        foreach (var example in examples)
        {
            using var files = new SuiteTestFiles();
            var yaml = SuiteTestFiles.ValidYaml.Replace("scorers:\n  - name: numeric\n    args: { tolerance: 0 }\n", example, StringComparison.Ordinal);
            Assert.Contains(example, yaml, StringComparison.Ordinal);

            Assert.Empty(SuiteValidator.Validate(files.Write(yaml), scorers.Registry.Factories).Select(e => $"{example}: {e.Message}"));
        }
    }

    [GeneratedRegex("```yaml\n(scorers:\n(?:  .*\n)+)```")]
    private static partial Regex YamlBlock();
}
