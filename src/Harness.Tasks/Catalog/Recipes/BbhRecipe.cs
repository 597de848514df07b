using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Harness.Core.Suites;
using static Harness.Tasks.Catalog.Recipes.RecipeData;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>
/// <c>bbh</c>: BIG-Bench-Hard as lm-eval's <c>bbh_cot_fewshot</c> group: 27 tasks, each with its 3 chain-of-thought
/// exemplars (the upstream cot-prompts/&lt;task&gt;.txt), "Q: ...\nA: Let's think step by step.\n", generation until
/// "Q" or a blank line, the answer taken after "the answer is " and compared exactly. One suite per task
/// (<c>bbh-&lt;task&gt;</c>) and a pooled <c>bbh</c> whose items carry their task's rendered preamble.
/// </summary>
public sealed class BbhRecipe : IBenchmarkRecipe
{
    public const string Repository = "suzgunmirac/BIG-Bench-Hard";
    public const string Commit = "9ee07bd481feebf959a6b59d61ea57bdcf30964d";

    /// <summary>lm-eval's doc_to_text for every task.</summary>
    public const string Template = "Q: {{input}}\nA: Let's think step by step.\n";

    /// <summary>The pooled suite's template: the item's task preamble, then <see cref="Template"/>.</summary>
    public const string PooledTemplate = "{{preamble}}" + Template;

    public const int FewShotCount = 3;

    private const string ExemplarAnswerLead = "\nA: Let's think step by step.";

