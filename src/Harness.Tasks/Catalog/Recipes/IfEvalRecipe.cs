using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>
/// IFEval (Zhou et al., 2023): 0-shot prompts with verifiable instructions, generated greedily up to 1280 tokens with
/// no stop sequence, scored by the <c>ifeval</c> scorer (Harness.Scoring.IfEval). Prompt-level strict accuracy decides;
/// prompt-level loose and instruction-level strict and loose are recorded beside it.
/// </summary>
public sealed class IfEvalRecipe : IBenchmarkRecipe
{
    private const string DataPath = "data/input_data.jsonl";

    /// <summary>The default bar: a model must provably follow every instruction of at least 70 % of prompts.</summary>
    public const double DefaultMinPassRate = 0.70;

    public string Name => "ifeval";

    public string Description => "IFEval: 540 prompts with verifiable instructions (prompt-level strict accuracy decides)";

    public DataSource Source { get; } = new(
        "Podtech-AI/IFEval",
        "76670a377db0f75ac8e808bbdaa8df5e6f185399",
        "ifeval",
        [new SourceFile(DataPath, "input_data.jsonl", "0ca6d445a430b5dfe2a9657492fa058ff83fce61c7ed1a3b5f74c3a746d2160b")],
        "Apache-2.0",
        "Jeffrey Zhou, Tianjian Lu, Swaroop Mishra, Siddhartha Brahma, Sujoy Basu, Yi Luan, Denny Zhou, Le Hou. "
        + "Instruction-Following Evaluation for Large Language Models. arXiv:2311.07911, 2023.");

    public string FollowsLmEval => "lm_eval/tasks/ifeval/ifeval.yaml@4e7e0d4";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "540 prompts, not 541: the pinned copy of input_data.jsonl lacks key 2785 of google/IFEval.",
        "length_constraints:number_sentences counts sentences with instructions_util.split_into_sentences (the same "
        + "module's rule-based splitter) instead of nltk's trained Punkt model, which has no .NET port; they agree on "
        + "the original's test cases but can differ on abbreviations Punkt learned (\"etc.\", \"approx.\") and on a period "
        + "followed by a lower-case word.",
        "change_case:capital_word_frequency tokenizes with nltk's NLTKWordTokenizer rules, on sentences from the same "
        + "rule-based splitter instead of Punkt (this can only change where a final period goes, which no count sees).",
        "language:response_language, change_case:english_capital and change_case:english_lowercase detect the language "
        + "with Lingua (SearchPioneer.Lingua 2.0.0, limited to langdetect's languages) instead of langdetect; Lingua has "
        + "no Kannada, Malayalam or Nepali model, so for kn and ne (3 of the 832 instructions) a response passes when "
        + "most of its letters are in the Kannada or Devanagari script. lm-eval does not seed langdetect, so its own "
        + "verdicts on short or mixed texts can vary between runs; Lingua's are deterministic.",
        "keywords:letter_frequency counts any single non-whitespace character, as google-research's current checker "
        + "does: items 1122 ('#') and 1129 ('!') ask for one; lm-eval's older copy replaces anything but a-z with a "
        + "random letter on every run.",
        "detectable_format:json_format parses with System.Text.Json, which refuses the NaN and Infinity literals that "
        + "Python's json.loads accepts.",
        "Instruction-level accuracy: lm-eval averages over all instructions (micro); each item's instruction-level score "
        + "is the fraction it followed, and its answer records followed/total, so lm-eval's figure is the sum of the "
        + "numerators over the sum of the denominators, not the report's mean (docs/benchmarks.md).",
    ];

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var items = ImmutableArray.CreateBuilder<SuiteItem>();
        var ids = new HashSet<string>(StringComparer.Ordinal);
        using var reader = new StreamReader(files.Open(DataPath), new UTF8Encoding(false, throwOnInvalidBytes: true));
        var lineNumber = 0;
        while (reader.ReadLine() is { } line)
        {
            cancellationToken.ThrowIfCancellationRequested();
            lineNumber++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            var item = ConvertRow(line, lineNumber);
            if (!ids.Add(item.Id))
            {
                throw Bad(lineNumber, $"key {item.Id} appears twice");
            }

            items.Add(item);
        }

        var definition = new SuiteDefinition(
            Name,
            ConversionVersion,
            SuiteKind.Fixed,
            "IFEval (google/IFEval, lm-eval's ifeval task): does the model follow verifiable instructions such as word "
            + "counts, formats and forbidden words? Passes an item when every instruction is followed (prompt-level strict).",
            RequestKind.Generate,
            new PromptTemplate("{{prompt}}", null, [], "\n"),
            new GenerationSettings(1280, [], 0.0, 0),
            [
                Scorer("prompt", "strict"),
                Scorer("prompt", "loose"),
                Scorer("instruction", "strict"),
                Scorer("instruction", "loose"),
            ],
            new Requirement(DefaultMinPassRate, 0.95, null, null),
            ImmutableSortedDictionary<string, string>.Empty);
        return [new ConvertedSuite(definition, items.ToImmutable())];
    }

    private static SuiteItem ConvertRow(string line, int lineNumber)
    {
        JsonElement row;
        try
        {
            using var document = JsonDocument.Parse(line);
            row = document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw Bad(lineNumber, $"not JSON: {e.Message}");
        }

        if (row.ValueKind != JsonValueKind.Object)
        {
            throw Bad(lineNumber, "expected a JSON object");
        }

        if (!row.TryGetProperty("key", out var key) || key.ValueKind != JsonValueKind.Number || !key.TryGetInt64(out var keyValue))
        {
            throw Bad(lineNumber, "'key' must be an integer");
        }

        if (!row.TryGetProperty("prompt", out var prompt) || prompt.ValueKind != JsonValueKind.String || prompt.GetString()!.Length == 0)
        {
            throw Bad(lineNumber, "'prompt' must be a non-empty string");
        }

        if (!row.TryGetProperty("instruction_id_list", out var instructions) || instructions.ValueKind != JsonValueKind.Array
            || instructions.GetArrayLength() == 0 || instructions.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String))
        {
            throw Bad(lineNumber, "'instruction_id_list' must be a non-empty list of strings");
        }

        if (!row.TryGetProperty("kwargs", out var kwargs) || kwargs.ValueKind != JsonValueKind.Array
            || kwargs.GetArrayLength() != instructions.GetArrayLength()
            || kwargs.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Object))
        {
            throw Bad(lineNumber, "'kwargs' must be a list of objects, one per instruction");
        }

        var fields = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
        [
            new KeyValuePair<string, JsonElement>("prompt", prompt),
            new KeyValuePair<string, JsonElement>("instruction_id_list", instructions),
            new KeyValuePair<string, JsonElement>("kwargs", kwargs),
        ]);
        return new SuiteItem(keyValue.ToString(System.Globalization.CultureInfo.InvariantCulture), fields, null, []);
    }

    private static ScorerSpec Scorer(string level, string mode) => new("ifeval", ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
    [
        new KeyValuePair<string, JsonElement>("level", JsonSerializer.SerializeToElement(level)),
        new KeyValuePair<string, JsonElement>("mode", JsonSerializer.SerializeToElement(mode)),
    ]));

    private static InvalidDataException Bad(int line, string problem) => new($"{DataPath}:{line}: {problem}");
}
