using System.Collections.Immutable;
using System.Text;
using Harness.Core.Suites;
using static Harness.Tasks.Catalog.Recipes.RecipeData;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>What the two GSM8K recipes share: the upstream files, the scorer and the bar.</summary>
internal static class Gsm8k
{
    public const string Repository = "openai/grade-school-math";
    public const string Commit = "3101c7d5072418e28b9008a6636bde82a006892c";
    public const string TestPath = "grade_school_math/data/test.jsonl";
    public const string TrainPath = "grade_school_math/data/train.jsonl";

    public static readonly SourceFile Test = new(TestPath, "test.jsonl", "3730d312f6e3440559ace48831e51066acaca737f6eabec99bccb9e4b3c39d14");
    public static readonly SourceFile Train = new(TrainPath, "train.jsonl", "17f347dc51477c50d4efb83959dbb7c56297aba886e5544ee2aaed3024813465");

    public const string Citation =
        "Cobbe, K., Kosaraju, V., Bavarian, M., et al. (2021). Training Verifiers to Solve Math Word Problems. arXiv:2110.14168.";

    public static DataSource Source(params SourceFile[] files) => new(Repository, Commit, "gsm8k", [.. files], "MIT", Citation);

    // lm-eval's default max_gen_toks (lm_eval/defaults.py DEFAULT_MAX_GEN_TOKS): neither GSM8K yaml sets one.
    public const int MaxGenTokens = 256;

    /// <summary>
    /// A bar a model must provably clear to count as sufficient for grade-school arithmetic word problems: half of them
    /// (the lower 95% bound above 0.5). 7B-class instruction-tuned models sit around it, current 8B ones well above,
    /// so the bar separates models that can do multi-step arithmetic from those that cannot.
    /// </summary>
    public static Requirement DefaultRequirement => new(MinPassRate: 0.5, Confidence: 0.95, MaxP95Latency: null, MaxJoulesPerItem: null);

    /// <summary>Both yamls' metric: strict filter decides, flexible-extract (last number) recorded.</summary>
    public static ScorerSpec ExtractMatch(string strictPattern) => Scorer(
        "extract_match",
        ("pattern", JsonOf(strictPattern)),
        ("flexible_pattern", JsonOf("(-?[$0-9.,]{2,})|(-?[0-9]+)")),
        ("flexible_group_select", JsonOf(-1)),
        ("ignore_case", JsonOf(true)),
        ("ignore_punctuation", JsonOf(false)),
        ("regexes_to_ignore", JsonList(",", "\\$", "(?s).*#### ", "\\.$")));

    /// <summary>The question/answer rows of a GSM8K file, checked.</summary>
    public static ImmutableArray<(string Question, string Answer)> Rows(IRecipeFiles files, SourceFile file)
    {
        var rows = ImmutableArray.CreateBuilder<(string, string)>();
        foreach (var (line, row) in JsonLines(ReadText(files, file.Path), file.Path))
        {
            var where = $"{file.Path}:{line}";
            var answer = RequiredString(row, "answer", where);
            if (!answer.Contains("####", StringComparison.Ordinal))
            {
                throw new InvalidDataException($"{where}: answer has no '####' final-answer marker");
            }

            rows.Add((RequiredString(row, "question", where), answer));
        }

        return rows.ToImmutable();
    }

    /// <summary><c>answer.split('####')[-1].strip()</c>.</summary>
    public static string FinalAnswer(string answer) =>
        PythonStrip(answer[(answer.LastIndexOf("####", StringComparison.Ordinal) + 4)..]);
}

/// <summary>
/// <c>gsm8k-cot</c>: lm-eval's <c>gsm8k_cot</c>, the 8 chain-of-thought exemplars of Wei et al. ("Q: ...\nA: ... The
/// answer is N."), strict match on "The answer is N." and flexible extraction of the last number.
/// </summary>
public sealed class Gsm8kCotRecipe : IBenchmarkRecipe
{
    public const string Template = "Q: {{question}}\nA:";

