using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Judging;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Tests.Fakes;
using Harness.Tests.Tasks;

namespace Harness.Tests.Judging;

/// <summary>MT-bench grading: the prompts of judge_prompts.jsonl filled as FastChat fills them, the grammar, the pass.</summary>
public sealed class MtBenchJudgeTests
{
    // The expected texts were produced by Python's str.format on the prompts of ../shared/datasets/mt_bench/judge_prompts.jsonl
    // (FastChat's own formatting), with system prompt + blank line + user prompt + newline as the plain rendering.
    private const string SingleV1 = """
        You are a helpful assistant.

        [Instruction]
        Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question displayed below. Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of the response. Begin your evaluation by providing a short explanation. Be as objective as possible. After providing your explanation, you must rate the response on a scale of 1 to 10 by strictly following this format: "[[rating]]", for example: "Rating: [[5]]".

        [Question]
        What is 2+2?

        [The Start of Assistant's Answer]
        4, of course.
        [The End of Assistant's Answer]

        """;

    private const string SingleMathV1 = """
        You are a helpful assistant.

        [Instruction]
        Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question displayed below. Your evaluation should consider correctness and helpfulness. You will be given a reference answer and the assistant's answer. Begin your evaluation by comparing the assistant's answer with the reference answer. Identify and correct any mistakes. Be as objective as possible. After providing your explanation, you must rate the response on a scale of 1 to 10 by strictly following this format: "[[rating]]", for example: "Rating: [[5]]".

        [Question]
        What is 2+2?

        [The Start of Reference Answer]
        4
        [The End of Reference Answer]

        [The Start of Assistant's Answer]
        4, of course.
        [The End of Assistant's Answer]

        """;

    private const string SingleV1MultiTurn = """
        Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question displayed below. Your evaluation should consider factors such as the helpfulness, relevance, accuracy, depth, creativity, and level of detail of the response. You evaluation should focus on the assistant's answer to the second user question. Begin your evaluation by providing a short explanation. Be as objective as possible. After providing your explanation, you must rate the response on a scale of 1 to 10 by strictly following this format: "[[rating]]", for example: "Rating: [[5]]".



        <|The Start of Assistant A's Conversation with User|>

        ### User:
        What is 2+2?

        ### Assistant A:
        4, of course.

        ### User:
        And times {3}?

        ### Assistant A:
        12.

        <|The End of Assistant A's Conversation with User|>

        """;

    private const string SingleMathV1MultiTurn = """
        Please act as an impartial judge and evaluate the quality of the response provided by an AI assistant to the user question. Your evaluation should consider correctness and helpfulness. You will be given a reference answer and the assistant's answer. You evaluation should focus on the assistant's answer to the second question. Begin your evaluation by comparing the assistant's answer with the reference answer. Identify and correct any mistakes. Be as objective as possible. After providing your explanation, you must rate the response on a scale of 1 to 10 by strictly following this format: "[[rating]]", for example: "Rating: [[5]]".



        <|The Start of Reference Answer|>

        ### User:
        What is 2+2?

        ### Reference answer:
        4

        ### User:
        And times {3}?

        ### Reference answer:
        12

        <|The End of Reference Answer|>


        <|The Start of Assistant A's Conversation with User|>

        ### User:
        What is 2+2?

        ### Assistant A:
        4, of course.

        ### User:
        And times {3}?

        ### Assistant A:
        12.

        <|The End of Assistant A's Conversation with User|>

        """;

    private static string PromptsFile => SharedDatasets.PathOf(Path.Combine("mt_bench", "judge_prompts.jsonl"));

    private static MtBenchPrompts Prompts() => MtBenchPrompts.Load(PromptsFile, MtBenchPrompts.DefaultReferenceCategories);

    private static readonly MtBenchConversation Plain = new(["What is 2+2?", "And times {3}?"], ["4, of course.", "12."], []);

    private static readonly MtBenchConversation WithReference = Plain with { References = ["4", "12"] };

    [RequiresSharedDatasetTheory("mt_bench")]
    [InlineData(1, false, "single-v1")]
    [InlineData(1, true, "single-math-v1")]
    [InlineData(2, false, "single-v1-multi-turn")]
    [InlineData(2, true, "single-math-v1-multi-turn")]
    public void Each_turn_is_graded_with_its_prompt_from_judge_prompts_jsonl(int turn, bool reference, string name)
    {
        var expected = name switch
        {
            "single-v1" => SingleV1,
            "single-math-v1" => SingleMathV1,
            "single-v1-multi-turn" => SingleV1MultiTurn,
            _ => SingleMathV1MultiTurn,
        };

        var (prompt, rendered) = MtBenchJudge.Render(Prompts(), reference ? WithReference : Plain, turn);

        Assert.Equal(name, prompt.Name);
        Assert.Equal(expected, rendered.PlainText);
        Assert.Equal("system", rendered.Messages[0].Role);
        Assert.Equal(prompt.SystemPrompt, rendered.Messages[0].Content);
        Assert.Equal(prompt.SystemPrompt + "\n\n" + rendered.Messages[1].Content + "\n", rendered.PlainText);
    }

