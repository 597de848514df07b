using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Core.Judging;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>
/// MT-bench (Zheng et al. 2023): 80 two-turn questions in eight categories, graded 1–10 per turn by a judge model with
/// MT-bench's own single-answer prompts, against GPT-4's reference answers for math, reasoning and coding. It has no
/// lm-eval task; the recipe follows FastChat's llm_judge (gen_model_answer.py for the answers, gen_judgment.py and
/// common.py for the grading). Open suite: models are ranked by the judge's mean rating.
/// </summary>
public sealed class MtBenchRecipe : IBenchmarkRecipe
{
    private const string Commit = "0e6d3e4beaab66f4d3f93db72541a4abab8af28d";
    private const string QuestionPath = "fastchat/llm_judge/data/mt_bench/question.jsonl";
    private const string ReferencePath = "fastchat/llm_judge/data/mt_bench/reference_answer/gpt-4.jsonl";
    private const string JudgePromptsPath = "fastchat/llm_judge/data/judge_prompts.jsonl";

    /// <summary>The suite's data file with MT-bench's judge prompts, copied verbatim.</summary>
    public const string JudgePromptsFile = "judge_prompts.jsonl";

    /// <summary>
    /// The judge model id the suite names. No model can be assumed: the user names theirs with
    /// <c>harness run --judge &lt;model-id&gt;</c> (or gives a manifest model this id); planning refuses a run without one.
    /// </summary>
    public const string DefaultJudgeModelId = "mt-bench-judge";

    /// <summary>FastChat's gen_model_answer.py default <c>--max-new-token</c>.</summary>
    public const int MaxNewTokens = 1024;

    public string Name => "mt-bench";

    public string Description => "MT-bench: 80 two-turn questions, graded 1-10 per turn by a local judge with MT-bench's prompts (open)";

    public DataSource Source { get; } = new(
        "lm-sys/FastChat",
        Commit,
        "mt_bench",
        [
            new SourceFile(QuestionPath, "mt_bench/question.jsonl", "119565adbab82227089cefdb44c8d7e2cf04dc0a0ec233634c82e7d4e2a944f7"),
            new SourceFile(ReferencePath, "mt_bench/reference_answer/gpt-4.jsonl", "f957a5bc977badb66885ec970e6cd08527845780313f0995764260e5777b9b3f"),
            new SourceFile(JudgePromptsPath, "judge_prompts.jsonl", "fd283293406d024f44c174b094ef48031d0687a4682fd3a56b29b138f80281b6"),
        ],
        "Apache-2.0",
        "@inproceedings{zheng2023judging, title={Judging LLM-as-a-Judge with MT-Bench and Chatbot Arena}, author={Zheng, Lianmin and Chiang, "
        + "Wei-Lin and Sheng, Ying and Zhuang, Siyuan and Wu, Zhanghao and Zhuang, Yonghao and Lin, Zi and Li, Zhuohan and Li, Dacheng and "
        + "Xing, Eric P. and Zhang, Hao and Gonzalez, Joseph E. and Stoica, Ion}, booktitle={NeurIPS Datasets and Benchmarks}, year={2023}}");

