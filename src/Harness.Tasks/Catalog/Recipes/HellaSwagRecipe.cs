using System.Collections.Immutable;
using System.Text.RegularExpressions;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>
/// HellaSwag as lm-eval's <c>hellaswag</c>: the context and the four endings through lm-eval's <c>preprocess</c>, the
/// endings as continuations after a space, zero-shot; acc and acc_norm (acc_norm is the figure usually quoted).
/// </summary>
public sealed partial class HellaSwagRecipe : IBenchmarkRecipe
{
    private const string DevFile = "db/hellaswag/dev.json";

    public string Name => "hellaswag";

    public string Description =>
        "HellaSwag sentence completion, 4 endings by log-likelihood with lm-eval's preprocessing; acc and acc_norm. "
        + "Only the 100 rows nutcracker-db keeps as dev (from HellaSwag's train split), not the 10,042-item validation "
        + "set lm-eval reports, and without activity labels: a smoke test, not the published figure. Open: ranked.";

    public DataSource Source { get; } = new(
        Nutcracker.Repository,
        Nutcracker.Commit,
        Nutcracker.LocalFolder,
        [Nutcracker.File("hellaswag", "dev", "a2b3382d3ea2049c6a5fb122ebcfd0a01d5f4b399b7dd21201680f82557b9a70")],
        "MIT (HellaSwag data; " + Nutcracker.PackagingLicence + ")",
        """
        @inproceedings{zellers2019hellaswag,
          title={HellaSwag: Can a Machine Really Finish Your Sentence?},
          author={Zellers, Rowan and Holtzman, Ari and Bisk, Yonatan and Farhadi, Ali and Choi, Yejin},
          booktitle={Proceedings of the 57th Annual Meeting of the Association for Computational Linguistics},
          pages={4791--4800},
          year={2019}
        }
        """);

    public string FollowsLmEval => "lm_eval/tasks/hellaswag/hellaswag.yaml@4e7e0d4";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "Items are the 100 rows of nutcracker-db's hellaswag/dev.json, drawn from HellaSwag's train split "
        + "(hellaswag_train.jsonl[:101]); lm-eval scores the 10,042-row validation split, which the pinned copy does not hold. "
        + "Scores here are a smoke test and are not comparable with published HellaSwag figures.",
        "nutcracker keeps only the joined context (ctx), with no activity_label and no ctx_a/ctx_b split: the query is "
        + "preprocess(ctx) instead of preprocess(activity_label + \": \" + ctx_a + \" \" + ctx_b.capitalize()), so it "
        + "lacks the \"<activity>: \" prefix and the capital letter lm-eval gives ctx_b.",
        "Item ids are the row index (the rows carry no ind field).",
    ];

    // lm-eval's preprocess removes "[...]" tags non-greedily within a line (Python's '.' does not match a newline, nor does .NET's).
    [GeneratedRegex(@"\[.*?\]", RegexOptions.CultureInvariant)]
    private static partial Regex BracketTagRegex();

    /// <summary>lm-eval's hellaswag <c>preprocess</c>: strip, " [title]" to ". ", drop bracket tags, one pass of double spaces to one.</summary>
    internal static string Preprocess(string text)
    {
        text = Nutcracker.PyStrip(text);
        text = text.Replace(" [title]", ". ", StringComparison.Ordinal);
        text = BracketTagRegex().Replace(text, "");
        return text.Replace("  ", " ", StringComparison.Ordinal);
    }

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var rows = Nutcracker.ReadRows(files, DevFile, expectedOptions: 4);
        var items = rows.Select(row =>
        {
            ImmutableArray<string> choices = [.. row.Options.Select(o => " " + Preprocess(o))];
            if (choices.Distinct(StringComparer.Ordinal).Count() != choices.Length)
            {
                throw new InvalidDataException($"{DevFile}: row {Nutcracker.RowId(row.Index)} has two endings that preprocess to the same text");
            }
            return Nutcracker.Item(Nutcracker.RowId(row.Index),
                [("ctx", row.Centerpiece), ("query", Preprocess(row.Centerpiece))],
                choices[row.CorrectIndex], choices);
        }).ToImmutableArray();
        var definition = new SuiteDefinition(
            Name, 1, SuiteKind.Open, Description, RequestKind.LogLikelihood,
            new PromptTemplate("{{query}}", null, [], "\n"),
            null, Nutcracker.ChoiceScorer(), null, ImmutableSortedDictionary<string, string>.Empty);
        return [new ConvertedSuite(definition, items)];
    }
}
