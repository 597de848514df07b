using System.Collections.Immutable;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>
/// PIQA as lm-eval's <c>piqa</c> task: <c>Question: {goal}\nAnswer:</c>, the two solutions as continuations after a
/// space, zero-shot, acc and acc_norm. Open: physical common sense has no pass line of its own; models are ranked.
/// </summary>
public sealed class PiqaRecipe : IBenchmarkRecipe
{
    private const string TestFile = "db/piqa/test.json";

    public string Name => "piqa";

    public string Description =>
        "PIQA physical commonsense, 1,838 items (the original validation set), 2 solutions by log-likelihood, zero-shot "
        + "as lm-eval's piqa; acc and acc_norm. Open: the benchmark has no pass line, so models are ranked.";

    public DataSource Source { get; } = new(
        Nutcracker.Repository,
        Nutcracker.Commit,
        Nutcracker.LocalFolder,
        [Nutcracker.File("piqa", "test", "d6004885e20ebf2b5606cefd1447b8851dba3f3a954b7c80408456cb9d888610")],
        "AFL-3.0 (PIQA data; " + Nutcracker.PackagingLicence + ")",
        """
        @inproceedings{bisk2020piqa,
          title={Piqa: Reasoning about physical commonsense in natural language},
          author={Bisk, Yonatan and Zellers, Rowan and Gao, Jianfeng and Choi, Yejin and others},
          booktitle={Proceedings of the AAAI conference on artificial intelligence},
          volume={34},
          number={05},
          pages={7432--7439},
          year={2020}
        }
        """);

    public string FollowsLmEval => "lm_eval/tasks/piqa/piqa.yaml@4e7e0d4";

    public int ConversionVersion => 1;

    public ImmutableArray<string> Differences { get; } =
    [
        "Items come from nutcracker-db's piqa/test.json, which is PIQA's original validation set (valid.jsonl, 1,838 "
        + "items): the split lm-eval evaluates (validation_split). Fields are renamed (goal = centerpiece, sol1/sol2 = "
        + "options); item ids are the row index, as PIQA has none.",
    ];

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        var rows = Nutcracker.ReadRows(files, TestFile, expectedOptions: 2);
        var items = rows.Select(row =>
        {
            ImmutableArray<string> choices = [.. row.Options.Select(o => " " + o)];
            return Nutcracker.Item(Nutcracker.RowId(row.Index),
                [("goal", row.Centerpiece), ("sol1", row.Options[0]), ("sol2", row.Options[1])],
                choices[row.CorrectIndex], choices);
        }).ToImmutableArray();
        var definition = new SuiteDefinition(
            Name, 1, SuiteKind.Open, Description, RequestKind.LogLikelihood,
            new PromptTemplate("Question: {{goal}}\nAnswer:", null, [], "\n"),
            null, Nutcracker.ChoiceScorer(), null, ImmutableSortedDictionary<string, string>.Empty);
        return [new ConvertedSuite(definition, items)];
    }
}