    [Fact]
    public void The_grammar_is_an_explanation_without_brackets_then_a_rating_from_1_to_10()
    {
        Assert.Equal("root ::= explanation \"[[\" rating \"]]\"\nexplanation ::= [^\\[\\]]{0,1000}\nrating ::= [1-9] | \"10\"", MtBenchJudge.Grammar);
        Assert.True(MtBenchJudge.Settings.MaxTokens > MtBenchJudge.MaxExplanationChars);
        Assert.Equal(0, MtBenchJudge.Settings.Temperature);
    }

    [Theory]
    [InlineData("The answer is right and brief. Rating: [[10]]", 10.0)]
    [InlineData("[[3]]", 3.0)]
    [InlineData("Mostly wrong. Rating: [2]", 2.0)]
    [InlineData("Rating: [[7.5]]", 7.5)]
    [InlineData("no rating here", null)]
    [InlineData("Rating: [[0]]", null)]
    [InlineData("Rating: [[11]]", null)]
    public void Ratings_are_read_as_FastChat_reads_them(string output, double? expected) =>
        Assert.Equal(expected, MtBenchJudge.ParseRating(output));

    [RequiresSharedDatasetFact("mt_bench")]
    public void Python_format_keeps_doubled_braces_and_refuses_an_unknown_name()
    {
        Assert.Equal("{x} = 1", MtBenchJudge.FormatPython("{{x}} = {v}", new Dictionary<string, string> { ["v"] = "1" }));
        Assert.Throws<ArgumentException>(() => MtBenchJudge.FormatPython("{w}", new Dictionary<string, string>()));
        Assert.Throws<ArgumentException>(() => MtBenchJudge.Render(Prompts(), Plain, 3));
    }

    // ---- spec and pass ---------------------------------------------------------------------------------------------

    private static ImmutableSortedDictionary<string, JsonElement> Args(params (string Key, object Value)[] pairs) =>
        pairs.ToImmutableSortedDictionary(p => p.Key, p => JsonSerializer.SerializeToElement(p.Value), StringComparer.Ordinal);

    private static JudgeSpec Spec() =>
        JudgeSpec.Parse(Args(("model", "judge"), ("mode", "mt-bench"), ("prompts_file", "judge_prompts.jsonl")), Path.GetDirectoryName(PromptsFile)!);

    [RequiresSharedDatasetFact("mt_bench")]
    public void The_mt_bench_spec_reads_the_prompts_file_and_refuses_a_rubric()
    {
        var spec = Spec();

        Assert.Equal((JudgeMode.MtBench, 1, 10, "single-v1"), (spec.Mode, spec.ScaleMin, spec.ScaleMax, spec.MtBench!.SingleTurn.Name));
        Assert.Equal(["math", "reasoning", "coding"], spec.MtBench.ReferenceCategories.AsEnumerable());
        var ex = Assert.Throws<ScorerArgumentException>(() => JudgeSpec.Parse(
            Args(("model", "j"), ("mode", "mt-bench"), ("prompts_file", "judge_prompts.jsonl"), ("rubric", "r")), Path.GetDirectoryName(PromptsFile)!));
        Assert.Contains("'rubric'", ex.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ScorerArgumentException>(() => JudgeSpec.Parse(Args(("model", "j"), ("mode", "mt-bench"), ("prompts_file", "nope.jsonl")), "/nowhere"));
        Assert.Contains("'prompts_file'", missing.Message, StringComparison.Ordinal);
    }

    /// <summary>A judge that rates 8 whatever it reads, after the explanation MT-bench asks for; it records its prompts.</summary>
    private sealed class RatingJudge : IModelBackend
    {
        public List<GenerationRequest> Requests { get; } = [];

        public string Name => "fake-judge";

        public Task<IModelSession> LoadAsync(ModelEntry model, string modelPath, CancellationToken cancellationToken) =>
            Task.FromResult<IModelSession>(new Session(this));

        private sealed class Session(RatingJudge judge) : IModelSession
        {
            public ModelLoadInfo LoadInfo { get; } = new("fake-judge", TimeSpan.Zero, 1, 1, "none",
                ImmutableSortedDictionary<string, string>.Empty, ImmutableSortedDictionary<string, string>.Empty);

            public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
            {
                judge.Requests.Add(request);
                var rating = judge.Requests.Count % 2 == 1 ? "8" : "5";
                return Task.FromResult(new GenerationResult($"Good enough. Rating: [[{rating}]]", FinishReason.EndOfGeneration, request.Prompt.PlainText, 10, 5,
                    new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero)));
            }

            public ValueTask DisposeAsync() => ValueTask.CompletedTask;
        }
    }

