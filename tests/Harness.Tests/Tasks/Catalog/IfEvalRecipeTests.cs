using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Scoring.IfEval;
using Harness.Tasks;
using Harness.Tasks.Catalog;
using Harness.Tasks.Catalog.Recipes;
using Harness.Tests.Suites;

namespace Harness.Tests.Tasks.Catalog;

/// <summary>The ifeval recipe on the real upstream file (../shared/datasets/ifeval), written and loaded as a suite and
/// scored through the registered scorer factory.</summary>
public sealed class IfEvalRecipeTests
{
    private const string Folder = "ifeval";

    /// <summary>The recipe's files from the shared copy, refused unless they hash as pinned.</summary>
    private sealed class LocalFiles(IBenchmarkRecipe recipe) : IRecipeFiles
    {
        public Stream Open(string path)
        {
            var file = recipe.Source.Files.SingleOrDefault(f => f.Path == path)
                ?? throw new FileNotFoundException($"{recipe.Name} declares no file {path}", path);
            var bytes = File.ReadAllBytes(SharedDatasets.PathOf(Path.Combine(recipe.Source.LocalFolder, file.LocalPath)));
            Assert.Equal(file.Sha256, Convert.ToHexStringLower(SHA256.HashData(bytes)));
            return new MemoryStream(bytes, writable: false);
        }
    }

    private static ConvertedSuite ConvertShared()
    {
        var recipe = new IfEvalRecipe();
        return Assert.Single(recipe.Convert(new LocalFiles(recipe), CancellationToken.None));
    }

    [Fact]
    public void Recipe_is_in_the_catalogue() => Assert.IsType<IfEvalRecipe>(BenchmarkCatalog.Find("ifeval"));

    [RequiresSharedDatasetFact(Folder)]
    public void Converts_the_540_upstream_rows_keeping_key_as_id_and_the_fields_as_given()
    {
        var suite = ConvertShared();

        Assert.Equal(540, suite.Items.Length);
        Assert.DoesNotContain(suite.Items, i => i.Id == "2785");
        var first = suite.Items[0];
        Assert.Equal("1000", first.Id);
        Assert.Null(first.Target);
        Assert.Equal(["instruction_id_list", "kwargs", "prompt"], first.Fields.Keys);
        Assert.StartsWith("Write a 300+ word summary of the wikipedia page \"https://en.wikipedia.org/wiki/Raymond_III,_Count_of_Tripoli\".",
            first.Fields["prompt"].GetString(), StringComparison.Ordinal);
        Assert.Equal("[\"punctuation:no_comma\", \"detectable_format:number_highlighted_sections\", \"length_constraints:number_words\"]",
            first.Fields["instruction_id_list"].GetRawText());
        Assert.Equal("[{}, {\"num_highlights\": 3}, {\"relation\": \"at least\", \"num_words\": 300}]", first.Fields["kwargs"].GetRawText());

        var definition = suite.Definition;
        Assert.Equal(SuiteKind.Fixed, definition.Kind);
        Assert.Equal("{{prompt}}", definition.Prompt.Template);
        Assert.Empty(definition.Prompt.FewShot);
        Assert.Equal(RequestKind.Generate, definition.Request);
        Assert.Equal((1280, 0.0, 0), (definition.Generation!.MaxTokens, definition.Generation.Temperature, definition.Generation.Seed));
        Assert.Empty(definition.Generation.Stop);
        Assert.Equal(IfEvalRecipe.DefaultMinPassRate, definition.Requirement!.MinPassRate);
        Assert.All(definition.Scorers, s => Assert.Equal("ifeval", s.Name));
        Assert.Equal(["prompt/strict", "prompt/loose", "instruction/strict", "instruction/loose"],
            definition.Scorers.Select(s => $"{s.Arguments["level"].GetString()}/{s.Arguments["mode"].GetString()}"));
    }

    [RequiresSharedDatasetFact(Folder)]
    public void Conversion_is_deterministic_under_any_culture()
    {
        var a = ConvertShared();
        var b = Culture.Under("de-DE", ConvertShared);
        Assert.Equal(SuiteYamlWriter.Write(a.Definition), SuiteYamlWriter.Write(b.Definition));
        Assert.Equal(TaskWriter.ItemsJsonl(a.Items), TaskWriter.ItemsJsonl(b.Items));
    }