    // lm_eval/tasks/gsm8k/gsm8k-cot.yaml@4e7e0d4 fewshot_config.samples, in order (sampler first_n, num_fewshot 8).
    private static readonly ImmutableArray<(string Question, string Target)> Exemplars =
    [
        ("There are 15 trees in the grove. Grove workers will plant trees in the grove today. After they are done, there will be 21 trees. How many trees did the grove workers plant today?",
         "There are 15 trees originally. Then there were 21 trees after some more were planted. So there must have been 21 - 15 = 6. The answer is 6."),
        ("If there are 3 cars in the parking lot and 2 more cars arrive, how many cars are in the parking lot?",
         "There are originally 3 cars. 2 more cars arrive. 3 + 2 = 5. The answer is 5."),
        ("Leah had 32 chocolates and her sister had 42. If they ate 35, how many pieces do they have left in total?",
         "Originally, Leah had 32 chocolates. Her sister had 42. So in total they had 32 + 42 = 74. After eating 35, they had 74 - 35 = 39. The answer is 39."),
        ("Jason had 20 lollipops. He gave Denny some lollipops. Now Jason has 12 lollipops. How many lollipops did Jason give to Denny?",
         "Jason started with 20 lollipops. Then he had 12 after giving some to Denny. So he gave Denny 20 - 12 = 8. The answer is 8."),
        ("Shawn has five toys. For Christmas, he got two toys each from his mom and dad. How many toys does he have now?",
         "Shawn started with 5 toys. If he got 2 toys each from his mom and dad, then that is 4 more toys. 5 + 4 = 9. The answer is 9."),
        ("There were nine computers in the server room. Five more computers were installed each day, from monday to thursday. How many computers are now in the server room?",
         "There were originally 9 computers. For each of 4 days, 5 more computers were added. So 5 * 4 = 20 computers were added. 9 + 20 is 29. The answer is 29."),
        ("Michael had 58 golf balls. On tuesday, he lost 23 golf balls. On wednesday, he lost 2 more. How many golf balls did he have at the end of wednesday?",
         "Michael started with 58 golf balls. After losing 23 on tuesday, he had 58 - 23 = 35. After losing 2 more, he had 35 - 2 = 33 golf balls. The answer is 33."),
        ("Olivia has $23. She bought five bagels for $3 each. How much money does she have left?",
         "Olivia had 23 dollars. 5 bagels for 3 dollars each will be 5 x 3 = 15 dollars. So she has 23 - 15 dollars left. 23 - 15 is 8. The answer is 8."),
    ];

    public string Name => "gsm8k-cot";

    public string Description => "GSM8K test (1,319 grade-school math word problems), 8-shot chain of thought, strict 'The answer is N' match";

    public DataSource Source { get; } = Gsm8k.Source(Gsm8k.Test);

    public string FollowsLmEval => "lm_eval/tasks/gsm8k/gsm8k-cot.yaml@4e7e0d47f33bc71070c1d38394bafbb52b117163";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "Chat rendering: each exemplar is a user/assistant turn and the assistant turn keeps lm-eval's target delimiter (a leading space); the plain rendering is lm-eval's byte for byte.",
        "The model's end-of-sequence token stops generation as in lm-eval; the '</s>' and '<|im_end|>' stop strings are kept as written.",
    ];

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var rows = Gsm8k.Rows(files, Gsm8k.Test);
        var items = ImmutableArray.CreateBuilder<SuiteItem>(rows.Length);
        for (var i = 0; i < rows.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var (question, answer) = rows[i];
            items.Add(new SuiteItem(
                RowId(i, rows.Length),
                Fields(("answer", JsonOf(answer)), ("question", JsonOf(question))),
                Gsm8k.FinalAnswer(answer),
                []));
        }

        // target_delimiter " " goes in front of each exemplar's answer; fewshot_delimiter "\n\n" between them.
        var fewShot = Exemplars
            .Select((e, i) => new SuiteItem($"fewshot-{i}", Fields(("question", JsonOf(e.Question))), " " + e.Target, []))
            .ToImmutableArray();
        var definition = new SuiteDefinition(
            Name,
            Version: 1,
            SuiteKind.Fixed,
            "GSM8K grade-school math word problems, 8-shot chain of thought as lm-eval's gsm8k_cot; "
                + "strict match on 'The answer is N.' decides, flexible extraction of the last number is recorded.",
            RequestKind.Generate,
            new PromptTemplate(Template, null, fewShot, "\n\n"),
            new GenerationSettings(Gsm8k.MaxGenTokens, ["Q:", "</s>", "<|im_end|>"], Temperature: 0, Seed: 0),
            [Gsm8k.ExtractMatch("The answer is (\\-?[0-9\\.\\,]+).")],
            Gsm8k.DefaultRequirement,
            NoExtraFiles);
        return [new ConvertedSuite(definition, items.ToImmutable())];
    }
}

