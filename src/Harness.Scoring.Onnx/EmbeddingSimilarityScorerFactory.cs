using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Scoring;

namespace Harness.Scoring.Onnx;

/// <summary>
/// Builds <see cref="EmbeddingSimilarityScorer"/>s that share one embedder, loaded on the first score rather than at
/// <see cref="Create"/>, so validating a suite's arguments never reads the 90 MB model. Argument: <c>threshold</c>
/// (optional number in [0, 1]).
/// </summary>
public sealed class EmbeddingSimilarityScorerFactory : IScorerFactory, IDisposable
{
    public const string ThresholdArgument = "threshold";

    private readonly Lazy<ITextEmbedder> embedder;

    public EmbeddingSimilarityScorerFactory(MiniLmOptions options)
        : this(() => new MiniLmEmbedder(options))
    {
    }

    /// <summary>For tests: any embedder, still created once and only when first needed.</summary>
    public EmbeddingSimilarityScorerFactory(Func<ITextEmbedder> createEmbedder) =>
        embedder = new Lazy<ITextEmbedder>(createEmbedder, LazyThreadSafetyMode.ExecutionAndPublication);

    public string Name => EmbeddingSimilarityScorer.ScorerName;

    /// <summary>The shared embedder's model, loading it if no scorer has yet; null when the embedder is not MiniLM.</summary>
    public MiniLmModelInfo? Model => (embedder.Value as MiniLmEmbedder)?.Model;

    /// <exception cref="ArgumentException">An unknown argument, or a threshold that is not a number in [0, 1].</exception>
    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        foreach (var name in arguments.Keys)
        {
            if (name != ThresholdArgument)
            {
                throw new ArgumentException($"scorer '{Name}': unknown argument '{name}'; known arguments: {ThresholdArgument}", name);
            }
        }

        double? threshold = null;
        if (arguments.TryGetValue(ThresholdArgument, out var value))
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !(number is >= 0 and <= 1))
            {
                var got = value.ValueKind == JsonValueKind.String ? $"\"{value.GetString()}\"" : value.GetRawText();
                throw Invalid(ThresholdArgument, $"must be a number from 0 to 1, got {got}");
            }

            threshold = number;
        }

        return new EmbeddingSimilarityScorer(embedder, threshold);
    }

    public void Dispose()
    {
        if (embedder.IsValueCreated && embedder.Value is IDisposable disposable)
        {
            disposable.Dispose();
        }
    }

    // The argument's name as ParamName, like the built-in factories.
    private ArgumentException Invalid(string argument, string problem) =>
        new($"scorer '{Name}': argument '{argument}' {problem}", argument);
}
