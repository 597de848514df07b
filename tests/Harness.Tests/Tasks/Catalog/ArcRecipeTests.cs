using System.Text.Json;
using Harness.Core.Suites;
using Harness.Tasks.Catalog;
using Harness.Tests.Models;
using Harness.Tests.Suites;

namespace Harness.Tests.Tasks.Catalog;

/// <summary>The ARC recipes on the real upstream files (../shared/datasets/nutcracker-db).</summary>
public sealed class ArcRecipeTests
{
    private static VerifiedRecipeFiles Files(IBenchmarkRecipe recipe) =>
        new LocalRecipeFileSource(SharedDatasets.Root).AcquireAsync(recipe, CancellationToken.None).GetAwaiter().GetResult();

    [RequiresSharedDatasetFact("nutcracker-db")]
    public void Arc_easy_converts_every_test_row_with_lm_evals_prompt_and_choices()
    {
        var recipe = BenchmarkCatalog.Find("arc-easy")!;

        var suite = Assert.Single(recipe.Convert(Files(recipe), CancellationToken.None));

        Assert.Equal("arc-easy", suite.Definition.Name);
        Assert.Equal(2376, suite.Items.Length);
        var first = suite.Items[0];
        Assert.Equal("0000", first.Id);
        Assert.Equal("Which statement best explains why photosynthesis is the foundation of most food webs?", first.Fields["question"].GetString());
        Assert.Equal(
            [" Sunlight is the source of energy for nearly all ecosystems.", " Most ecosystems are found on land instead of in water.",
             " Carbon dioxide is more available than other gases.", " The producers in all ecosystems are plants."],
            first.Choices.ToArray());
        Assert.Equal(" Sunlight is the source of energy for nearly all ecosystems.", first.Target);
        Assert.Equal("2375", suite.Items[^1].Id);
        // lm-eval's doc_to_text "Question: {{question}}\nAnswer:", 0-shot, no description.
        Assert.Equal(
            "Question: Which statement best explains why photosynthesis is the foundation of most food webs?\nAnswer:",
            PromptRenderer.Render(suite.Definition.Prompt, first).PlainText);
        Assert.Equal(RequestKind.LogLikelihood, suite.Definition.Request);
        Assert.Equal("choice", Assert.Single(suite.Definition.Scorers).Name);
        Assert.Equal(SuiteKind.Fixed, suite.Definition.Kind);
        Assert.Equal(0.75, suite.Definition.Requirement!.MinPassRate);
        Assert.All(suite.Items, i => Assert.Contains(i.Target, i.Choices));
        Assert.All(suite.Items, i => Assert.All(i.Choices, c => Assert.StartsWith(" ", c, StringComparison.Ordinal)));
    }

    [RequiresSharedDatasetFact("nutcracker-db")]
    public void Arc_challenge_converts_every_test_row()
    {
        var recipe = BenchmarkCatalog.Find("arc-challenge")!;

        var suite = Assert.Single(recipe.Convert(Files(recipe), CancellationToken.None));

        Assert.Equal("arc-challenge", suite.Definition.Name);
        Assert.Equal(1172, suite.Items.Length);
        Assert.Equal(0.5, suite.Definition.Requirement!.MinPassRate);
        Assert.Equal("lm_eval/tasks/arc/arc_challenge.yaml@4e7e0d4", recipe.FollowsLmEval);
    }

    [RequiresSharedDatasetFact("nutcracker-db")]
    public void Two_conversions_write_the_same_bytes()
    {
        var recipe = BenchmarkCatalog.Find("arc-easy")!;
        var files = Files(recipe);

        var first = CatalogWriter.RenderFiles(recipe, recipe.Convert(files, CancellationToken.None)[0]);
        var second = Culture.Under("de-DE", () => CatalogWriter.RenderFiles(recipe, recipe.Convert(files, CancellationToken.None)[0]));

        Assert.Equal(["SOURCE.md", "items.jsonl", "suite.yaml"], first.Keys);
        Assert.All(first, f => Assert.Equal(f.Value, second[f.Key]));
        var note = System.Text.Encoding.UTF8.GetString(first["SOURCE.md"]);
        Assert.Contains("| db/arc-easy/test.json | df89c8d6873908128ea39e0eb007bb1f0cc0e1c28f3877447da17b1c57372b4f |", note, StringComparison.Ordinal);
        Assert.Contains("95fa9aa468d4d0e179e2e950cc68cd5058463503", note, StringComparison.Ordinal);
        Assert.Contains("CC-BY-SA-4.0", note, StringComparison.Ordinal);
        Assert.Contains("Clark, Peter", note, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not json", "db/arc-easy/test.json:2: not a JSON object")]
    [InlineData("{\"options\": [\"a\", \"b\"], \"correct_options_idx\": [0]}", "db/arc-easy/test.json:2: 'centerpiece'")]
    [InlineData("{\"centerpiece\": \"q\", \"options\": [\"a\"], \"correct_options_idx\": [0]}", "db/arc-easy/test.json:2: 'options'")]
    [InlineData("{\"centerpiece\": \"q\", \"options\": [\"a\", \"a\"], \"correct_options_idx\": [0]}", "db/arc-easy/test.json:2: two options are the same")]
    [InlineData("{\"centerpiece\": \"q\", \"options\": [\"a\", \"b\"], \"correct_options_idx\": [2]}", "db/arc-easy/test.json:2: 'correct_options_idx'")]
    [InlineData("{\"centerpiece\": \"q\", \"options\": [\"a\", \"b\"], \"correct_options_idx\": [0, 1]}", "db/arc-easy/test.json:2: 'correct_options_idx'")]
    public void A_malformed_row_names_file_and_line(string row, string expected)
    {
        var good = "{\"centerpiece\": \"q\", \"options\": [\"a\", \"b\"], \"correct_options_idx\": [1]}";
        using var folder = new TempFolder();
        var path = folder.Write("test.json", good + "\n" + row + "\n");

        var error = Assert.Throws<InvalidDataException>(() => ArcRecipe.Easy.Convert(new OneFile("db/arc-easy/test.json", path), CancellationToken.None));

        Assert.StartsWith(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_recipes_are_in_the_catalogue_with_pinned_sources()
    {
        var easy = BenchmarkCatalog.Find("arc-easy")!;
        var challenge = BenchmarkCatalog.Find("arc-challenge")!;

        Assert.Equal("brucewlee/nutcracker-db", easy.Source.Repository);
        Assert.Equal("db/arc-easy/test.json", Assert.Single(easy.Source.Files).Path);
        Assert.Equal("arc-challenge/test.json", Assert.Single(challenge.Source.Files).LocalPath);
        Assert.All([easy, challenge], r => Assert.Matches("^[0-9a-f]{40}$", r.Source.Commit));
        Assert.All([easy, challenge], r => Assert.Matches("^[0-9a-f]{64}$", r.Source.Files[0].Sha256));
        Assert.Equal(["arc-easy"], easy.SuiteNames.ToArray());
    }

    private sealed class OneFile(string declared, string path) : IRecipeFiles
    {
        public Stream Open(string requested) =>
            requested == declared ? File.OpenRead(path) : throw new FileNotFoundException(requested);
    }
}