    private static SuiteItem Item(string id, string category, bool reference)
    {
        var fields = ImmutableSortedDictionary<string, JsonElement>.Empty.WithComparers(StringComparer.Ordinal)
            .Add("category", JsonSerializer.SerializeToElement(category))
            .Add("turn_1", JsonSerializer.SerializeToElement("What is 2+2?"))
            .Add("turn_2", JsonSerializer.SerializeToElement("And times {3}?"));
        if (reference)
        {
            fields = fields.Add("ref_answer_1", JsonSerializer.SerializeToElement("4")).Add("ref_answer_2", JsonSerializer.SerializeToElement("12"));
        }

        return new SuiteItem(id, fields, null, []);
    }

    private static ItemRecord Answered(string itemId) => new(
        new ItemKey("m", "mt", itemId), ItemStatus.Scored, "p", "12.", FinishReason.EndOfGeneration, [],
        [new Score("judge", 0, null, 0, null, "awaiting the judge pass")], false,
        new ItemMetrics(3, 1, new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero)), null, DateTimeOffset.UnixEpoch,
        Turns: [
            new TurnRecord("t1", " 4, of course. ", FinishReason.EndOfGeneration, 1, 1, new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero)),
            new TurnRecord("t2", "12.", FinishReason.EndOfGeneration, 1, 1, new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero)),
        ]);

    [RequiresSharedDatasetFact("mt_bench")]
    public async Task Each_turn_is_judged_on_its_own_prompt_and_the_item_scores_the_mean_rating()
    {
        var spec = Spec();
        var suite = TestSuites.Addition(0) with
        {
            Name = "mt",
            Prompt = new PromptTemplate("{{turn_1}}", null, [], "\n", ["{{turn_2}}"]),
            Items = [Item("math-1", "math", reference: true), Item("writing-1", "writing", reference: false), Item("math-2", "math", reference: false)],
            Scorers = [new ScorerSpec("judge", Args(("model", "judge"), ("mode", "mt-bench"), ("prompts_file", "judge_prompts.jsonl")))],
        };
        var backend = new RatingJudge();
        var store = new InMemoryRunStore();
        var judge = TestSuites.Model("judge") with { FileSha256 = new string('b', 64) };

        await new JudgePass(backend, store, new FixedClock(DateTimeOffset.UnixEpoch))
            .RunAsync([new PreparedSuite(suite, [new JudgeScorer(spec)])], [judge], [Answered("math-1"), Answered("writing-1"), Answered("math-2")], null, CancellationToken.None);

        var byItem = store.Judgements.ToDictionary(j => j.ItemId);
        var math = byItem["math-1"];
        Assert.Null(math.Error);
        Assert.Equal(["turn-1 single-math-v1", "turn-2 single-math-v1-multi-turn"], math.Calls.Select(c => c.Order));
        Assert.Equal(SingleMathV1, math.Calls[0].PromptText); // the answer is trimmed, as FastChat's stored answers are
        Assert.Equal(SingleMathV1MultiTurn, math.Calls[1].PromptText);
        Assert.Equal(6.5, math.Score);
        Assert.Equal(5.5 / 9, math.NormalizedScore, 9);
        Assert.Equal(["turn-1 single-v1", "turn-2 single-v1-multi-turn"], byItem["writing-1"].Calls.Select(c => c.Order));
        Assert.Contains("lacks a field ref_answer_1 or ref_answer_2", byItem["math-2"].Error, StringComparison.Ordinal);
        Assert.All(backend.Requests, r => Assert.Equal(MtBenchJudge.Grammar, r.Settings.Grammar));
        Assert.All(backend.Requests, r => Assert.Equal(MtBenchJudge.MaxTokens, r.Settings.MaxTokens));

        var runSuite = new RunSuite("mt", 1, SuiteKind.Open, "/x", "sha", RequestKind.Generate, suite.Generation, suite.Scorers, null, 3);
        var (overlaid, summaries) = JudgementOverlay.Apply([runSuite], [Answered("math-1")], store.Judgements);
        Assert.Equal(5.5 / 9, overlaid[0].Scores[0].Value, 9);
        Assert.Contains("(mt-bench): 6.5 mean turn rating on 1..10 (turns: 8, 5)", overlaid[0].Scores[0].Explanation, StringComparison.Ordinal);
        Assert.Contains("MT-bench score = 1 + 9 × score", summaries["mt"].Describe(), StringComparison.Ordinal);
    }

    [Fact]
    public void The_run_option_judge_names_the_model_of_every_judge_scorer()
    {
        var suite = TestSuites.Addition(1) with
        {
            Scorers = [new ScorerSpec("judge", Args(("model", "mt-bench-judge"), ("mode", "mt-bench"))), new ScorerSpec("exact", Args())],
        };

        var overridden = JudgeOverride.Apply(suite, "my-judge");

        Assert.Equal("my-judge", overridden.Scorers[0].Arguments["model"].GetString());
        Assert.Equal("mt-bench", overridden.Scorers[0].Arguments["mode"].GetString());
        Assert.Same(suite.Scorers[1], overridden.Scorers[1]);
        Assert.True(JudgeOverride.IsJudged(suite));
        Assert.False(JudgeOverride.IsJudged(TestSuites.Addition(1)));
    }
}
