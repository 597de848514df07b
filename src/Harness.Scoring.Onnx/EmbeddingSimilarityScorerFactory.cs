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

    public ScorerDescription Description { get; } = new(
        EmbeddingSimilarityScorer.ScorerName,
        "Graded: cosine similarity of output and target under all-MiniLM-L6-v2 on ONNX Runtime, clamped to [0, 1]; "
        + "flexible value on the first non-empty line. Details below.",
        [new(ThresholdArgument, ScorerArgumentType.Number, "a number from 0 to 1: the item passes (1) at this similarity or above, else 0; none: the similarity itself is the score")],
        """{"threshold": 0.8}""");

    /// <exception cref="ScorerArgumentException">An unknown argument, or a threshold that is not a number in [0, 1].</exception>
    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        var args = new ScorerArguments(Description, arguments);
        double? threshold = null;
        if (args.Raw(ThresholdArgument) is { } value)
        {
            if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !(number is >= 0 and <= 1))
            {
                var got = value.ValueKind == JsonValueKind.String ? $"\"{value.GetString()}\"" : value.GetRawText();
                throw args.Invalid(ThresholdArgument, $"must be a number from 0 to 1, got {got}");
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
}