    /// <summary>Task name to (sha256 of bbh/&lt;task&gt;.json, sha256 of cot-prompts/&lt;task&gt;.txt) at <see cref="Commit"/>.</summary>
    public static readonly ImmutableSortedDictionary<string, (string Data, string Prompts)> Tasks = new SortedDictionary<string, (string, string)>(StringComparer.Ordinal)
    {
        ["boolean_expressions"] = ("ea6c754ec005e2d3f2d085d349a740f593b5764f32ea4638ffed4cfc0061b12a", "685affba97425cdf3549d5d313ba876caed2fa7c8a4cf1ea7549faf22179609d"),
        ["causal_judgement"] = ("6e8bca44dd402008ed41c07a3d0a1d5e7b03db7001a7e002fcdf4c60985ea081", "14377e36cccb084b7d0fe73988d08696f7675d712b02d3ae1f5f7f12c77028ea"),
        ["date_understanding"] = ("0148d4ac5fca05b2f82373e5fef7208e15363b9c6079493034d77b3dab496bf5", "a0a13c392f689a1828f5f6ffb9dee3d44483794490da5d92f0e2a723787b1cfb"),
        ["disambiguation_qa"] = ("cf06df9ebf911b883671cb1b35d3fbd1a1c306b19b9e9a012407e596c85fe8c6", "794fd259297972a4c963a5d13a84dc221edde460de27fa5d8fd64299a2001597"),
        ["dyck_languages"] = ("3f9badedf15c2be1ce53d94fdf016299bb30ba231ef087ab9f51a7ed6d0bdc25", "b0836603007ec659ed685458647fb6d7543543304e7aca909b995d0c3aff22b2"),
        ["formal_fallacies"] = ("4c1adb664821157faade1d4153685403afcc02648f3c180a608a18f17f589629", "10c06cc362520e9b8dddfc4861e263ff668d228a52d958dcc69f09f1d224935a"),
        ["geometric_shapes"] = ("07be68a124420caa2ebc0b2c858ad79fc55c5c8806170e496e1e17ebfb11f31c", "f36d9893507eb518d84f388fb677dc0226c74a98873700de0b556548d65d3f76"),
        ["hyperbaton"] = ("b6d7f55c75f5d02f2987a4f3123802dfa093872089a56a334144aae8a7264fdc", "19898af91c35cb26bbdf5fdb6f6fb17e138677250332e2994005625ffb50b261"),
        ["logical_deduction_five_objects"] = ("d2df31394b903b7f0e085d42a69572a092987856eac076799017d70ef266fa8f", "4ed65246c0c1c4b0b4053d784181892b842bce19cf4358c976f34b1a434ef034"),
        ["logical_deduction_seven_objects"] = ("2896c7e3482eea318dd37bcc370d24ec3cc91e8374c1784287b5dbd38a529e33", "4ed65246c0c1c4b0b4053d784181892b842bce19cf4358c976f34b1a434ef034"),
        ["logical_deduction_three_objects"] = ("e590fae72e3a6041fbd23bd8ff6b74baf44ca563f6ba40a041c55e7b867c1681", "4ed65246c0c1c4b0b4053d784181892b842bce19cf4358c976f34b1a434ef034"),
        ["movie_recommendation"] = ("a8b53a87ee21a865b7248e694f388a9b8f7cf6b839b11d44796a2dd3fc088983", "cdf765634713b057091d541b4773dd2c998f81447b0bd8564ae70be4cdf3f5d0"),
        ["multistep_arithmetic_two"] = ("c9d5a6433c9b78256422a15c78463949c8bec8d85607aa28b52d7234ad4a8595", "a546e0b7cde09037bc144ae5c32c9cf78dafdfac929ae76e2051b2dd8f3671ce"),
        ["navigate"] = ("b7944dfd3c81da5c4815bd75b00d6fa3c64140823498e78ed496f4c3d36f7f0d", "dc2fd733f1867b8c79685f15b83746064534a94bf73468341c2a9dd335be22fc"),
        ["object_counting"] = ("8acef14dbbdd40d2326ef7755750b6b5fe919fef06276af1bab3f1c297f022ff", "e51ffc03fd713a13a379a6c938a523dfc1c2f384f2a8447bd7a12d4458f18833"),
        ["penguins_in_a_table"] = ("bb87ee449698eee51215e025a453b1bcb2f5e6589c2063b2c79e68b8f0655228", "33be137e76c2a6af0bbacd17a8e7a92801886c0202a45e35ea9c2a88c1f26d51"),
        ["reasoning_about_colored_objects"] = ("0a8850cf95166020fce7a78244026ceedd7ea839302471512b4f8744e85a6a49", "e4ea02d05b13e8ed9ccc3b0d878bc4df4c5a6fb76c65d39d48d6244f7ff0b9d5"),
        ["ruin_names"] = ("b6f723aef2bafdd4c7bfc3c7e0329c7e8a8279391a609969c8ed76c9319f5f7f", "731446c6c66bb5258677af1417b599a6a5539be6d74a5afc02cf7a716444ea54"),
        ["salient_translation_error_detection"] = ("becf3eb8dd53c821a555ecd5c1334ecd93eb25f980e63be963c518e7138de5da", "2c8367f75092202cc507fdbfaaf037b1c1eed38e91289084439738367f0785f7"),
        ["snarks"] = ("54a0661fe2de06167645a4965e6bcf963c4ba307e76262a7c750998b0e3d0d0e", "35084a2a0b86bc4008ab206b838c0b97dd425897dd72198137c3cefc499c0960"),
        ["sports_understanding"] = ("63ca262858f6176864515cd8cf53cdaa40839ebecc155b726d77930855d167bf", "2058a9bed717a6edb8ca2f815e88851436a4ee14c8b0d504ccf464865c6d0295"),
        ["temporal_sequences"] = ("92a1189faaa84aacc4c405aaa13f13f48c2992eb884772eedb622505252baef5", "3e7ebf1e20abe3e219dc6514dcb7474d82db1b2c66acc733cd30af2e9e0b64b0"),
        ["tracking_shuffled_objects_five_objects"] = ("2063a46a4fb484236ed4310523606543a3e1dd4a4dc34eda65d407910ece25a5", "2ef54cb2a72052adc3484a76209cb6a6535f194d677e79bcec2e2e71cf3768af"),
        ["tracking_shuffled_objects_seven_objects"] = ("b59fd05b850c37cf57cb514ae1e6975c00b1638ade2291722056b2af3c54084d", "2ef54cb2a72052adc3484a76209cb6a6535f194d677e79bcec2e2e71cf3768af"),
        ["tracking_shuffled_objects_three_objects"] = ("546cc7bf10c6a01a6a4c17ae28a4966485f21f29fd5d111f37858ec78e354f6b", "2ef54cb2a72052adc3484a76209cb6a6535f194d677e79bcec2e2e71cf3768af"),
        ["web_of_lies"] = ("3e60323f8514a107fdb4edf35f8832a9171c5a09c0eaa47823559de905e8ab8b", "c8025ca65ab7f0897c243504c863bda043d04b6e873777536743e94023c929d0"),
        ["word_sorting"] = ("2a6132d2c99f00d0d2eb1113ac6b4a918bd969d863c48749210d969713db8d43", "a2cdbcfe23abaa97b9787f7c03dbf49b1cfd0ff9e63197b7884bb5cd5a096ca6"),
    }.ToImmutableSortedDictionary(StringComparer.Ordinal);

    public string Name => "bbh";

