using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Scoring.IfEval;
using Harness.Scoring.Onnx;

namespace Harness.Cli.Scoring;

/// <summary>
/// The CLI's scorer registry: the core's built-in scorers plus the ONNX embedding-similarity scorer and IFEval's
/// instruction checks. The MiniLM model and IFEval's language detector load on the first item they score, so a run
/// without such a suite never reads them. Dispose releases the ONNX session.
/// </summary>
internal sealed class HarnessScorers : IDisposable
{
    private readonly EmbeddingSimilarityScorerFactory _embedding = new(new MiniLmOptions());

    public HarnessScorers() => Registry = new ScorerRegistry([.. ScorerRegistry.Default.Factories, _embedding, new IfEvalScorerFactory()]);

    public ScorerRegistry Registry { get; }

    /// <summary>
    /// Versions of scorer models the suites use, for run.json: the MiniLM carrier and its model's sha256 when a suite
    /// scores with <c>embedding_similarity</c> (this loads the model once), and the language detector's version when
    /// a suite scores with <c>ifeval</c> (its verdicts on language instructions depend on it).
    /// </summary>
    public ImmutableSortedDictionary<string, string> VersionsFor(IEnumerable<Suite> suites)
    {
        var versions = ImmutableSortedDictionary<string, string>.Empty;
        var list = suites.ToList();
        if (list.Any(s => s.Scorers.Any(spec => spec.Name == IfEvalScorerFactory.ScorerName)))
        {
            versions = versions.Add("scorer.ifeval.language_detector", LinguaLanguageDetector.Version);
        }

        if (!list.Any(s => s.Scorers.Any(spec => spec.Name == EmbeddingSimilarityScorer.ScorerName)) || _embedding.Model is not { } model)
        {
            return versions;
        }

        return versions
            .Add("scorer.embedding_similarity.model", model.Name)
            .Add("scorer.embedding_similarity.carrier", $"{model.CarrierPackage} {model.CarrierVersion}")
            .Add("scorer.embedding_similarity.sha256", model.Sha256)
            .Add("scorer.embedding_similarity.max_tokens", model.MaxTokens.ToString(CultureInfo.InvariantCulture));
    }

    public void Dispose() => _embedding.Dispose();
}
