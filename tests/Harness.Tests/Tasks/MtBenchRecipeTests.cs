using System.Collections.Immutable;
using System.Security.Cryptography;
using Harness.Core.Judging;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tasks.Catalog;
using Harness.Tasks.Catalog.Recipes;

namespace Harness.Tests.Tasks;

public sealed class MtBenchRecipeTests : IDisposable
{
    private readonly string _tasks = Path.Combine(Path.GetTempPath(), "harness-mtbench-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(_tasks))
        {
            Directory.Delete(_tasks, recursive: true);
        }
    }

    /// <summary>The recipe's files from the shared local copy, each checked against its pinned sha256.</summary>
    internal sealed class LocalRecipeFiles(IBenchmarkRecipe recipe, string datasetsRoot) : IRecipeFiles
    {
        public Stream Open(string path)
        {
            var file = recipe.Source.Files.FirstOrDefault(f => f.Path == path) ?? throw new FileNotFoundException($"not a file of the recipe: {path}");
            var bytes = File.ReadAllBytes(Path.Combine(datasetsRoot, recipe.Source.LocalFolder, file.LocalPath));
            var sha = Convert.ToHexStringLower(SHA256.HashData(bytes));
            return sha == file.Sha256 ? new MemoryStream(bytes, writable: false) : throw new InvalidDataException($"{path}: sha256 {sha}, expected {file.Sha256}");
        }
    }

    /// <summary>Writes a converted suite with the project's suite writer.</summary>
    internal sealed class Converted(ConvertedSuite suite) : ITaskGenerator
    {
        public SuiteDefinition Definition => suite.Definition;

        public ImmutableArray<SuiteItem> GenerateEvaluation() => suite.Items;

        public IEnumerable<TrainingExample> GenerateTraining(int seed, int count) => [];
    }

    private static ConvertedSuite ConvertShared()
    {
        var recipe = new MtBenchRecipe();
        return Assert.Single(recipe.Convert(new LocalRecipeFiles(recipe, SharedDatasets.Root), CancellationToken.None));
    }

    [RequiresSharedDatasetFact("mt_bench")]
    public void The_real_files_convert_to_80_two_turn_items_with_references_for_math_reasoning_and_coding()
    {
        var converted = ConvertShared();

        Assert.Equal(80, converted.Items.Length);
        var first = converted.Items[0];
        Assert.Equal("81", first.Id);
        Assert.Equal("writing", first.Fields["category"].GetString());
        Assert.Equal("Compose an engaging travel blog post about a recent trip to Hawaii, highlighting cultural experiences and must-see attractions.",
            first.Fields["turn_1"].GetString());
        Assert.Equal("Rewrite your previous response. Start every sentence with the letter A.", first.Fields["turn_2"].GetString());
        Assert.False(first.Fields.ContainsKey("ref_answer_1"));
        var referenced = converted.Items.Where(i => i.Fields.ContainsKey("ref_answer_1")).ToList();
        Assert.Equal(30, referenced.Count);
        Assert.All(referenced, i => Assert.Contains(i.Fields["category"].GetString(), MtBenchPrompts.DefaultReferenceCategories));
        var q101 = converted.Items.Single(i => i.Id == "101");
        Assert.StartsWith("If you have just overtaken the second person, your current position is now second place.", q101.Fields["ref_answer_1"].GetString(), StringComparison.Ordinal);
        Assert.StartsWith("If you have just overtaken the last person", q101.Fields["ref_answer_2"].GetString(), StringComparison.Ordinal);
        Assert.Equal(["{{turn_2}}"], converted.Definition.Prompt.Followups.AsEnumerable());
        Assert.Equal(SuiteKind.Open, converted.Definition.Kind);
    }

    [RequiresSharedDatasetFact("mt_bench")]
    public void The_written_suite_loads_and_its_judge_reads_the_copied_prompts_file()
    {
        var converted = ConvertShared();
        TaskWriter.Write(new Converted(converted), _tasks);
        var directory = Path.Combine(_tasks, "mt-bench");

        var suite = SuiteLoader.Load(directory);
        var spec = JudgeSpec.Parse(suite.Scorers[0].Arguments, suite.Directory);

        Assert.Equal(80, suite.Items.Length);
        Assert.Equal(2, suite.Prompt.TurnCount);
        Assert.Equal(File.ReadAllBytes(SharedDatasets.PathOf(Path.Combine("mt_bench", "judge_prompts.jsonl"))),
            File.ReadAllBytes(Path.Combine(directory, MtBenchRecipe.JudgePromptsFile)));
        Assert.Equal((JudgeMode.MtBench, MtBenchRecipe.DefaultJudgeModelId), (spec.Mode, spec.JudgeModelId));
        Assert.Empty(SuiteValidator.Validate(directory, [new JudgeScorerFactory()]));
        var turn2 = PromptRenderer.RenderTurn(suite.Prompt, suite.Items[0], ["ANSWER"]);
        Assert.Equal(suite.Items[0].Fields["turn_1"].GetString() + "ANSWER\n" + suite.Items[0].Fields["turn_2"].GetString(), turn2.PlainText);
    }

    [Fact]
    public void The_recipe_is_in_the_catalogue_and_names_what_it_follows()
    {
        var recipe = Assert.IsType<MtBenchRecipe>(BenchmarkCatalog.Find("mt-bench"));

        Assert.Equal("lm-sys/FastChat", recipe.Source.Repository);
        Assert.Equal(3, recipe.Source.Files.Length);
        Assert.Contains("fastchat/llm_judge/gen_judgment.py@0e6d3e4", recipe.FollowsLmEval, StringComparison.Ordinal);
    }
}
