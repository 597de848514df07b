using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Harness.Core.Suites;

namespace Harness.Tasks;

/// <summary>
/// The shared shape of a generator: sample a problem from a seeded <see cref="Random"/>, name it by a canonical
/// key, and turn it into an item. Evaluation items are the first distinct keys drawn from a fixed seed.
/// </summary>
public abstract class TaskGenerator<TProblem> : ITaskGenerator
    where TProblem : notnull
{
    /// <summary>Items per suite: enough for a useful confidence bound, small enough for tiny-model runs.</summary>
    public const int EvaluationItemCount = 200;

    public abstract SuiteDefinition Definition { get; }

    /// <summary>Seed of the evaluation draw. Changing it changes every item, so bump the suite version with it.</summary>
    protected abstract int EvaluationSeed { get; }

    protected abstract TProblem Sample(Random random);

    /// <summary>Two problems with the same key count as the same problem for train/eval disjointness.</summary>
    protected abstract string KeyOf(TProblem problem);

    protected abstract SuiteItem ToItem(string id, TProblem problem);

    public ImmutableArray<SuiteItem> GenerateEvaluation() =>
        [.. EvaluationProblems().Select((p, i) => ToItem((i + 1).ToString("D3", CultureInfo.InvariantCulture), p))];

    public IEnumerable<TrainingExample> GenerateTraining(int seed, int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var evaluationKeys = EvaluationKeys();
        var random = new Random(seed);
        var terminator = Definition.Generation is { Stop: [var first, ..] } ? first : "\n";
        for (var produced = 0; produced < count;)
        {
            var problem = Sample(random);
            var key = KeyOf(problem);
            if (evaluationKeys.Contains(key))
            {
                continue;
            }
            var item = ToItem($"train-{produced.ToString(CultureInfo.InvariantCulture)}", problem);
            var prompt = PromptRenderer.Render(Definition.Prompt, item).PlainText;
            var target = item.Target ?? throw new InvalidOperationException($"{Definition.Name}: generated item has no target");
            produced++;
            yield return new TrainingExample(key, prompt, target, prompt + target + terminator);
        }
    }

    /// <summary>Canonical keys of the evaluation items.</summary>
    public IReadOnlySet<string> EvaluationKeys() => EvaluationProblems().Select(KeyOf).ToHashSet(StringComparer.Ordinal);

    /// <summary>Keys of raw, unfiltered draws; tests use it to show the training filter actually has work to do.</summary>
    internal IEnumerable<string> SampleKeys(int seed, int count)
    {
        var random = new Random(seed);
        for (var i = 0; i < count; i++)
        {
            yield return KeyOf(Sample(random));
        }
    }

    private ImmutableArray<TProblem> EvaluationProblems()
    {
        var random = new Random(EvaluationSeed);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var problems = ImmutableArray.CreateBuilder<TProblem>(EvaluationItemCount);
        // A generous bound turns a too-small problem space into an error instead of a hang.
        for (var attempts = 0; problems.Count < EvaluationItemCount; attempts++)
        {
            if (attempts > EvaluationItemCount * 1000)
            {
                throw new InvalidOperationException($"{Definition.Name}: could not draw {EvaluationItemCount} distinct problems");
            }
            var problem = Sample(random);
            if (keys.Add(KeyOf(problem)))
            {
                problems.Add(problem);
            }
        }
        return problems.MoveToImmutable();
    }

    /// <summary>Field and argument values as the loader produces them from JSON.</summary>
    protected static JsonElement Json<T>(T value) => JsonSerializer.SerializeToElement(value);

    protected static ImmutableSortedDictionary<string, JsonElement> Fields(params (string Name, JsonElement Value)[] fields) =>
        fields.ToImmutableSortedDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal);

    protected static ImmutableArray<ScorerSpec> Scorer(string name, params (string Name, JsonElement Value)[] arguments) =>
        [new ScorerSpec(name, Fields(arguments))];

    protected static ImmutableSortedDictionary<string, string> NoExtraFiles =>
        ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    protected static PromptTemplate Template(string template) => new(template, null, [], "\n");
}
