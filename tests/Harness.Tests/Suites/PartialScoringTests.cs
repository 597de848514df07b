using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Tests.Fakes;

namespace Harness.Tests.Suites;

/// <summary>
/// <c>prompt.continuation</c>: lm-eval's multiple-input scoring (Winogrande), where each choice ends its own context and
/// one shared continuation is scored under each.
/// </summary>
public sealed class PartialScoringTests
{
    private const string Yaml = """
        name: demo
        version: 1
        kind: open
        request: loglikelihood
        prompt:
          template: "{{before}}{{choice}}"
          continuation: " {{after}}"
        scorers:
          - name: choice
        """;

    private const string Items = """
        {"id":"1","before":"The cup did not fit in the box because the ","after":"was too big.","target":"cup","choices":["cup","box"]}
        {"id":"2","before":"The cup did not fit in the box because the ","after":"was too small.","target":"box","choices":["cup","box"]}
        """;

    /// <summary>(case, suite.yaml, items.jsonl, file blamed, line, part of the problem).</summary>
    public static TheoryData<string, string, string, string, int, string> Errors() => new()
    {
        { "template without the choice placeholder", Yaml.Replace("{{before}}{{choice}}", "{{before}}"), Items, "suite.yaml", 6, "prompt.template must use {{choice}} when prompt.continuation is set" },
        { "choice placeholder without a continuation", Yaml.Replace("  continuation: \" {{after}}\"\n", ""), Items, "suite.yaml", 6, "{{choice}}, which is reserved for partial scoring" },
        { "few-shot with a continuation", Yaml.Replace("  continuation:", "  fewshot:\n    - { before: \"A \", after: \"b.\", target: \"x\" }\n  continuation:"), Items, "suite.yaml", 8, "prompt.fewshot cannot be combined with prompt.continuation" },
        { "generate request with a continuation", Yaml.Replace("request: loglikelihood", "request: generate") + "\ngeneration:\n  max_tokens: 4", Items, "suite.yaml", 7, "prompt.continuation is only allowed for request: loglikelihood" },
        { "continuation using the choice", Yaml.Replace("\" {{after}}\"", "\" {{choice}}\""), Items, "suite.yaml", 7, "prompt.continuation must not use {{choice}}" },
        { "empty continuation", Yaml.Replace("\" {{after}}\"", "\"\""), Items, "suite.yaml", 7, "prompt.continuation must not be empty" },
        { "malformed continuation placeholder", Yaml.Replace("\" {{after}}\"", "\" {{ after }}\""), Items, "suite.yaml", 7, "prompt.continuation has a '{{' at offset 1" },
        { "item lacks the continuation's field", Yaml, Items.Replace("\"after\":\"was too small.\",", ""), "items.jsonl", 2, "item lacks field 'after'" },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Invalid_partial_scoring_is_reported_with_file_and_line(string name, string yaml, string items, string file, int line, string problem)
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(yaml, items);
        var expectedPath = file == "suite.yaml" ? files.YamlPath() : files.ItemsPath();

        var errors = SuiteValidator.Validate(directory, []);

        Assert.True(
            errors.Any(e => e.FilePath == expectedPath && e.Line == line && e.Problem.Contains(problem, StringComparison.Ordinal)),
            $"{name}: expected {file}:{line} '{problem}', got:\n{string.Join("\n", errors.Select(e => e.Message))}");
    }

    [Fact]
    public void A_partial_scoring_suite_loads_and_renders_one_context_per_choice_and_the_shared_continuation()
    {
        using var files = new SuiteTestFiles();
        var suite = SuiteLoader.Load(files.Write(Yaml, Items));
        var item = suite.Items[0];

        Assert.Equal(" {{after}}", suite.Prompt.Continuation);
        Assert.Equal(
            ["The cup did not fit in the box because the cup", "The cup did not fit in the box because the box"],
            PromptRenderer.RenderChoiceContexts(suite.Prompt, item).Select(p => p.PlainText));
        Assert.Equal(" was too big.", PromptRenderer.RenderContinuation(suite.Prompt, item));
        // The single-prompt form (failed records, the judge, drift) is the first choice's context.
        Assert.Equal("The cup did not fit in the box because the cup", PromptRenderer.Render(suite, item).PlainText);
        Assert.Equal("The cup did not fit in the box because the cup", Assert.Single(PromptRenderer.Render(suite, item).Messages).Content);
    }

    [Fact]
    public void Ordinary_prompts_refuse_the_partial_scoring_renderers()
    {
        var prompt = new PromptTemplate("{{a}} is", null, [], "\n");
        var item = TestSuites.Item("x", 1, 2, " odd", [" odd", " even"]);

        Assert.Throws<ArgumentException>(() => PromptRenderer.RenderChoiceContexts(prompt, item));
        Assert.Throws<ArgumentException>(() => PromptRenderer.RenderContinuation(prompt, item));
    }

