using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Tasks.Import;

namespace Harness.Tests.Tasks.Import;

public sealed class SuiteScaffoldTests
{
    [Theory]
    [InlineData(SuiteKind.Fixed, RequestKind.Generate)]
    [InlineData(SuiteKind.Open, RequestKind.Generate)]
    [InlineData(SuiteKind.Fixed, RequestKind.LogLikelihood)]
    [InlineData(SuiteKind.Open, RequestKind.LogLikelihood)]
    public void A_new_suite_loads_and_validates_as_written_and_explains_its_keys(SuiteKind kind, RequestKind request)
    {
        using var ws = new ImportWorkspace();

        var directory = SuiteScaffold.Create(ws.Tasks, "my-task", kind, request, ScorerRegistry.Default.Factories);

        Assert.Empty(SuiteValidator.Validate(directory, ScorerRegistry.Default.Factories));
        var suite = SuiteLoader.Load(directory);
        Assert.Equal((kind, request), (suite.Kind, suite.Request));
        Assert.Equal("Question: What is the capital of France?\nAnswer:", PromptRenderer.Render(suite, Assert.Single(suite.Items)).PlainText);
        var yaml = File.ReadAllText(Path.Combine(directory, "suite.yaml"));
        foreach (var key in new[] { "name:", "version:", "kind:", "request:", "system:", "engine:", "template:", "fewshot:", "scorers:" })
        {
            var line = yaml.Split('\n').ToList().FindIndex(l => l.TrimStart().StartsWith(key, StringComparison.Ordinal));
            Assert.True(line > 0 && yaml.Split('\n')[line - 1].TrimStart().StartsWith('#'), $"{key} has no comment above it");
        }
    }

    [Fact]
    public void An_existing_folder_or_a_bad_name_is_refused()
    {
        using var ws = new ImportWorkspace();
        SuiteScaffold.Create(ws.Tasks, "taken", SuiteKind.Fixed, RequestKind.Generate, ScorerRegistry.Default.Factories);

        var taken = Assert.Throws<ImportException>(() => SuiteScaffold.Create(ws.Tasks, "taken", SuiteKind.Open, RequestKind.Generate, []));
        var bad = Assert.Throws<ImportException>(() => SuiteScaffold.Create(ws.Tasks, "My Task", SuiteKind.Open, RequestKind.Generate, []));

        Assert.EndsWith("taken: already exists; choose another name", taken.Message, StringComparison.Ordinal);
        Assert.Contains("must match [a-z0-9-]+", bad.Message, StringComparison.Ordinal);
        Assert.Equal(["taken"], Directory.GetFileSystemEntries(ws.Tasks).Select(Path.GetFileName));
    }
}
