using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog;

/// <summary>
/// ARC-Easy and ARC-Challenge (AI2 Reasoning Challenge, grade-school science questions) as lm-evaluation-harness runs
/// them: zero-shot, prompt <c>Question: {question}\nAnswer:</c>, each option a continuation after one space (the
/// default target_delimiter), ranked by log-likelihood; acc from the raw sums, acc_norm from the character-length
/// normalised ones. The rows come from nutcracker-db's uniform re-packaging of the official test sets.
/// </summary>
public sealed class ArcRecipe : IBenchmarkRecipe
{
    /// <summary>The nutcracker-db commit every catalogue file from that repository is read at.</summary>
    public const string NutcrackerCommit = "95fa9aa468d4d0e179e2e950cc68cd5058463503";

    /// <summary>lm-eval's plain prompt for ARC (doc_to_text), with the question as the item field <c>question</c>.</summary>
    public const string Template = "Question: {{question}}\nAnswer:";

    private const string Citation = """
        @article{clark2018think,
          title={Think you have solved question answering? try arc, the ai2 reasoning challenge},
          author={Clark, Peter and Cowhey, Isaac and Etzioni, Oren and Khot, Tushar and Sabharwal, Ashish and Schoenick, Carissa and Tafjord, Oyvind},
          journal={arXiv preprint arXiv:1803.05457},
          year={2018}
        }
        """;

    private readonly string lmEvalFile;
    private readonly string suiteDescription;
    private readonly double minPassRate;

    private ArcRecipe(string name, string lmEvalFile, string testSha256, string description, string suiteDescription, double minPassRate)
    {
        Name = name;
        this.lmEvalFile = lmEvalFile;
        Description = description;
        this.suiteDescription = suiteDescription;
        this.minPassRate = minPassRate;
        Source = new DataSource(
            Repository: "brucewlee/nutcracker-db",
            Commit: NutcrackerCommit,
            LocalFolder: "nutcracker-db",
            Files: [new SourceFile($"db/{name}/test.json", $"{name}/test.json", testSha256)],
            // The ARC data's licence, per db/<task>/config.yaml and the LICENSE file beside it (nutcracker-db's own code is Apache-2.0).
            Licence: "CC-BY-SA-4.0",
            Citation: Citation);
    }

    /// <summary>ARC-Easy, test split: 2,376 questions.</summary>
    public static ArcRecipe Easy { get; } = new(
        "arc-easy",
        "lm_eval/tasks/arc/arc_easy.yaml@4e7e0d4",
        "df89c8d6873908128ea39e0eb007bb1f0cc0e1c28f3877447da17b1c57372b4f",
        "ARC-Easy test, 2,376 science questions, 0-shot, acc/acc_norm; bar 0.75: three in four right, what a general-purpose model should clear (chance ~0.25)",
        "ARC-Easy test split: grade-school science multiple choice, 0-shot, lm-eval's arc_easy prompt. "
            + "Bar: provably at least 75% right (chance is about 25%).",
        0.75);

    /// <summary>ARC-Challenge, test split: 1,172 questions that a retrieval and a co-occurrence baseline both got wrong.</summary>
    public static ArcRecipe Challenge { get; } = new(
        "arc-challenge",
        "lm_eval/tasks/arc/arc_challenge.yaml@4e7e0d4",
        "eb44aa2cd4ed1954533d657a00f88f319f2f6a897dcee899fcce93282618b158",
        "ARC-Challenge test, 1,172 questions retrieval and co-occurrence baselines miss, 0-shot, acc/acc_norm; bar 0.5: twice chance (~0.25)",
        "ARC-Challenge test split: the science questions both a retrieval and a co-occurrence baseline miss, 0-shot, lm-eval's arc_challenge prompt. "
            + "Bar: provably at least 50% right (twice chance).",
        0.5);

    /// <summary>Both ARC recipes, in catalogue order.</summary>
    public static ImmutableArray<IBenchmarkRecipe> All => [Easy, Challenge];

    public string Name { get; }

    public string Description { get; }

