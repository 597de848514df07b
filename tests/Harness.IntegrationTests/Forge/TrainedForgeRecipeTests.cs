using Harness.Core.Gguf;
using Harness.Forge;
using Harness.Forge.Training;

namespace Harness.IntegrationTests.Forge;

/// <summary>A training recipe end to end, shortened to a few steps: the file, its provenance, and no leftovers.</summary>
[Trait("Category", "Model")]
public sealed class TrainedForgeRecipeTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("harness-recipe-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task A_shortened_arith_recipe_writes_a_gguf_with_its_provenance()
    {
        var spec = TrainedRecipes.ArithSmall with
        {
            ExamplesPerTask = 200,
            Training = TrainedRecipes.ArithSmall.Training with { Steps = 12, WarmupSteps = 2, BatchSize = 8, CheckpointEverySteps = 5 },
        };
        var recipe = new TrainedForgeRecipe(spec);
        var path = Path.Combine(_folder, "arith.gguf");
        var steps = new List<int>();

        var result = await recipe.BuildAsync(path, new Recorder(p => steps.Add(p.Step)), CancellationToken.None);

        Assert.Equal(Enumerable.Range(1, 12), steps);
        Assert.False(File.Exists(TrainedForgeRecipe.CheckpointPath(path)));
        Assert.Equal(200, result.TrainingExamples);
        Assert.Equal(new FileInfo(path).Length, result.FileSizeBytes);
        var training = Assert.IsType<TrainingSummary>(result.Training);
        Assert.Equal(12, training.Steps);
        Assert.True(training.FinalLoss < training.FirstLoss);
        var file = GgufReader.Read(path);
        Assert.Equal("tiny-arith-s", file.GetString("harness.recipe"));
        Assert.Equal(result.TrainingDataSha256, file.GetString("harness.train.data_sha256"));
        Assert.Equal("16", file.GetString("harness.train.sequence_length"));
        Assert.Equal(12, file.GetInteger("harness.train.steps_done"));
        Assert.Equal(2, file.GetInteger("llama.block_count"));
    }

    private sealed class Recorder(Action<TrainingProgress> handler) : IProgress<TrainingProgress>
    {
        public void Report(TrainingProgress value) => handler(value);
    }
}