    public string Description => "BIG-Bench-Hard, 27 tasks (6,511 items), 3-shot chain of thought, exact match on the extracted answer; per-task suites bbh-<task> and the pooled bbh";

    public ImmutableArray<string> SuiteNames => [.. Tasks.Keys.Select(SuiteName), Name];

    public DataSource Source { get; } = new(
        Repository,
        Commit,
        "bbh",
        [
            .. Tasks.Keys.Select(t => new SourceFile($"bbh/{t}.json", $"bbh/{t}.json", Tasks[t].Data)),
            .. Tasks.Keys.Select(t => new SourceFile(PromptsPath(t), PromptsPath(t), Tasks[t].Prompts, Optional: true)),
        ],
        "MIT",
        "Suzgun, M., Scales, N., Schärli, N., et al. (2022). Challenging BIG-Bench Tasks and Whether Chain-of-Thought Can Solve Them. arXiv:2210.09261.");

    public string FollowsLmEval => "lm_eval/tasks/bbh/cot_fewshot/_cot_fewshot_template_yaml@4e7e0d47f33bc71070c1d38394bafbb52b117163 (and <task>.yaml beside it)";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "Exemplars are read from the upstream cot-prompts/<task>.txt (a copy ships inside the harness for local copies without them); they equal lm-eval's inline fewshot_config samples for all 27 tasks except that cot-prompts/sports_understanding.txt continues 'Let's think step by step.' with a space where lm-eval (and this recipe) put a newline.",
        "lm-eval loads the data from the Hugging Face copy SaylorTwift/bbh; the recipe reads the upstream bbh/<task>.json at the pinned commit.",
        "The model's end-of-sequence token stops generation as in lm-eval; the '</s>' stop string is kept as written.",
    ];

    /// <summary>Upstream path of a task's exemplars.</summary>
    public static string PromptsPath(string task) => $"cot-prompts/{task}.txt";

    /// <summary>Suite folder name of a task: <c>bbh-</c> and the task with '_' as '-'.</summary>
    public static string SuiteName(string task) => "bbh-" + task.Replace('_', '-');

    /// <summary>
    /// A bar a model must provably clear: half of the items. BBH's tasks have 2 to 7 options or free-form answers,
    /// so 0.5 is above chance on almost all of them; 7B-class models score around 0.4 to 0.6 with chain of thought.
    /// </summary>
    public static Requirement DefaultRequirement => new(MinPassRate: 0.5, Confidence: 0.95, MaxP95Latency: null, MaxJoulesPerItem: null);

    // lm_eval/tasks/bbh/cot_fewshot/_cot_fewshot_template_yaml: max_gen_toks 1024, until "</s>", "Q", "\n\n".
    private static GenerationSettings Generation => new(1024, ["</s>", "Q", "\n\n"], Temperature: 0, Seed: 0);

    private static ImmutableArray<ScorerSpec> Scorers =>
        [Scorer("extract_match", ("pattern", JsonOf("(?<=the answer is )(.*)(?=.)")))];

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var suites = ImmutableArray.CreateBuilder<ConvertedSuite>(Tasks.Count + 1);
        var pooled = ImmutableArray.CreateBuilder<SuiteItem>();
        foreach (var task in Tasks.Keys)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var prompts = ParsePrompts(ReadPrompts(files, task), PromptsPath(task));
            var fewShot = prompts.Exemplars
                .Select((e, i) => new SuiteItem($"fewshot-{i}", Fields(("input", JsonOf(e.Input))), e.Target, []))
                .ToImmutableArray();
            // lm-eval's description ends in "\n\n"; the plain rendering appends "\n" to the system text.
            var prompt = new PromptTemplate(Template, prompts.Description + "\n", fewShot, "\n\n");
            var items = ReadItems(files, task);
            suites.Add(new ConvertedSuite(
                new SuiteDefinition(
                    SuiteName(task),
                    Version: 1,
                    SuiteKind.Fixed,
                    $"BIG-Bench-Hard {task}, 3-shot chain of thought as lm-eval's bbh_cot_fewshot_{task}; exact match on the answer after 'the answer is '.",
                    RequestKind.Generate,
                    prompt,
                    Generation,
                    Scorers,
                    DefaultRequirement,
                    NoExtraFiles),
                items));

            var preamble = Preamble(prompt);
            foreach (var item in items)
            {
                pooled.Add(item with
                {
                    Id = $"{task}-{item.Id}",
                    Fields = item.Fields.Add("preamble", JsonOf(preamble)).Add("task", JsonOf(task)),
                });
            }
        }

        suites.Add(new ConvertedSuite(
            new SuiteDefinition(
                "bbh",
                Version: 1,
                SuiteKind.Fixed,
                "BIG-Bench-Hard, all 27 tasks pooled (6,511 items, weighted by size as lm-eval's bbh_cot_fewshot group); each item carries its task's description and 3 chain-of-thought exemplars.",
                RequestKind.Generate,
                new PromptTemplate(PooledTemplate, null, [], "\n\n"),
                Generation,
                Scorers,
                DefaultRequirement,
                NoExtraFiles),
            pooled.ToImmutable()));
        return suites.ToImmutable();
    }

    /// <summary>The plain text before the item's own question: description, then each exemplar with its answer.</summary>
    private static string Preamble(PromptTemplate prompt)
    {
        var text = new StringBuilder();
        text.Append(prompt.System).Append('\n');
        foreach (var example in prompt.FewShot)
        {
            text.Append(PromptRenderer.RenderTemplate(prompt.Template, example)).Append(example.Target).Append(prompt.FewShotSeparator);
        }

        return text.ToString();
    }

    private static ImmutableArray<SuiteItem> ReadItems(IRecipeFiles files, string task)
    {
        var path = $"bbh/{task}.json";
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(ReadText(files, path));
            root = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"{path}: invalid JSON ({Harness.Core.Serialization.JsonErrorText.Describe(e, multiLine: true)})", e);
        }

        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("examples", out var examples) || examples.ValueKind != JsonValueKind.Array)
        {
            throw new InvalidDataException($"{path}: expected an object with an 'examples' list");
        }

        var count = examples.GetArrayLength();
        var items = ImmutableArray.CreateBuilder<SuiteItem>(count);
        var index = 0;
        foreach (var example in examples.EnumerateArray())
        {
            var where = $"{path}: examples[{index}]";
            items.Add(new SuiteItem(
                RowId(index, count),
                Fields(("input", JsonOf(RequiredString(example, "input", where)))),
                RequiredString(example, "target", where),
                []));
            index++;
        }

        return items.ToImmutable();
    }

    /// <summary>The verified upstream exemplars, or the embedded copy of the same bytes when a local copy lacks them.</summary>
    private static string ReadPrompts(IRecipeFiles files, string task)
    {
        var path = PromptsPath(task);
        if (files.Contains(path))
        {
            return ReadText(files, path);
        }

        var resource = $"Harness.Tasks.BbhCotPrompts.{task}.txt";
        using var stream = typeof(BbhRecipe).Assembly.GetManifestResourceStream(resource)
            ?? throw new InvalidDataException($"{path}: not in the local copy and no embedded copy '{resource}' ships with the harness");
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        var bytes = buffer.ToArray();
        var hash = Sha256Hex(bytes);
        return hash == Tasks[task].Prompts
            ? Decode(bytes, path)
            : throw new InvalidDataException($"{path}: the embedded copy hashes to {hash}, not the pinned {Tasks[task].Prompts}");
    }

    /// <summary>A cot-prompts file: canary line, "-----", the description, then exemplars separated by blank lines.</summary>
    internal static (string Description, ImmutableArray<(string Input, string Target)> Exemplars) ParsePrompts(string text, string path)
    {
        var lines = text.Split('\n', 3);
        if (lines.Length < 3 || lines[1] != "-----")
        {
            throw new InvalidDataException($"{path}: expected a canary line and '-----' before the description");
        }

        var parts = lines[2].Split("\n\nQ: ");
        if (parts.Length != FewShotCount + 1)
        {
            throw new InvalidDataException($"{path}: expected {FewShotCount} exemplars starting 'Q: ', found {parts.Length - 1}");
        }

        var exemplars = ImmutableArray.CreateBuilder<(string, string)>(FewShotCount);
        for (var i = 1; i < parts.Length; i++)
        {
            var split = parts[i].IndexOf(ExemplarAnswerLead, StringComparison.Ordinal);
            var after = split < 0 ? -1 : split + ExemplarAnswerLead.Length;
            // The answer follows on the next line, except in sports_understanding.txt where it follows a space.
            if (after < 0 || after >= parts[i].Length || parts[i][after] is not ('\n' or ' '))
            {
                throw new InvalidDataException($"{path}: exemplar {i} lacks \"{ExemplarAnswerLead.TrimStart('\n')}\" followed by its answer");
            }

            exemplars.Add((parts[i][..split], parts[i][(after + 1)..]));
        }

        return (parts[0], exemplars.MoveToImmutable());
    }
}