    public DataSource Source { get; }

    public string FollowsLmEval => lmEvalFile;

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "Rows come from nutcracker-db's re-packaging of the official ARC test set (fields centerpiece, options, correct_options_idx) instead of the "
            + "Hugging Face allenai/ai2_arc dataset lm-eval loads; the questions, options and answers are the same, but the upstream question ids are "
            + "not carried, so item ids are the 0-based row numbers (0000, 0001, ...) of the nutcracker file.",
        "The pass/fail verdict uses acc (the raw log-likelihood argmax); acc_norm is recorded beside it.",
    ];

    /// <summary>One suite, one item per row: field <c>question</c>, choices " " + option, target the correct one.</summary>
    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var file = Source.Files[0].Path;
        var items = ImmutableArray.CreateBuilder<SuiteItem>();
        using (var reader = new StreamReader(files.Open(file), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: false))
        {
            var row = 0;
            var line = 0;
            while (reader.ReadLine() is { } text)
            {
                line++;
                cancellationToken.ThrowIfCancellationRequested();
                if (text.Length == 0)
                {
                    continue;
                }

                items.Add(ToItem(file, line, row.ToString("D4", CultureInfo.InvariantCulture), text));
                row++;
            }
        }

        if (items.Count == 0)
        {
            throw new InvalidDataException($"{file}: no rows");
        }

        var definition = new SuiteDefinition(
            Name: Name,
            Version: ConversionVersion,
            Kind: SuiteKind.Fixed,
            Description: suiteDescription,
            Request: RequestKind.LogLikelihood,
            Prompt: new PromptTemplate(Template, System: null, FewShot: [], FewShotSeparator: "\n\n"),
            Generation: null,
            Scorers: [new ScorerSpec("choice", ImmutableSortedDictionary<string, JsonElement>.Empty)],
            Requirement: new Requirement(MinPassRate: minPassRate, Confidence: 0.95, MaxP95Latency: null, MaxJoulesPerItem: null),
            ExtraFiles: ImmutableSortedDictionary<string, string>.Empty);
        return [new ConvertedSuite(definition, items.ToImmutable())];
    }

    private static SuiteItem ToItem(string file, int line, string id, string text)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{file}:{line}: not a JSON object: {ex.Message}", ex);
        }

        using (document)
        {
            var row = document.RootElement;
            if (row.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{file}:{line}: not a JSON object");
            }

            var question = row.TryGetProperty("centerpiece", out var q) && q.ValueKind == JsonValueKind.String && q.GetString()!.Length > 0
                ? q.GetString()!
                : throw new InvalidDataException($"{file}:{line}: 'centerpiece' (the question) is missing or not a non-empty string");
            if (!row.TryGetProperty("options", out var optionsElement) || optionsElement.ValueKind != JsonValueKind.Array
                || optionsElement.GetArrayLength() < 2 || optionsElement.EnumerateArray().Any(o => o.ValueKind != JsonValueKind.String))
            {
                throw new InvalidDataException($"{file}:{line}: 'options' is missing or not a list of at least two strings");
            }

            // lm-eval's target_delimiter: every continuation starts with one space after "Answer:".
            ImmutableArray<string> choices = [.. optionsElement.EnumerateArray().Select(o => " " + o.GetString())];
            if (choices.Distinct(StringComparer.Ordinal).Count() != choices.Length)
            {
                throw new InvalidDataException($"{file}:{line}: two options are the same text, so the right one cannot be told apart");
            }

            if (!row.TryGetProperty("correct_options_idx", out var answers) || answers.ValueKind != JsonValueKind.Array || answers.GetArrayLength() != 1
                || !answers[0].TryGetInt32(out var answer) || answer < 0 || answer >= choices.Length)
            {
                throw new InvalidDataException($"{file}:{line}: 'correct_options_idx' must hold exactly one index into the {choices.Length} options");
            }

            return new SuiteItem(
                id,
                ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("question", JsonSerializer.SerializeToElement(question))]),
                choices[answer],
                choices);
        }
    }
}