    /// <summary>MT-bench has no lm-eval task: this names what the recipe follows instead (FastChat's judge).</summary>
    public string FollowsLmEval => $"none (no lm-eval task); follows lm-sys/FastChat fastchat/llm_judge/gen_judgment.py@{Commit[..7]} (and common.py, gen_model_answer.py)";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "The judge is a local GGUF model of the user's choice (harness run --judge), not GPT-4; its output is constrained by a grammar "
            + "to an explanation of at most 1000 characters without brackets, then [[rating]] with rating 1-10, so it always parses.",
        "Answers are greedy for every category; FastChat samples writing and roleplay at temperature 0.7 and stem and humanities at 0.1.",
        "The conversation goes through the candidate's own GGUF chat template (FastChat uses its conversation template per model); "
            + "base models get the plain rendering (turn 1, answer, newline, turn 2).",
        "The report's score is the mean of (rating - 1) / 9 over items (each item the mean of its two turns); MT-bench's 1-10 score is 1 + 9 x that.",
    ];

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(files);
        var references = ReadReferences(files);
        var items = ImmutableArray.CreateBuilder<SuiteItem>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (row, line) in ReadJsonl(files, QuestionPath))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var id = QuestionId(row, QuestionPath, line);
            if (!seen.Add(id))
            {
                throw new InvalidDataException($"{QuestionPath}:{line}: question_id {id} appears twice");
            }

            var category = row.TryGetProperty("category", out var c) && c.ValueKind == JsonValueKind.String
                ? c.GetString()!
                : throw new InvalidDataException($"{QuestionPath}:{line}: \"category\" must be a string");
            var turns = Turns(row, "turns", QuestionPath, line);
            if (turns.Length != 2)
            {
                throw new InvalidDataException($"{QuestionPath}:{line}: MT-bench questions have two turns, this one has {turns.Length.ToString(CultureInfo.InvariantCulture)}");
            }

            var fields = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
            fields[MtBenchFields.Category] = JsonSerializer.SerializeToElement(category);
            fields["turn_1"] = JsonSerializer.SerializeToElement(turns[0]);
            fields["turn_2"] = JsonSerializer.SerializeToElement(turns[1]);
            // FastChat grades these categories against GPT-4's answers; the judge reads them from these fields.
            if (MtBenchPrompts.DefaultReferenceCategories.Contains(category))
            {
                if (!references.TryGetValue(id, out var reference))
                {
                    throw new InvalidDataException($"{ReferencePath}: no reference answer for question {id} (category {category})");
                }

                fields[MtBenchFields.Reference(1)] = JsonSerializer.SerializeToElement(reference[0]);
                fields[MtBenchFields.Reference(2)] = JsonSerializer.SerializeToElement(reference[1]);
            }

            items.Add(new SuiteItem(id, fields.ToImmutable(), null, []));
        }

        using var prompts = files.Open(JudgePromptsPath);
        using var reader = new StreamReader(prompts, new UTF8Encoding(false, true));
        var judgePrompts = reader.ReadToEnd();

        var definition = new SuiteDefinition(
            Name,
            1,
            SuiteKind.Open,
            "MT-bench (lm-sys/FastChat llm_judge): 80 two-turn questions in eight categories; each turn graded 1-10 by the judge model "
                + "with MT-bench's single-answer prompts (reference answers for math, reasoning and coding). Name the judge with --judge.",
            RequestKind.Generate,
            new PromptTemplate("{{turn_1}}", null, [], "\n", ["{{turn_2}}"]),
            new GenerationSettings(MaxNewTokens, [], 0, 0),
            [
                new ScorerSpec(JudgeSpec.ScorerName, ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                [
                    KeyValuePair.Create("model", JsonSerializer.SerializeToElement(DefaultJudgeModelId)),
                    KeyValuePair.Create("mode", JsonSerializer.SerializeToElement("mt-bench")),
                    KeyValuePair.Create("prompts_file", JsonSerializer.SerializeToElement(JudgePromptsFile)),
                ])),
            ],
            null,
            ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create(JudgePromptsFile, judgePrompts)]));
        return [new ConvertedSuite(definition, items.ToImmutable())];
    }

    private static Dictionary<string, ImmutableArray<string>> ReadReferences(IRecipeFiles files)
    {
        var references = new Dictionary<string, ImmutableArray<string>>(StringComparer.Ordinal);
        foreach (var (row, line) in ReadJsonl(files, ReferencePath))
        {
            var id = QuestionId(row, ReferencePath, line);
            if (!row.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array || choices.GetArrayLength() == 0)
            {
                throw new InvalidDataException($"{ReferencePath}:{line}: \"choices\" must be a non-empty list");
            }

            // FastChat's run_judge_single reads choices[0].turns[0] and [1].
            var turns = Turns(choices[0], "turns", ReferencePath, line);
            if (turns.Length < 2)
            {
                throw new InvalidDataException($"{ReferencePath}:{line}: a reference answer needs two turns");
            }

            references[id] = turns;
        }

        return references;
    }

    private static string QuestionId(JsonElement row, string path, int line) =>
        row.TryGetProperty("question_id", out var q) && q.ValueKind == JsonValueKind.Number && q.TryGetInt32(out var id)
            ? id.ToString(CultureInfo.InvariantCulture)
            : throw new InvalidDataException($"{path}:{line}: \"question_id\" must be an integer");

    private static ImmutableArray<string> Turns(JsonElement row, string property, string path, int line) =>
        row.TryGetProperty(property, out var turns) && turns.ValueKind == JsonValueKind.Array
            && turns.EnumerateArray().All(t => t.ValueKind == JsonValueKind.String)
            ? [.. turns.EnumerateArray().Select(t => t.GetString()!)]
            : throw new InvalidDataException($"{path}:{line}: \"{property}\" must be a list of strings");

    private static List<(JsonElement Row, int Line)> ReadJsonl(IRecipeFiles files, string path)
    {
        using var stream = files.Open(path);
        using var reader = new StreamReader(stream, new UTF8Encoding(false, true));
        var rows = new List<(JsonElement, int)>();
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            try
            {
                using var doc = JsonDocument.Parse(text);
                if (doc.RootElement.ValueKind != JsonValueKind.Object)
                {
                    throw new InvalidDataException($"{path}:{line}: expected a JSON object");
                }

                rows.Add((doc.RootElement.Clone(), line));
            }
            catch (JsonException ex)
            {
                throw new InvalidDataException($"{path}:{line}: not JSON ({ex.Message})", ex);
            }
        }

        return rows;
    }
}
