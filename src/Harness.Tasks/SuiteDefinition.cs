using System.Collections.Immutable;
using Harness.Core.Suites;

namespace Harness.Tasks;

/// <summary>
/// Everything suite.yaml says, as the generator means it. <see cref="TaskWriter"/> writes it out and a test loads
/// it back with <see cref="SuiteLoader"/>, so the training format and the evaluation format cannot drift apart.
/// </summary>
/// <param name="Generation">Null for <see cref="RequestKind.LogLikelihood"/> suites (nothing is generated).</param>
/// <param name="ExtraFiles">Further files of the suite folder (e.g. <c>schema.json</c>): name to exact text.</param>
public sealed record SuiteDefinition(
    string Name,
    int Version,
    SuiteKind Kind,
    string Description,
    RequestKind Request,
    PromptTemplate Prompt,
    GenerationSettings? Generation,
    ImmutableArray<ScorerSpec> Scorers,
    Requirement? Requirement,
    ImmutableSortedDictionary<string, string> ExtraFiles);

/// <summary>
/// One training example in the exact evaluation format.
/// </summary>
/// <param name="Key">Canonical problem key; never equal to the key of an evaluation item.</param>
/// <param name="Prompt">The prompt's plain-text rendering, as the suite renders it for a base model.</param>
/// <param name="Text">
/// <paramref name="Prompt"/> + <paramref name="Target"/> + the suite's first stop sequence (<c>"\n"</c> when it has
/// none), so a model learns to stop where evaluation cuts the output.
/// </param>
public sealed record TrainingExample(string Key, string Prompt, string Target, string Text);

/// <summary>A deterministic source of one suite's evaluation items and of training data disjoint from them.</summary>
public interface ITaskGenerator
{
    SuiteDefinition Definition { get; }

    /// <summary>The suite's items; the same on every call, machine and culture.</summary>
    ImmutableArray<SuiteItem> GenerateEvaluation();

    /// <summary>
    /// <paramref name="count"/> training examples drawn with a <see cref="Random"/> seeded by <paramref name="seed"/>.
    /// Problems whose canonical key belongs to an evaluation item are skipped; other problems may repeat.
    /// </summary>
    IEnumerable<TrainingExample> GenerateTraining(int seed, int count);
}