    [Fact]
    public async Task The_evaluator_scores_the_continuation_once_under_each_choice_and_records_the_choice_texts()
    {
        var store = new InMemoryRunStore();
        var seen = new List<(string Context, ImmutableArray<string> Continuations)>();
        // The fake prefers the continuation after "cup" on item 1 and after "box" on item 2 (the true answers), and gives the
        // shared continuation's log-probability by context only: a ranking that ignores the context cannot pass.
        var backend = new FakeBackend(_ => "")
        {
            LogProbability = (prompt, continuation) =>
            {
                lock (seen)
                {
                    seen.Add((prompt.PlainText, [continuation]));
                }
                var big = continuation == " was too big.";
                return prompt.PlainText.EndsWith(big ? "cup" : "box", StringComparison.Ordinal) ? -1.0 : -3.0;
            },
        };

        await new RunCoordinator(backend, store, new FixedClock(DateTimeOffset.UnixEpoch)).RunAsync(
            [TestSuites.Model("m1")], [TestSuites.Prepare(Suite())], null, CancellationToken.None);

        Assert.Equal(
            [
                ("The cup did not fit in the box because the cup", " was too big."),
                ("The cup did not fit in the box because the box", " was too big."),
                ("The cup did not fit in the box because the cup", " was too small."),
                ("The cup did not fit in the box because the box", " was too small."),
            ],
            seen.Select(s => (s.Context, Assert.Single(s.Continuations))));
        var first = store.Items.Single(i => i.Key.ItemId == "1");
        Assert.Equal("cup", first.RawOutput);
        Assert.True(first.Passed);
        Assert.Equal(["cup", "box"], first.Choices.Select(c => c.Continuation));
        Assert.Equal([-1.0, -3.0], first.Choices.Select(c => c.LogProbability));
        // Both choices were scored on the same continuation bytes, so byte-normalised accuracy equals accuracy.
        Assert.All(first.Choices, c => Assert.Equal(" was too big.".Length, c.ByteCount));
        var norm = Assert.Single(first.Scores, s => s.Scorer == ModelEvaluator.NormalizedChoiceScorer);
        Assert.Equal("cup", norm.Answer);
        Assert.Equal("The cup did not fit in the box because the cup", first.PromptText);
        // Token counts add up over both requests: two contexts of 46 characters (the fake counts characters) and two continuations.
        Assert.Equal(2 * 46 + 2 * " was too big.".Length, first.Metrics.PromptTokens);
        Assert.True(store.Items.Single(i => i.Key.ItemId == "2").Passed);
    }

    [Fact]
    public async Task Drift_traces_the_context_of_the_base_models_choice_followed_by_the_shared_continuation()
    {
        var store = new InMemoryRunStore();
        // Every model prefers the longer option, so the traced text is that option's context + the continuation.
        var backend = new FakeBackend(_ => "") { LogProbability = (prompt, _) => prompt.PlainText.EndsWith("suitcase", StringComparison.Ordinal) ? -1.0 : -2.0 };
        var suite = Suite(second: "suitcase");
        RunModel[] models = [TestSuites.Model("base"), TestSuites.Model("candidate")];
        await new RunCoordinator(backend, store, new FixedClock(DateTimeOffset.UnixEpoch)).RunAsync(models, [TestSuites.Prepare(suite)], null, CancellationToken.None);

        await new Harness.Core.Comparison.ComparisonMeasurer(backend, store, new FixedClock(DateTimeOffset.UnixEpoch)).MeasureAsync(
            new Harness.Core.Comparison.ComparisonPlan("base", ["candidate"], 4, "/ref.txt", "ref-sha"), models, [suite], store.Items, ["abc"], null, CancellationToken.None);

        var record = Assert.Single(store.Drift, d => d.ItemId == "1");
        Assert.Null(record.Error);
        // The fake traces one position per character after the first.
        Assert.Equal("The cup did not fit in the box because the suitcase".Length + " was too big.".Length - 1, record.Positions);
    }

    private static Suite Suite(string second = "box")
    {
        static JsonElement S(string s) => JsonSerializer.SerializeToElement(s);
        SuiteItem Item(string id, string after, string target) => new(id,
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
            [
                KeyValuePair.Create("before", S("The cup did not fit in the box because the ")),
                KeyValuePair.Create("after", S(after)),
            ]),
            target, ["cup", second]);
        return new Suite("winolike", 1, SuiteKind.Open, "partial scoring", RequestKind.LogLikelihood,
            new PromptTemplate("{{before}}{{choice}}", null, [], "\n", Continuation: " {{after}}"),
            new GenerationSettings(0, [], 0, 0),
            [new ScorerSpec("equals", ImmutableSortedDictionary<string, JsonElement>.Empty)],
            null,
            [Item("1", "was too big.", "cup"), Item("2", "was too small.", second)],
            "/suites/winolike", "sha-winolike");
    }
}
