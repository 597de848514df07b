using System.Collections.Immutable;
using System.Diagnostics;
using Harness.Core.Gguf;
using Harness.Forge.Training;
using Harness.Tasks;

namespace Harness.Forge;

/// <summary>What a recipe produced, for the manifest's provenance fields.</summary>
/// <param name="Training">Steps, losses and training time of a recipe that trains; null for closed-form ones.</param>
public sealed record ForgeResult(
    string Recipe,
    string OutputPath,
    int Seed,
    int TrainingExamples,
    string TrainingDataSha256,
    TimeSpan BuildTime,
    long FileSizeBytes,
    TrainingSummary? Training = null);

/// <summary>A named, reproducible way to build one of the project's own models.</summary>
public interface IForgeRecipe
{
    string Name { get; }

    string Description { get; }

    /// <summary>The file name the shipped model uses under <c>models/</c>.</summary>
    string DefaultFileName { get; }

    Task<ForgeResult> BuildAsync(string outputPath, CancellationToken cancellationToken);
}

/// <summary>The recipes that <c>harness forge --recipe NAME</c> knows.</summary>
public static class ForgeRecipes
{
    public static ImmutableArray<IForgeRecipe> All { get; } =
    [
        new BigramForgeRecipe("tiny-bigram", GgmlType.F16),
        new BigramForgeRecipe("tiny-bigram-f32", GgmlType.F32),
        new TrainedForgeRecipe(TrainedRecipes.ArithTiny),
        new TrainedForgeRecipe(TrainedRecipes.ArithSmall),
        new TrainedForgeRecipe(TrainedRecipes.MultiSmall),
        new TrainedForgeRecipe(TrainedRecipes.MultiMedium),
        RandomWeightsRecipe.Bench113M,
    ];

    public static IForgeRecipe? Find(string name) => All.FirstOrDefault(r => r.Name == name);
}

/// <summary>
/// The closed-form character bigram over the training texts of every shipped task (never their evaluation
/// items: the generators keep the two disjoint). Deterministic: the same bytes on every machine.
/// </summary>
public sealed class BigramForgeRecipe(string name, GgmlType matrixType) : IForgeRecipe
{
    public const int Seed = 1;
    public const int ExamplesPerTask = 2000;

    public string Name => name;

    public string Description => $"character bigram fitted in closed form on {ExamplesPerTask} training texts per shipped task ({matrixType})";

    public string DefaultFileName => name + ".gguf";

    public Task<ForgeResult> BuildAsync(string outputPath, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var corpus = TrainingCorpus(cancellationToken);
        var model = BigramRecipe.Build(corpus, BigramOptions.Default with { MatrixType = matrixType, Name = name });
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(outputPath))!);
        model.WriteFile(outputPath);
        return Task.FromResult(new ForgeResult(name, outputPath, Seed, corpus.Count, Sha256(corpus), clock.Elapsed, new FileInfo(outputPath).Length));
    }

    /// <summary>The training texts, in a fixed order: every generator's examples drawn with <see cref="Seed"/>.</summary>
    public static IReadOnlyList<string> TrainingCorpus(CancellationToken cancellationToken)
    {
        var corpus = new List<string>();
        foreach (var generator in TaskWriter.Generators())
        {
            cancellationToken.ThrowIfCancellationRequested();
            corpus.AddRange(generator.GenerateTraining(Seed, ExamplesPerTask).Select(e => e.Text));
        }

        return corpus;
    }

    private static string Sha256(IReadOnlyList<string> corpus) => TrainingData.Sha256(corpus);
}
