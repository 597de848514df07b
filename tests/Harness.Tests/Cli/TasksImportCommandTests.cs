using Harness.Cli;
using Harness.Cli.Commands;
using Harness.Core.Suites;
using Harness.Tests.Tasks.Import;

namespace Harness.Tests.Cli;

public sealed class TasksImportCommandTests
{
    [Fact]
    public async Task Import_writes_a_suite_whose_yaml_states_every_default_that_changes_scores()
    {
        using var ws = new ImportWorkspace();
        var csv = ws.Write("qa.csv", "question,answer\n\"Capital of France, in one word?\",Paris\n");

        var exit = await HarnessApp.RunAsync(["tasks", "import", csv, "--name", "my-qa", "--kind", "fixed",
            "--template", "Q: {{ question }}\\nA:", "--target", "answer", "--tasks", ws.Tasks]);

        Assert.Equal(ExitCodes.Success, exit);
        var suite = SuiteLoader.Load(Path.Combine(ws.Tasks, "my-qa"));
        Assert.Equal("Q: Capital of France, in one word?\nA:", PromptRenderer.Render(suite, suite.Items[0]).PlainText);
        var yaml = await File.ReadAllTextAsync(Path.Combine(ws.Tasks, "my-qa", "suite.yaml"));
        foreach (var stated in new[] { "request: generate", "max_tokens: 64", "stop: [\"\\n\"]", "temperature: 0", "seed: 0",
                     "name: exact", "normalize: [\"trim\"]", "min_pass_rate: 0.9", "confidence: 0.95", "engine: liquid" })
        {
            Assert.Contains(stated, yaml, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Import_of_multiple_choice_by_loglikelihood_with_scorer_and_options_from_the_command_line()
    {
        using var ws = new ImportWorkspace();
        var jsonl = ws.Write("arc.jsonl", "{\"id\":\"q1\",\"question\":\"Sky?\",\"choices\":{\"text\":[\"red\",\"blue\"],\"label\":[\"A\",\"B\"]},\"answerKey\":\"B\"}\n");

        var exit = await HarnessApp.RunAsync(["tasks", "import", jsonl, "--name", "arc", "--kind", "open", "--request", "loglikelihood",
            "--template", "Question: {{ question }}\\nAnswer:", "--target", "answerKey", "--choices", "choices.text",
            "--target-in", "choices.label", "--id", "id", "--scorer", "choice", "--tasks", ws.Tasks]);

        Assert.Equal(ExitCodes.Success, exit);
        var item = Assert.Single(SuiteLoader.Load(Path.Combine(ws.Tasks, "arc")).Items);
        Assert.Equal(("q1", " blue"), (item.Id, item.Target));
    }

    [Fact]
    public async Task A_bad_row_exits_with_bad_input_and_writes_nothing()
    {
        using var ws = new ImportWorkspace();
        var csv = ws.Write("qa.csv", "question,answer\nx,1\n");

        var exit = await HarnessApp.RunAsync(["tasks", "import", csv, "--name", "my-qa", "--kind", "fixed",
            "--template", "{{ nope }}", "--target", "answer", "--tasks", ws.Tasks]);

        Assert.Equal(ExitCodes.BadInput, exit);
        ws.AssertNothingWritten();
    }

    [Fact]
    public void Scorer_arguments_are_json_and_escapes_in_templates_are_unescaped()
    {
        Assert.True(TasksImportCommand.ParseScorer("regex:{\"pattern\":\"\\\\d+\"}", out var spec, out _));
        Assert.Equal("regex", spec!.Name);
        Assert.Equal("\\d+", spec.Arguments["pattern"].GetString());
        Assert.False(TasksImportCommand.ParseScorer("regex:[1]", out _, out var problem));
        Assert.Equal("--scorer regex: the arguments after ':' must be a JSON object", problem);
        Assert.Equal("a\nb\tc\\n", TasksImportCommand.Unescape("a\\nb\\tc\\\\n"));
    }

    [Fact]
    public async Task New_scaffolds_a_suite_that_validates_and_refuses_an_existing_one()
    {
        using var ws = new ImportWorkspace();

        var first = await HarnessApp.RunAsync(["tasks", "new", "my-task", "--kind", "open", "--request", "loglikelihood", "--tasks", ws.Tasks]);
        var again = await HarnessApp.RunAsync(["tasks", "new", "my-task", "--tasks", ws.Tasks]);

        Assert.Equal(ExitCodes.Success, first);
        Assert.Equal(ExitCodes.BadInput, again);
        Assert.Empty(SuiteValidator.ValidateAll(ws.Tasks));
        Assert.Equal(SuiteKind.Open, SuiteLoader.Load(Path.Combine(ws.Tasks, "my-task")).Kind);
    }
}
