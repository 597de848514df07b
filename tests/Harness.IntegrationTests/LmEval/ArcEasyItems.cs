using Harness.Tests.Tasks;
using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tasks.Catalog;

namespace Harness.IntegrationTests.LmEval;

/// <summary>
/// The ARC-Easy items the lm-eval parity tests score, as the catalogue recipe converts them; the tests compare them with
/// lm-eval's task file
/// (lm_eval/tasks/arc/arc_easy.yaml@4e7e0d4: doc_to_text "Question: {{question}}\nAnswer:", doc_to_choice the choice
/// texts, target_delimiter " ", so each continuation is " " + choice) over the shared nutcracker-db copy of the test split.
/// </summary>
internal static class ArcEasyItems
{
    public const string Folder = "nutcracker-db/arc-easy";

    /// <summary>Items 0001-0003 of the test split: short choices, so every token can be worked out by hand.</summary>
    public static readonly ImmutableArray<int> Rows = [1, 2, 3];

    /// <summary>
    /// The one source of the suite these tests score: the arc-easy catalogue recipe's conversion of the shared copy,
    /// filtered to <paramref name="rows"/> (ids are the zero-padded row numbers), so the tests check the recipe itself.
    /// </summary>
    public static ConvertedSuite Suite(IEnumerable<int> rows)
    {
        var recipe = ArcRecipe.Easy;
        var files = new LocalRecipeFileSource(SharedDatasets.Root).AcquireAsync(recipe, CancellationToken.None).GetAwaiter().GetResult();
        var converted = recipe.Convert(files, CancellationToken.None).Single();
        var wanted = rows.Select(r => r.ToString("D4", System.Globalization.CultureInfo.InvariantCulture)).ToHashSet(StringComparer.Ordinal);
        return converted with { Items = [.. converted.Items.Where(i => wanted.Contains(i.Id))] };
    }

    /// <summary>lm-eval's context for one item: doc_to_text with the question filled in, no few-shot examples.</summary>
    public static string LmEvalContext(string question) => "Question: " + question + "\nAnswer:";
}
