using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using Harness.Core.Gguf;
using Harness.Forge.Training;
using Harness.Tasks;

namespace Harness.Forge;

/// <summary>A recipe that trains, so it can report progress while it runs (hours for the larger ones).</summary>
public interface ITrainingForgeRecipe : IForgeRecipe
{
    /// <summary>The number of optimizer steps the recipe runs.</summary>
    int Steps { get; }

    /// <summary>Like <see cref="IForgeRecipe.BuildAsync"/>, reporting after every optimizer step.</summary>
    Task<ForgeResult> BuildAsync(string outputPath, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken);
}

/// <summary>What a training recipe trains on and how.</summary>
/// <param name="Tasks">Names of the shipped task generators whose training examples make the corpus, in this order.</param>
/// <param name="ExamplesPerTask">Training examples drawn per task with <see cref="TrainedForgeRecipe.Seed"/>.</param>
/// <param name="Training">Everything but the sequence length, which the recipe derives from its corpus.</param>
public sealed record TrainedRecipeSpec(
    string Name,
    string Description,
    ImmutableArray<string> Tasks,
    int ExamplesPerTask,
    LlamaTrainingOptions Training);

/// <summary>
/// Trains a character-level llama from scratch on the shipped tasks' training examples (never their evaluation
/// items) with ggml-opt, and writes it as an F32 GGUF. The loss covers each example's answer and stop sequence
/// only: the prompts are given, the model need not learn to invent them. Deterministic for a given ggml build and
/// CPU variant at one thread: the same bytes on every such machine.
/// </summary>
public sealed class TrainedForgeRecipe(TrainedRecipeSpec spec) : ITrainingForgeRecipe
{
    public const int Seed = 1;

    public TrainedRecipeSpec Spec => spec;

    public string Name => spec.Name;

    public string Description => spec.Description;

    public string DefaultFileName => spec.Name + ".gguf";

    public int Steps => spec.Training.Steps;

    /// <summary>The checkpoint written during training, next to the output; removed once the output is written.</summary>
    public static string CheckpointPath(string outputPath) => outputPath + ".checkpoint.gguf";

    public Task<ForgeResult> BuildAsync(string outputPath, CancellationToken cancellationToken) =>
        BuildAsync(outputPath, progress: null, cancellationToken);

    public Task<ForgeResult> BuildAsync(string outputPath, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken) =>
        Task.Factory.StartNew(() => Build(outputPath, progress, cancellationToken), cancellationToken, TaskCreationOptions.LongRunning, TaskScheduler.Default);

    /// <summary>The corpus in its fixed order: per task in <see cref="TrainedRecipeSpec.Tasks"/>, its examples drawn with <see cref="Seed"/>.</summary>
    /// <exception cref="ArgumentException">A task name no generator has.</exception>
    public ImmutableArray<TrainingExample> Corpus(CancellationToken cancellationToken)
    {
        var generators = TaskWriter.Generators().ToDictionary(g => g.Definition.Name, StringComparer.Ordinal);
        var corpus = ImmutableArray.CreateBuilder<TrainingExample>();
        foreach (var task in spec.Tasks)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!generators.TryGetValue(task, out var generator))
            {
                throw new ArgumentException($"Recipe '{spec.Name}' names task '{task}'; known: {string.Join(", ", generators.Keys)}.");
            }

            corpus.AddRange(generator.GenerateTraining(Seed, spec.ExamplesPerTask));
        }

        return corpus.ToImmutable();
    }

    /// <summary>BOS + prompt + answer + stop sequence + EOS per example, the loss starting after the prompt.</summary>
    /// <exception cref="InvalidOperationException">An example whose text does not start with its prompt.</exception>
    public static ImmutableArray<TrainingDocument> Documents(CharVocabulary vocabulary, IEnumerable<TrainingExample> corpus) =>
    [
        .. corpus.Select(e => e.Text.StartsWith(e.Prompt, StringComparison.Ordinal)
            ? TrainingDocument.FromText(vocabulary, e.Prompt, e.Text[e.Prompt.Length..], targetOnly: true)
            : throw new InvalidOperationException($"Training example '{e.Key}': its text does not start with its prompt.")),
    ];

    /// <summary>The shortest multiple of 8 that fits every document (a row holds one more token than the width).</summary>
    public static int SequenceLengthFor(IEnumerable<TrainingDocument> documents) => (documents.Max(d => d.Tokens.Length) - 1 + 7) / 8 * 8;

    private ForgeResult Build(string outputPath, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var corpus = Corpus(cancellationToken);
        var vocabulary = CharVocabulary.Create(CharVocabulary.PrintableAscii);
        var documents = Documents(vocabulary, corpus);
        var options = spec.Training with { SequenceLength = SequenceLengthFor(documents) };
        var sha256 = TrainingData.Sha256(corpus.Select(e => e.Text));

        using var trainer = new LlamaTrainer(options, vocabulary, new Random(Seed), TimeProvider.System);
        var checkpoint = new TrainingCheckpoint(CheckpointPath(outputPath), spec.Name);
        var summary = trainer.Train(documents, new Random(Seed + 1), progress, checkpoint, cancellationToken);

        // No timings in the file: the same recipe must give the same bytes. They go to the result instead.
        trainer.WriteGguf(outputPath, spec.Name, GgmlType.F32,
        [
            new("harness.recipe", GgufValue.String(spec.Name)),
            new("harness.train.seed", GgufValue.UInt32(Seed)),
            new("harness.train.tasks", GgufValue.String(string.Join(",", spec.Tasks))),
            new("harness.train.examples", GgufValue.UInt32((uint)corpus.Length)),
            new("harness.train.data_sha256", GgufValue.String(sha256)),
            new("harness.train.loss", GgufValue.String("cross-entropy on answer + stop sequence + EOS")),
            new("harness.train.final_loss", GgufValue.String(summary.FinalLoss.ToString("R", CultureInfo.InvariantCulture))),
            new("harness.train.target_tokens", GgufValue.UInt64((ulong)summary.TargetTokens)),
            new("harness.train.ggml", GgufValue.String("ggml-opt AdamW, llama.cpp c0c7e14 libggml-cpu " + Native.GgmlLibrary.EnsureLoaded().Variant)),
        ]);
        File.Delete(CheckpointPath(outputPath));
        return new ForgeResult(spec.Name, outputPath, Seed, corpus.Length, sha256, clock.Elapsed, new FileInfo(outputPath).Length, summary);
    }
}

/// <summary>Hashes of training corpora, recorded as provenance.</summary>
internal static class TrainingData
{
    /// <summary>SHA-256 over every text's UTF-8 bytes, each followed by a 0 byte, lower-case hex.</summary>
    public static string Sha256(IEnumerable<string> texts)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var text in texts)
        {
            hash.AppendData(System.Text.Encoding.UTF8.GetBytes(text));
            hash.AppendData([0]);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