    [RequiresSharedDatasetFact(Folder)]
    public void Every_item_names_registered_instructions_with_arguments_they_accept()
    {
        foreach (var item in ConvertShared().Items)
        {
            var ids = item.Fields["instruction_id_list"].EnumerateArray().Select(e => e.GetString()!).ToList();
            var kwargs = item.Fields["kwargs"].EnumerateArray().ToList();
            for (var i = 0; i < ids.Count; i++)
            {
                Assert.NotNull(InstructionRegistry.Create(ids[i], kwargs[i], new NoLanguages()));
            }
        }
    }

    [RequiresSharedDatasetFact(Folder)]
    public void Written_suite_loads_validates_and_scores_hand_written_responses()
    {
        var converted = ConvertShared();
        using var temp = new SuiteTestFiles();
        var directory = Path.Combine(temp.TasksDirectory, "ifeval");
        Directory.CreateDirectory(directory);
        var utf8 = new UTF8Encoding(false);
        File.WriteAllText(Path.Combine(directory, SuiteLoader.SuiteFileName), SuiteYamlWriter.Write(converted.Definition), utf8);
        File.WriteAllText(Path.Combine(directory, SuiteLoader.ItemsFileName), TaskWriter.ItemsJsonl(converted.Items), utf8);

        IScorerFactory[] factories = [.. ScorerRegistry.Default.Factories, new IfEvalScorerFactory()];
        Assert.Empty(SuiteValidator.Validate(directory, factories));
        var suite = SuiteLoader.Load(directory);
        Assert.Equal(540, suite.Items.Length);
        Assert.Equal(1280, suite.Generation.MaxTokens);
        Assert.Equal(TaskWriter.ItemsJsonl(converted.Items), TaskWriter.ItemsJsonl(suite.Items));
        Assert.Equal(converted.Items[0].Fields["prompt"].GetString(), PromptRenderer.Render(suite, suite.Items[0]).PlainText);

        var registry = new ScorerRegistry(factories);
        var scorers = suite.Scorers.Select(spec => registry.Create(spec, directory)).ToList();
        Assert.Equal(["ifeval.prompt_strict", "ifeval.prompt_loose", "ifeval.inst_strict", "ifeval.inst_loose"], scorers.Select(s => s.Name));

        // 1001: an itinerary in Shakespearean style without any comma.
        var item = suite.Items.Single(i => i.Id == "1001");
        Assert.Equal([1.0, 1.0, 1.0, 1.0], scorers.Select(s => s.Score(new ScoringInput(item, "Hark! On the first morn thou shalt see Tokyo.")).Value));
        Assert.Equal([0.0, 0.0, 0.0, 0.0], scorers.Select(s => s.Score(new ScoringInput(item, "Hark, Tokyo awaits.")).Value));

        // 1000: no comma, at least 3 highlighted sections, at least 300 words. 300 words with three highlights and
        // no comma follow all three; the same with a comma in a first line of its own follows all three only loosely.
        var words = string.Join(' ', Enumerable.Repeat("word", 294));
        var summary = $"*Early life* of Raymond *His rule* in Tripoli *His legacy* today {words}";
        item = suite.Items.Single(i => i.Id == "1000");
        Assert.Equal([1.0, 1.0, 1.0, 1.0], scorers.Select(s => s.Score(new ScoringInput(item, summary)).Value));
        var chatty = scorers.Select(s => s.Score(new ScoringInput(item, "Sure, here it is:\n" + summary))).ToList();
        Assert.Equal([0.0, 1.0, 2.0 / 3.0, 1.0], chatty.Select(s => s.Value));
        Assert.Equal(["2/3", "3/3", "2/3", "3/3"], chatty.Select(s => s.Answer));
    }

    [Fact]
    public void A_malformed_row_is_refused_with_file_and_line()
    {
        var recipe = new IfEvalRecipe();
        var files = new InMemoryFiles("{\"key\": 1, \"prompt\": \"p\", \"instruction_id_list\": [\"punctuation:no_comma\"], \"kwargs\": [{}]}\n"
            + "{\"key\": 2, \"prompt\": \"p\", \"instruction_id_list\": [\"punctuation:no_comma\"], \"kwargs\": []}\n");
        var error = Assert.Throws<InvalidDataException>(() => recipe.Convert(files, CancellationToken.None));
        Assert.Equal("data/input_data.jsonl:2: 'kwargs' must be a list of objects, one per instruction", error.Message);
    }

    private sealed class InMemoryFiles(string text) : IRecipeFiles
    {
        public Stream Open(string path) => new MemoryStream(Encoding.UTF8.GetBytes(text), writable: false);
    }

    private sealed class NoLanguages : ILanguageDetector
    {
        public bool IsLanguage(string text, string isoCode) => throw new InvalidOperationException("not asked while building");
    }
}
