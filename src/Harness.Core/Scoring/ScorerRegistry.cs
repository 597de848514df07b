using System.Collections.Immutable;
using Harness.Core.Suites;

namespace Harness.Core.Scoring;

/// <summary>Scorer factories by name; suites refer to scorers only through these names.</summary>
public sealed class ScorerRegistry
{
    private readonly ImmutableSortedDictionary<string, IScorerFactory> factories;

    /// <exception cref="ArgumentException">Two factories share a name.</exception>
    public ScorerRegistry(IEnumerable<IScorerFactory> factories)
    {
        var builder = ImmutableSortedDictionary.CreateBuilder<string, IScorerFactory>(StringComparer.Ordinal);
        foreach (var factory in factories)
        {
            if (!builder.TryAdd(factory.Name, factory))
            {
                throw new ArgumentException($"two scorer factories are named '{factory.Name}'", nameof(factories));
            }
        }

        this.factories = builder.ToImmutable();
    }

    /// <summary>The built-in scorers: exact, regex, numeric, choice, json, similarity, token_f1, extract_match (lm-eval's
    /// regex filter + exact_match), and judge (a model
    /// from the manifest grades after the run; see <see cref="Judging.JudgePass"/>).</summary>
    public static ScorerRegistry Default { get; } = new(
    [
        new ExactScorerFactory(),
        new RegexScorerFactory(),
        new NumericScorerFactory(),
        new ChoiceScorerFactory(),
        new JsonScorerFactory(),
        new SimilarityScorerFactory(),
        new TokenF1ScorerFactory(),
        new ExtractMatchScorerFactory(),
        new Judging.JudgeScorerFactory(),
    ]);

    /// <summary>Registered names, sorted.</summary>
    public IEnumerable<string> Names => factories.Keys;

    /// <summary>Registered factories, sorted by name (the suite validator checks scorer arguments with them).</summary>
    public IEnumerable<IScorerFactory> Factories => factories.Values;

    /// <summary>Builds the scorer <paramref name="spec"/> names with its arguments.</summary>
    /// <param name="suiteDirectory">Folder of the suite; arguments naming files resolve against it.</param>
    /// <exception cref="ScorerArgumentException">Unknown scorer name (the message lists the known ones) or bad arguments.</exception>
    public IScorer Create(ScorerSpec spec, string suiteDirectory)
    {
        if (!factories.TryGetValue(spec.Name, out var factory))
        {
            throw new ScorerArgumentException($"unknown scorer '{spec.Name}'; known scorers: {string.Join(", ", factories.Keys)}");
        }

        return factory.Create(spec.Arguments, suiteDirectory);
    }
}
