using System.Globalization;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Tests.Suites;

public sealed class LiquidPromptTests
{
    private const string Yaml = """
        name: demo
        version: 1
        kind: open
        request: generate
        prompt:
          engine: liquid
          template: "{{ question }}\n{% for c in options %}{{ forloop.index }}. {{ c }}\n{% endfor %}Tags: {{ tags | join: ', ' }}\nAnswer:"
          fewshot:
            - { question: "Colour of snow?", options: ["white", "black"], tags: [easy], target: " 1" }
          fewshot_separator: "\n\n"
        generation:
          max_tokens: 4
        scorers:
          - name: exact
        """;

    private const string Items = """
        {"id":"1","question":"Sky?","options":["red","blue"],"tags":["colour","easy"],"target":" 2"}
        """;

    [Fact]
    public void A_liquid_suite_loops_and_joins_over_list_fields_in_examples_and_items()
    {
        using var files = new SuiteTestFiles();
        var suite = SuiteLoader.Load(files.Write(Yaml, Items));

        var prompt = PromptRenderer.Render(suite, suite.Items[0]);

        Assert.Equal(PromptEngine.Liquid, suite.Prompt.Engine);
        Assert.Equal(
            "Colour of snow?\n1. white\n2. black\nTags: easy\nAnswer: 1\n\n"
            + "Sky?\n1. red\n2. blue\nTags: colour, easy\nAnswer:",
            prompt.PlainText);
        Assert.Equal(3, prompt.Messages.Length);
    }

    [Fact]
    public void The_item_choices_are_a_variable_of_the_template()
    {
        using var files = new SuiteTestFiles();
        var yaml = Yaml.Replace("request: generate", "request: loglikelihood", StringComparison.Ordinal)
            .Replace("generation:\n  max_tokens: 4\n", "", StringComparison.Ordinal)
            .Replace("name: exact", "name: choice", StringComparison.Ordinal)
            .Replace("{% for c in options %}", "{% for c in choices %}", StringComparison.Ordinal)
            .Replace("    - { question: \"Colour of snow?\", options: [\"white\", \"black\"], tags: [easy], target: \" 1\" }\n", "", StringComparison.Ordinal)
            .Replace("  fewshot:\n", "  fewshot: []\n", StringComparison.Ordinal);
        var suite = SuiteLoader.Load(files.Write(yaml, """{"id":"1","question":"Sky?","tags":["a"],"target":"blue","choices":["red","blue"]}"""));

        Assert.Equal("Sky?\n1. red\n2. blue\nTags: a\nAnswer:", PromptRenderer.Render(suite, suite.Items[0]).PlainText);
    }

    [Fact]
    public void A_misspelt_field_is_a_load_error_naming_the_item_line_and_the_template()
    {
        using var files = new SuiteTestFiles();
        files.Write(Yaml.Replace("{{ question }}", "{{ qestion }}", StringComparison.Ordinal), Items);

        var errors = SuiteValidator.Validate(files.SuiteDirectory(), []);

        Assert.Equal(
        [
            $"{files.YamlPath()}:9: prompt.fewshot[0]: prompt.template (liquid, suite.yaml line 7) fails on this item: Undefined variable 'qestion'",
            $"{files.ItemsPath()}:1: prompt.template (liquid, suite.yaml line 7) fails on this item: Undefined variable 'qestion'",
        ], errors.Select(e => e.Message));
    }

    [Fact]
    public void A_template_that_does_not_parse_or_includes_a_file_is_an_error_at_the_template_line()
    {
        using var files = new SuiteTestFiles();
        files.Write(Yaml.Replace("{% endfor %}", "", StringComparison.Ordinal), Items, "demo");
        files.Write(Yaml.Replace("name: demo", "name: incl", StringComparison.Ordinal).Replace("{{ question }}", "{% include 'secret' %}", StringComparison.Ordinal), Items, "incl");

        var unclosed = Assert.Single(SuiteValidator.Validate(files.SuiteDirectory(), []));
        var include = Assert.Single(SuiteValidator.Validate(files.SuiteDirectory("incl"), []));

        Assert.StartsWith($"{files.YamlPath()}:7: prompt.template (liquid) does not parse: ", unclosed.Message, StringComparison.Ordinal);
        Assert.StartsWith($"{files.YamlPath("incl")}:7: prompt.template (liquid) does not parse: ", include.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_filter_and_an_unknown_engine_are_errors()
    {
        using var files = new SuiteTestFiles();
        files.Write(Yaml.Replace("join: ', '", "joinn: ', '", StringComparison.Ordinal), Items, "demo");
        files.Write(Yaml.Replace("name: demo", "name: eng", StringComparison.Ordinal).Replace("engine: liquid", "engine: jinja", StringComparison.Ordinal), Items, "eng");

        Assert.Contains(SuiteValidator.Validate(files.SuiteDirectory(), []), e => e.Message.Contains("Undefined filter 'joinn'", StringComparison.Ordinal));
        Assert.Equal($"{files.YamlPath("eng")}:6: prompt.engine must be one of placeholders, liquid, not 'jinja'",
            Assert.Single(SuiteValidator.Validate(files.SuiteDirectory("eng"), [])).Message);
    }

    [Fact]
    public void Numbers_print_culture_invariantly_under_a_decimal_comma_culture()
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            using var files = new SuiteTestFiles();
            var suite = SuiteLoader.Load(files.Write(SuiteTestFiles.ValidYaml.Replace("template: \"{{a}}+{{b}}=\"", "engine: liquid\n  template: \"{{ a }}+{{ b }}={{ a | plus: b | times: 0.5 }}\"", StringComparison.Ordinal),
                """{"id":"1","a":1.25,"b":2,"target":"3"}"""));

            Assert.Equal("1.25+2=1.625", PromptRenderer.Render(suite, suite.Items[0]).PlainText);
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Fact]
    public void A_suite_without_engine_keeps_placeholder_rendering_where_liquid_syntax_is_an_error()
    {
        using var files = new SuiteTestFiles();
        files.Write(SuiteTestFiles.ValidYaml.Replace("{{a}}+{{b}}=", "{{ a }}+{{b}}=", StringComparison.Ordinal));

        var error = Assert.Single(SuiteValidator.Validate(files.SuiteDirectory(), ScorerRegistry.Default.Factories));

        Assert.Contains("is not a {{field}} placeholder", error.Problem, StringComparison.Ordinal);
        Assert.Equal(PromptEngine.Placeholders, SuiteLoader.Load(files.Write()).Prompt.Engine);
    }
}
