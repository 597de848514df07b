using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tasks.Catalog;

namespace Harness.IntegrationTests.LmEval;

/// <summary>
/// The ARC-Easy items the lm-eval parity tests score, built by hand from lm-eval's task file
/// (lm_eval/tasks/arc/arc_easy.yaml@4e7e0d4: doc_to_text "Question: {{question}}\nAnswer:", doc_to_choice the choice
/// texts, target_delimiter " ", so each continuation is " " + choice) over the shared nutcracker-db copy of the test split.
/// </summary>
internal static class ArcEasyItems
{
    public const string Folder = "nutcracker-db/arc-easy";

    /// <summary>Items 0001-0003 of the test split: short choices, so every token can be worked out by hand.</summary>
    public static readonly ImmutableArray<int> Rows = [1, 2, 3];

    /// <summary>
    /// The one source of the suite these tests score. When the arc-easy catalogue recipe exists, this becomes its
    /// conversion of the same file, filtered to <paramref name="rows"/>; the tests then check the recipe.
    /// </summary>
    public static ConvertedSuite Suite(IEnumerable<int> rows)
    {
        var path = SharedDatasets.PathOf(Path.Combine(Folder, "test.json"));
        var lines = File.ReadAllLines(path);
        var items = ImmutableArray.CreateBuilder<SuiteItem>();
        foreach (var row in rows)
        {
            using var document = JsonDocument.Parse(lines[row]);
            var root = document.RootElement;
            var choices = root.GetProperty("options").EnumerateArray().Select(o => " " + o.GetString()).ToImmutableArray();
            var answer = root.GetProperty("correct_options_idx")[0].GetInt32();
            items.Add(new SuiteItem(
                row.ToString("D4", System.Globalization.CultureInfo.InvariantCulture),
                ImmutableSortedDictionary<string, JsonElement>.Empty.Add("question", root.GetProperty("centerpiece").Clone()),
                choices[answer],
                choices));
        }

        var definition = new SuiteDefinition(
            "arc-easy", 1, SuiteKind.Open, "ARC-Easy, lm-eval's arc_easy prompt (hand-built for the parity tests)",
            RequestKind.LogLikelihood,
            new PromptTemplate("Question: {{question}}\nAnswer:", null, [], "\n"),
            null,
            [new ScorerSpec("choice", ImmutableSortedDictionary<string, JsonElement>.Empty)],
            null,
            ImmutableSortedDictionary<string, string>.Empty);
        return new ConvertedSuite(definition, items.ToImmutable());
    }

    /// <summary>lm-eval's context for one item: doc_to_text with the question filled in, no few-shot examples.</summary>
    public static string LmEvalContext(string question) => "Question: " + question + "\nAnswer:";
}
