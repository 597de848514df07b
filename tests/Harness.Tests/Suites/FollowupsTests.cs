using Harness.Core.Backends;
using Harness.Core.Suites;

namespace Harness.Tests.Suites;

public sealed class FollowupsTests : IDisposable
{
    private const string ChatYaml = """
        name: demo
        version: 1
        kind: open
        request: generate
        prompt:
          system: "Be brief."
          template: "{{q1}}"
          followups: ["{{q2}} (turn {{n}})"]
          fewshot_separator: "\n\n"
        generation:
          max_tokens: 8
        scorers:
          - name: similarity
        """;

    private const string ChatItems = """
        {"id":"1","q1":"Name a colour.","q2":"Another one","n":2,"target":"blue"}
        """;

    private readonly SuiteTestFiles files = new();

    public void Dispose() => files.Dispose();

    [Fact]
    public void Followups_load_as_the_turns_after_the_first()
    {
        var suite = SuiteLoader.Load(files.Write(ChatYaml, ChatItems));

        Assert.Equal(["{{q2}} (turn {{n}})"], suite.Prompt.Followups.AsEnumerable());
        Assert.Equal(2, suite.Prompt.TurnCount);
    }

    [Fact]
    public void A_suite_without_followups_is_unchanged_and_has_one_turn()
    {
        var suite = SuiteLoader.Load(files.Write());

        Assert.Empty(suite.Prompt.Followups);
        Assert.Equal(1, suite.Prompt.TurnCount);
        Assert.Equal(new PromptTemplate("{{a}}+{{b}}=", null, [], "\n"), suite.Prompt);
    }

    [Theory]
    [InlineData("followups: \"{{q2}}\"", null, "prompt.followups must be a list of templates")]
    [InlineData("followups: [\"\"]", null, "prompt.followups[0] must be a non-empty string")]
    [InlineData("followups: [\"{{ q2 }}\"]", null, "prompt.followups[0] has a '{{' at offset 0 that is not a {{field}} placeholder")]
    [InlineData("followups: [\"{{missing}}\"]", "items.jsonl", "item lacks field 'missing' used by the template")]
    public void Bad_followups_are_named(string line, string? blamed, string problem)
    {
        var yaml = ChatYaml.Replace("followups: [\"{{q2}} (turn {{n}})\"]", line, StringComparison.Ordinal);
        files.Write(yaml, ChatItems);

        var errors = SuiteValidator.Validate(files.SuiteDirectory(), []);

        var error = Assert.Single(errors);
        Assert.EndsWith(blamed ?? "suite.yaml", error.FilePath, StringComparison.Ordinal);
        Assert.Contains(problem, error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Followups_need_a_generate_request()
    {
        const string yaml = """
            name: demo
            version: 1
            kind: open
            request: loglikelihood
            prompt:
              template: "{{q1}}"
              followups: ["{{q2}}"]
            scorers:
              - name: choice
            """;
        files.Write(yaml, """{"id":"1","q1":"a","q2":"b","target":" x","choices":[" x"," y"]}""");

        var error = Assert.Single(SuiteValidator.Validate(files.SuiteDirectory(), []));

        Assert.Equal(7, error.Line);
        Assert.Contains("prompt.followups needs request: generate", error.Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Turn_two_carries_the_whole_conversation_in_chat_and_plain_form()
    {
        var suite = SuiteLoader.Load(files.Write(ChatYaml, ChatItems));
        var item = suite.Items[0];

        var first = PromptRenderer.RenderTurn(suite.Prompt, item, []);
        var second = PromptRenderer.RenderTurn(suite.Prompt, item, ["Red."]);

        Assert.Equal(PromptRenderer.Render(suite, item).PlainText, first.PlainText);
        Assert.Equal(PromptRenderer.Render(suite, item).Messages.AsEnumerable(), first.Messages.AsEnumerable());
        Assert.Equal(
            new[]
            {
                new ChatMessage("system", "Be brief."), new ChatMessage("user", "Name a colour."), new ChatMessage("assistant", "Red."),
                new ChatMessage("user", "Another one (turn 2)"),
            },
            second.Messages);
        Assert.Equal("Be brief.\nName a colour.Red.\n\nAnother one (turn 2)", second.PlainText);
        Assert.Throws<ArgumentException>(() => PromptRenderer.RenderTurn(suite.Prompt, item, ["Red.", "Green."]));
    }
}
