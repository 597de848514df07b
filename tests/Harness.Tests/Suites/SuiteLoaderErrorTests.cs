using Harness.Core.Suites;

namespace Harness.Tests.Suites;

public sealed class SuiteLoaderErrorTests
{
    private const string Yaml = SuiteTestFiles.ValidYaml;
    private const string Items = SuiteTestFiles.ValidItems;

    private const string LogLikelihoodYaml = """
        name: demo
        version: 1
        kind: open
        request: loglikelihood
        prompt:
          template: "review: {{text}}\nlabel:"
        scorers:
          - name: choice
        """;

    /// <summary>(case, suite.yaml, items.jsonl, file that is blamed, line, part of the problem text).</summary>
    public static TheoryData<string, string, string?, string, int?, string> Cases() => new()
    {
        // suite.yaml: keys
        { "unknown top-level key", Yaml + "\ncolour: red", Items, "suite.yaml", 16, "unknown key 'colour'" },
        { "unknown nested key", Yaml.Replace("  max_tokens: 4", "  max_tokens: 4\n  top_k: 5"), Items, "suite.yaml", 10, "unknown key 'generation.top_k'" },
        { "unknown requirement key", Yaml + "\n  p99_latency_ms: 5", Items, "suite.yaml", 16, "unknown key 'requirement.p99_latency_ms'" },
        { "missing name", Yaml.Replace("name: demo\n", ""), Items, "suite.yaml", 1, "missing required key 'name'" },
        { "missing template", Yaml.Replace("  template:", "  templat:"), Items, "suite.yaml", 7, "missing required key 'prompt.template'" },
        { "missing max_tokens", Yaml.Replace("  max_tokens: 4", "  seed: 3"), Items, "suite.yaml", 9, "missing required key 'generation.max_tokens'" },
        { "missing generation", Yaml.Replace("generation:\n  max_tokens: 4\n", ""), Items, "suite.yaml", 1, "missing required key 'generation'" },
        { "missing requirement for fixed", Yaml[..Yaml.IndexOf("requirement:", StringComparison.Ordinal)], Items, "suite.yaml", 1, "missing required key 'requirement'" },
        { "requirement on open suite", Yaml.Replace("kind: fixed", "kind: open"), Items, "suite.yaml", 14, "requirement is not allowed for kind: open" },
        { "generation on loglikelihood suite", LogLikelihoodYaml + "\ngeneration:\n  max_tokens: 3", """{"id":"1","text":"x","target":" a","choices":[" a"," b"]}""", "suite.yaml", 10, "generation is not allowed" },
        // suite.yaml: values and types
        { "name with capitals", Yaml.Replace("name: demo", "name: Demo"), Items, "suite.yaml", 1, "must match [a-z0-9-]+" },
        { "name is not the folder", Yaml.Replace("name: demo", "name: other"), Items, "suite.yaml", 1, "must equal the folder name 'demo'" },
        { "version not an integer", Yaml.Replace("version: 1", "version: one"), Items, "suite.yaml", 2, "version must be an integer" },
        { "version quoted", Yaml.Replace("version: 1", "version: \"1\""), Items, "suite.yaml", 2, "version must be an integer" },
        { "version zero", Yaml.Replace("version: 1", "version: 0"), Items, "suite.yaml", 2, "version must be at least 1" },
        { "bad kind", Yaml.Replace("kind: fixed", "kind: closed"), Items, "suite.yaml", 3, "kind must be one of fixed, open, not 'closed'" },
        { "bad request", Yaml.Replace("request: generate", "request: chat"), Items, "suite.yaml", 5, "request must be one of generate, loglikelihood" },
        { "prompt not a mapping", Yaml.Replace("prompt:\n  template: \"{{a}}+{{b}}=\"", "prompt: hello"), Items, "suite.yaml", 6, "prompt must be a mapping" },
        { "malformed placeholder", Yaml.Replace("{{a}}+", "{{ a }}+"), Items, "suite.yaml", 7, "not a {{field}} placeholder" },
        { "fewshot not a list", Yaml.Replace("  template:", "  fewshot: 3\n  template:"), Items, "suite.yaml", 7, "prompt.fewshot must be a list" },
        { "fewshot example lacks field", Yaml.Replace("  template:", "  fewshot:\n    - { a: 1, target: \"3\" }\n  template:"), Items, "suite.yaml", 8, "prompt.fewshot[0] lacks field 'b'" },
        { "fewshot example lacks target", Yaml.Replace("  template:", "  fewshot:\n    - { a: 1, b: 2 }\n  template:"), Items, "suite.yaml", 8, "prompt.fewshot[0] has no target" },
        { "max_tokens zero", Yaml.Replace("max_tokens: 4", "max_tokens: 0"), Items, "suite.yaml", 9, "max_tokens must be at least 1" },
        { "stop not a list", Yaml.Replace("  max_tokens: 4", "  max_tokens: 4\n  stop: x"), Items, "suite.yaml", 10, "generation.stop must be a list of strings" },
        { "empty stop string", Yaml.Replace("  max_tokens: 4", "  max_tokens: 4\n  stop: [\"\"]"), Items, "suite.yaml", 10, "generation.stop entries must not be empty" },
        { "negative temperature", Yaml.Replace("  max_tokens: 4", "  max_tokens: 4\n  temperature: -0.5"), Items, "suite.yaml", 10, "generation.temperature must be in [0, inf)" },
        { "temperature not a number", Yaml.Replace("  max_tokens: 4", "  max_tokens: 4\n  temperature: warm"), Items, "suite.yaml", 10, "generation.temperature must be a number" },
        { "no scorers", Yaml.Replace("  - name: numeric\n    args: { tolerance: 0 }\n", "").Replace("scorers:", "scorers: []"), Items, "suite.yaml", 10, "scorers must be a non-empty list" },
        { "scorer without name", Yaml.Replace("  - name: numeric\n    args:", "  - args:"), Items, "suite.yaml", 11, "missing required key 'scorers[0].name'" },
        { "scorer args not a mapping", Yaml.Replace("args: { tolerance: 0 }", "args: [1]"), Items, "suite.yaml", 12, "scorers[0].args must be a mapping" },
        { "YAML tag in args", Yaml.Replace("tolerance: 0", "tolerance: !!int 0"), Items, "suite.yaml", 12, "YAML tags" },
        { "confidence one", Yaml.Replace("confidence: 0.95", "confidence: 1"), Items, "suite.yaml", 15, "requirement.confidence must be in (0, 1)" },
        { "confidence zero", Yaml.Replace("confidence: 0.95", "confidence: 0"), Items, "suite.yaml", 15, "requirement.confidence must be in (0, 1)" },
        { "pass rate above one", Yaml.Replace("min_pass_rate: 0.9", "min_pass_rate: 1.5"), Items, "suite.yaml", 14, "requirement.min_pass_rate must be in [0, 1]" },
        { "latency not positive", Yaml + "\n  p95_latency_ms: 0", Items, "suite.yaml", 16, "requirement.p95_latency_ms must be in (0, inf)" },
        { "duplicate key", Yaml + "\nname: demo", Items, "suite.yaml", 16, "duplicate key 'name'" },
        { "YAML syntax error", Yaml.Replace("description: \"a demo\"", "description: \"a demo"), Items, "suite.yaml", 4, "While scanning a multi-line double-quoted scalar" },
        { "not a mapping", "- a\n- b", Items, "suite.yaml", 1, "top level must be a mapping" },
        { "empty file", "", Items, "suite.yaml", null, "file is empty" },
        // items.jsonl
        { "missing items file", Yaml, null, "items.jsonl", null, "file is missing" },
        { "no items", Yaml, "\n\n", "items.jsonl", null, "suite has no items" },
        { "duplicate id", Yaml, Items.Replace("\"id\":\"2\"", "\"id\":\"1\""), "items.jsonl", 2, "duplicate id '1' (first at line 1)" },
        { "duplicate id after blank line", Yaml, Items.Replace("\n", "\n\n").Replace("\"id\":\"2\"", "\"id\":\"1\""), "items.jsonl", 3, "duplicate id '1' (first at line 1)" },
        { "item lacks a placeholder field", Yaml, Items.Replace("\"b\":2,\"target\":\"4\"", "\"target\":\"4\""), "items.jsonl", 2, "item lacks field 'b' used by the template" },
        { "placeholder field is an object", Yaml, Items.Replace("\"b\":2,\"target\":\"4\"", "\"b\":{\"x\":1}"), "items.jsonl", 2, "field 'b' is Object" },
        { "invalid JSON", Yaml, Items.Replace("\"target\":\"4\"}", "\"target\":\"4\""), "items.jsonl", 2, "invalid JSON" },
        { "item not an object", Yaml, Items + "\n[1,2]", "items.jsonl", 3, "an item must be a JSON object" },
        { "target not a string", Yaml, Items.Replace("\"target\":\"4\"", "\"target\":4"), "items.jsonl", 2, "\"target\" must be a string" },
        { "id missing", Yaml, Items.Replace("\"id\":\"2\",", ""), "items.jsonl", 2, "item has no \"id\"" },
        { "id not a string", Yaml, Items.Replace("\"id\":\"2\"", "\"id\":2"), "items.jsonl", 2, "\"id\" must be a non-empty string" },
        { "property twice", Yaml, Items.Replace("\"a\":2,", "\"a\":2,\"a\":3,"), "items.jsonl", 2, "property 'a' appears twice" },
        { "choices not strings", Yaml, Items.Replace("\"target\":\"4\"", "\"target\":\"4\",\"choices\":[4]"), "items.jsonl", 2, "\"choices\" must be a non-empty array of non-empty strings" },
        { "loglikelihood without choices", LogLikelihoodYaml, """{"id":"1","text":"x","target":" a"}""", "items.jsonl", 1, "needs \"choices\" with at least two entries" },
        { "loglikelihood target not a choice", LogLikelihoodYaml, """{"id":"1","text":"x","target":" c","choices":[" a"," b"]}""", "items.jsonl", 1, "needs a \"target\" that is one of \"choices\"" },
        { "duplicate choice", LogLikelihoodYaml, """{"id":"1","text":"x","target":" a","choices":[" a"," a"]}""", "items.jsonl", 1, "\"choices\" has a duplicate entry" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Invalid_suite_is_reported_with_file_and_line(string name, string yaml, string? items, string file, int? line, string problem)
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(yaml, items);
        var expectedPath = file == "suite.yaml" ? files.YamlPath() : files.ItemsPath();

        var errors = SuiteValidator.Validate(directory, []);
        var thrown = Assert.Throws<InputFileException>(() => SuiteLoader.Load(directory));

        Assert.Equal(errors[0].Message, thrown.Message);
        Assert.True(
            errors.Any(e => e.FilePath == expectedPath && e.Line == line && e.Problem.Contains(problem, StringComparison.Ordinal)),
            $"{name}: expected {file}:{line} '{problem}', got:\n{string.Join("\n", errors.Select(e => e.Message))}");
    }

    [Fact]
    public void Message_names_file_and_line()
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(items: SuiteTestFiles.ValidItems.Replace("\"id\":\"2\"", "\"id\":\"1\"", StringComparison.Ordinal));

        var error = Assert.Throws<InputFileException>(() => SuiteLoader.Load(directory));

        Assert.Equal($"{files.ItemsPath()}:2: duplicate id '1' (first at line 1)", error.Message);
    }