/// <summary>
/// <c>gsm8k</c>: lm-eval's plain <c>gsm8k</c> task, 5-shot "Question: ...\nAnswer: &lt;full solution&gt;" exemplars
/// drawn from train, strict match on "#### N" and flexible extraction of the last number.
/// </summary>
public sealed class Gsm8kRecipe : IBenchmarkRecipe
{
    public const string Template = "{{preamble}}Question: {{question}}\nAnswer:";

    /// <summary>lm-eval's default few-shot seed (lm_eval/defaults.py DEFAULT_OTHER_SEED).</summary>
    public const uint FewShotSeed = 1234;

    public const int FewShotCount = 5;

    public string Name => "gsm8k";

    public string Description => "GSM8K test (1,319 grade-school math word problems), 5-shot from train, strict '#### N' match";

    public DataSource Source { get; } = Gsm8k.Source(Gsm8k.Test, Gsm8k.Train);

    public string FollowsLmEval => "lm_eval/tasks/gsm8k/gsm8k.yaml@4e7e0d47f33bc71070c1d38394bafbb52b117163";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "lm-eval draws each test item's 5 exemplars from train with Python's random.Random(1234).sample, one draw per item in test order; the recipe replays the same generator, so every item carries its own exemplars in the field 'preamble' (the plain rendering is lm-eval's byte for byte; a chat template sees exemplars and question in one user turn, as lm-eval's default single-turn chat rendering).",
        "The model's end-of-sequence token stops generation as in lm-eval; the '</s>' and '<|im_end|>' stop strings are kept as written.",
    ];

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var train = Gsm8k.Rows(files, Gsm8k.Train);
        var test = Gsm8k.Rows(files, Gsm8k.Test);
        var random = new PythonRandom(FewShotSeed);
        var items = ImmutableArray.CreateBuilder<SuiteItem>(test.Length);
        var preamble = new StringBuilder();
        for (var i = 0; i < test.Length; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            preamble.Clear();
            foreach (var j in random.SampleIndices(train.Length, FewShotCount))
            {
                // doc_to_text + target_delimiter " " + doc_to_target (the full solution) + fewshot_delimiter "\n\n".
                preamble.Append("Question: ").Append(train[j].Question).Append("\nAnswer: ").Append(train[j].Answer).Append("\n\n");
            }

            var (question, answer) = test[i];
            items.Add(new SuiteItem(
                RowId(i, test.Length),
                Fields(("answer", JsonOf(answer)), ("preamble", JsonOf(preamble.ToString())), ("question", JsonOf(question))),
                answer, // doc_to_target "{{answer}}": exact_match's "(?s).*#### " strips the solution from the reference.
                []));
        }

        var definition = new SuiteDefinition(
            Name,
            Version: 1,
            SuiteKind.Fixed,
            "GSM8K grade-school math word problems, 5-shot from train as lm-eval's gsm8k; "
                + "strict match on '#### N' decides, flexible extraction of the last number is recorded.",
            RequestKind.Generate,
            new PromptTemplate(Template, null, [], "\n\n"),
            new GenerationSettings(Gsm8k.MaxGenTokens, ["Question:", "</s>", "<|im_end|>"], Temperature: 0, Seed: 0),
            [Gsm8k.ExtractMatch("#### (\\-?[0-9\\.\\,]+)")],
            Gsm8k.DefaultRequirement,
            NoExtraFiles);
        return [new ConvertedSuite(definition, items.ToImmutable())];
    }
}
