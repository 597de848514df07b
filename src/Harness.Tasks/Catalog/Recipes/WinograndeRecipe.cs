using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>
/// Winogrande as lm-eval's <c>winogrande</c> (partial scoring): each option fills the blank and ends its own context
/// (the sentence up to the blank + the option); the one continuation scored under both is a space + the rest of the
/// sentence after the blank, stripped. acc only, as lm-eval reports (acc_norm equals it: the bytes scored are the same).
/// </summary>
public sealed class WinograndeRecipe : IBenchmarkRecipe
{
    private const string TestFile = "db/winogrande/test.json";

    public string Name => "winogrande";

    public string Description =>
        "Winogrande (winogrande_xl validation, 1,267 items): the sentence after the blank scored under each option's "
        + "context, lm-eval's partial scoring, zero-shot; acc. Open: common-sense coreference has no pass line, models are ranked.";

    public DataSource Source { get; } = new(
        Nutcracker.Repository,
        Nutcracker.Commit,
        Nutcracker.LocalFolder,
        [Nutcracker.File("winogrande", "test", "a266953371448104a16c5a5fce65c915647f6f76bec814bb0cd43d46bafa1d72")],
        "Apache-2.0 (Winogrande data; " + Nutcracker.PackagingLicence + ")",
        """
        @article{sakaguchi2021winogrande,
          title={Winogrande: An adversarial winograd schema challenge at scale},
          author={Sakaguchi, Keisuke and Bras, Ronan Le and Bhagavatula, Chandra and Choi, Yejin},
          journal={Communications of the ACM},
          volume={64},
          number={9},
          pages={99--106},
          year={2021},
          publisher={ACM New York, NY, USA}
        }
        """);

    public string FollowsLmEval => "lm_eval/tasks/winogrande/default.yaml@4e7e0d4";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "Items come from nutcracker-db's winogrande/test.json, which is Winogrande 1.1's dev.jsonl (1,267 items): the "
        + "validation split of winogrande_xl that lm-eval evaluates. Fields are renamed (sentence = centerpiece, "
        + "option1/option2 = options); item ids are the row index (the rows carry no qID).",
        "The recorded choices are the options themselves (what fills the blank) rather than lm-eval's full contexts; the "
        + "contexts the model is scored under are the same strings (prompt.template \"{{before}}{{choice}}\").",
    ];

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var rows = Nutcracker.ReadRows(files, TestFile, expectedOptions: 2);
        var items = rows.Select(row =>
        {
            var sentence = row.Centerpiece;
            var blank = sentence.IndexOf('_', StringComparison.Ordinal);
            if (blank < 0)
            {
                throw new InvalidDataException($"{TestFile}: row {row.Index.ToString(CultureInfo.InvariantCulture)} has no blank '_' in its sentence");
            }
            if (row.Options[0] == row.Options[1])
            {
                throw new InvalidDataException($"{TestFile}: row {row.Index.ToString(CultureInfo.InvariantCulture)} has the same text for both options");
            }
            // lm-eval: contexts sentence[:idx] + option, target sentence[idx + 1:].strip(), continuation " " + target.
            return Nutcracker.Item(Nutcracker.RowId(row.Index),
                [
                    ("sentence", sentence),
                    ("before", sentence[..blank]),
                    ("after", Nutcracker.PyStrip(sentence[(blank + 1)..])),
                    ("option1", row.Options[0]),
                    ("option2", row.Options[1]),
                ],
                row.Options[row.CorrectIndex], row.Options);
        }).ToImmutableArray();
        var definition = new SuiteDefinition(
            Name, 1, SuiteKind.Open, Description, RequestKind.LogLikelihood,
            new PromptTemplate("{{before}}{{choice}}", null, [], "\n", Continuation: " {{after}}"),
            null, Nutcracker.ChoiceScorer(), null, ImmutableSortedDictionary<string, string>.Empty);
        return [new ConvertedSuite(definition, items)];
    }
}
