namespace Harness.IntegrationTests.Cli;

/// <summary>Bad input gets file:line and exit code 2, never a stack trace.</summary>
public sealed class InputErrorTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(2);

    [Fact]
    public async Task Validate_lists_every_problem_as_file_and_line()
    {
        using var ws = new HarnessProcess.Workspace();
        var suiteYaml = Path.Combine(ws.Root, "tasks", "arith", "suite.yaml");
        await File.WriteAllTextAsync(suiteYaml, (await File.ReadAllTextAsync(suiteYaml)).Replace("kind: fixed", "kind: sometimes", StringComparison.Ordinal));
        await File.AppendAllTextAsync(Path.Combine(ws.Root, "tasks", "dates", "items.jsonl"), "{\"id\": \"001\", \"date\": \"x\", \"target\": \"y\"}\n");
        await File.WriteAllTextAsync(Path.Combine(ws.Root, "models.manifest"), "version: 1\nmodels:\n  - id: Bad Id\n    path: models/tiny-bigram.gguf\n");

        var result = await HarnessProcess.RunAsync(ws.Root, Timeout, "validate");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("models.manifest:3:", result.Output, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("arith", "suite.yaml") + ":4:", result.Output, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("dates", "items.jsonl") + ":201:", result.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Validate_prints_a_bad_scorer_argument_once_with_what_is_known()
    {
        using var ws = new HarnessProcess.Workspace();
        var suiteYaml = Path.Combine(ws.Root, "tasks", "arith", "suite.yaml");
        var yaml = (await File.ReadAllTextAsync(suiteYaml)).Replace("  - name: numeric\n    args: { tolerance: 0 }", "  - name: exact\n    args: { ignore_case: true }", StringComparison.Ordinal);
        await File.WriteAllTextAsync(suiteYaml, yaml);
        var line = yaml[..yaml.IndexOf("  - name: exact", StringComparison.Ordinal)].Count(c => c == '\n') + 1;

        // --json: the plain console wraps long lines when piped, which is not what this test is about.
        var result = await HarnessProcess.RunAsync(ws.Root, Timeout, "validate", "--json");

        Assert.Equal(2, result.ExitCode);
        using var problems = System.Text.Json.JsonDocument.Parse(result.Output);
        var problem = Assert.Single(problems.RootElement.EnumerateArray());
        Assert.Equal(suiteYaml, problem.GetProperty("file").GetString());
        Assert.Equal(line, problem.GetProperty("line").GetInt32());
        Assert.Equal(
            "scorer 'exact': unknown argument 'ignore_case'; known: normalize (steps: trim, lowercase, collapse_whitespace, strip_punctuation)",
            problem.GetProperty("problem").GetString());
    }

    [Fact]
    public async Task A_malformed_manifest_stops_the_run_with_file_and_line()
    {
        using var ws = new HarnessProcess.Workspace();
        await File.WriteAllTextAsync(Path.Combine(ws.Root, "models.manifest"), "version: 1\nmodels:\n  - id: a\n    path: [unclosed\n");

        var result = await HarnessProcess.RunAsync(ws.Root, Timeout, "run");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("models.manifest:", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", result.Output + result.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(ws.Results));
    }

    [Fact]
    public async Task Resume_of_a_folder_that_is_not_a_run_names_it()
    {
        using var ws = new HarnessProcess.Workspace();

        var result = await HarnessProcess.RunAsync(ws.Root, Timeout, "report", "tasks");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("not a run folder", result.Error, StringComparison.Ordinal);
    }

    /// <summary>With --json a reader parses stdout: an error goes to stderr, stdout holds nothing or valid JSON, exit 2.</summary>
    [Theory]
    [InlineData("unknown quantization type 'Q9_9'", "quantize", "tiny-bigram", "--types", "Q9_9", "--json")]
    [InlineData("name at least one --model or --model-file", "bench", "--json")]
    [InlineData("nope.gguf", "bench", "--model-file", "nope.gguf", "-r", "1", "--json")]
    [InlineData("no model", "run", "--model", "nope", "--suite", "tasks/arith", "--json")]
    [InlineData("no model with id 'nope'", "compare", "--base", "nope", "--candidates", "tiny-bigram", "--suite", "tasks/arith", "--json")]
    [InlineData("not a run folder", "report", "tasks", "--json")]
    [InlineData("missing.manifest", "models", "--models", "missing.manifest", "--json")]
    [InlineData("nope", "tasks", "fetch", "nope", "--json")]
    [InlineData("Unknown option 'frobnicate'", "tasks", "scorers", "--frobnicate", "--json")]
    [InlineData("Unknown option 'frobnicate'", "tasks", "list", "--frobnicate", "--json")]
    [InlineData("Unknown option 'frobnicate'", "doctor", "--frobnicate", "--json")]
    [InlineData("Unknown option 'frobnicate'", "validate", "--frobnicate", "--json")]
    [InlineData("--json lists the recipes", "forge", "--recipe", "bigram", "--json")]
    public async Task With_json_an_error_leaves_stdout_parseable_and_names_the_problem_on_stderr(string problem, params string[] args)
    {
        using var ws = new HarnessProcess.Workspace();

        var result = await HarnessProcess.RunAsync(ws.Root, Timeout, args);

        Assert.True(result.ExitCode == 2, $"exit {result.ExitCode}: {result.Output}{result.Error}");
        if (result.Output.Trim().Length > 0)
        {
            using var _ = System.Text.Json.JsonDocument.Parse(result.Output);
        }

        Assert.Contains(problem, result.Error, StringComparison.Ordinal);
    }
}