    [Fact]
    public void Validator_collects_every_error_of_every_suite()
    {
        using var files = new SuiteTestFiles();
        files.Write(SuiteTestFiles.ValidYaml.Replace("version: 1", "version: x").Replace("confidence: 0.95", "confidence: 2"), name: "demo");
        files.Write(SuiteTestFiles.ValidYaml.Replace("name: demo", "name: second"),
            "{\"id\":\"1\",\"a\":1,\"b\":2}\n{\"id\":\"1\",\"a\":2}", name: "second");
        files.Write(SuiteTestFiles.ValidYaml.Replace("name: demo", "name: valid"), name: "valid");

        var errors = SuiteValidator.ValidateAll(files.TasksDirectory);

        Assert.Equal(
            [
                $"{files.YamlPath("demo")}:2",
                $"{files.YamlPath("demo")}:15",
                $"{files.ItemsPath("second")}:2",
                $"{files.ItemsPath("second")}:2",
            ],
            errors.Select(e => $"{e.FilePath}:{e.Line}"));
        Assert.Contains("version must be an integer", errors[0].Problem, StringComparison.Ordinal);
        Assert.Contains("item lacks field 'b'", errors[2].Problem, StringComparison.Ordinal);
        Assert.Contains("duplicate id '1'", errors[3].Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_tasks_directory_and_empty_tasks_directory_are_errors()
    {
        using var files = new SuiteTestFiles();
        var missing = Path.Combine(files.TasksDirectory, "nope");

        Assert.Contains("does not exist", Assert.Single(SuiteValidator.ValidateAll(missing)).Problem, StringComparison.Ordinal);
        Assert.Contains("no suite found", Assert.Throws<InputFileException>(() => SuiteLoader.LoadAll(files.TasksDirectory)).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_suite_yaml_is_an_error_for_an_explicit_folder()
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(yaml: null);

        var error = Assert.Throws<InputFileException>(() => SuiteLoader.Load(directory));

        Assert.Equal(files.YamlPath(), error.FilePath);
        Assert.Null(error.Line);
    }
}
