using Harness.Core.Scoring;
using Harness.Scoring.Onnx;
using static Harness.Tests.Scoring.ScoringFixtures;

namespace Harness.Tests.Scoring;

/// <summary>The scorer's rules with canned unit vectors: no model is loaded (the real one is in the integration tests).</summary>
public sealed class EmbeddingSimilarityScorerTests
{
    [Theory]
    [InlineData("""{"threshold": 1.5}""", "threshold")]
    [InlineData("""{"threshold": -0.1}""", "threshold")]
    [InlineData("""{"threshold": "0.5"}""", "threshold")]
    [InlineData("""{"threshold": null}""", "threshold")]
    [InlineData("""{"treshold": 0.5}""", "treshold")]
    public void Bad_arguments_are_argument_exceptions_naming_the_argument(string json, string argument)
    {
        using var factory = new EmbeddingSimilarityScorerFactory(() => throw new InvalidOperationException("no model in unit tests"));

        var error = Assert.Throws<ScorerArgumentException>(() => factory.Create(Args(json), "."));

        Assert.Equal(argument, error.ParamName);
        Assert.StartsWith("scorer 'embedding_similarity': ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Creating_scorers_loads_nothing_and_scoring_loads_one_shared_embedder()
    {
        var created = 0;
        using var factory = new EmbeddingSimilarityScorerFactory(() =>
        {
            created++;
            return new CannedEmbedder();
        });

        var graded = factory.Create(Args(), ".");
        var binary = factory.Create(Args("""{"threshold": 0.5}"""), ".");
        Assert.Equal(0, created);

        graded.Score(Input("near", "target"));
        binary.Score(Input("near", "target"));
        Assert.Equal(1, created);
    }

    [Fact]
    public void Graded_value_is_the_cosine_and_negative_cosines_clamp_to_zero()
    {
        var scorer = new EmbeddingSimilarityScorer(new CannedEmbedder());

        var near = scorer.Score(Input("near", "target"));
        var opposite = scorer.Score(Input("opposite", "target"));

        Assert.Equal(0.8, near.Value, 1e-6);
        Assert.Equal("embedding similarity 0.8 to \"target\"", near.Explanation);
        Assert.Equal(0.0, opposite.Value);
        Assert.Equal("embedding_similarity", near.Scorer);
    }

    [Fact]
    public void Threshold_is_binary_with_the_cosine_in_the_explanation_under_any_culture()
    {
        var scorer = new EmbeddingSimilarityScorer(new CannedEmbedder(), threshold: 0.75);

        var pass = UnderGermanCulture(() => scorer.Score(Input("near", "target")));
        var fail = UnderGermanCulture(() => scorer.Score(Input("far", "target")));

        Assert.Equal(1.0, pass.Value);
        Assert.Equal("embedding similarity 0.8 >= threshold 0.75 to \"target\"", pass.Explanation);
        Assert.Equal(0.0, fail.Value);
        Assert.Equal("embedding similarity 0.6 < threshold 0.75 to \"target\"", fail.Explanation);
    }

    [Fact]
    public void First_non_empty_line_is_the_flexible_answer_and_never_stricter()
    {
        var scorer = new EmbeddingSimilarityScorer(new CannedEmbedder(), threshold: 0.75);

        var score = scorer.Score(Input("\nnear\nfar", "target"));

        Assert.Equal(0.0, score.Value);
        Assert.Equal(1.0, score.FlexibleValue);
        Assert.Equal("near", score.FlexibleAnswer);
        Assert.EndsWith("; flexible extraction passed (0.8)", score.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void No_target_empty_output_and_equal_text_need_no_embedding()
    {
        var scorer = new EmbeddingSimilarityScorer(new CannedEmbedder());

        Assert.Equal("item 'item-1' has no target to compare with", scorer.Score(Input("near", null)).Explanation);
        Assert.Equal(0.0, scorer.Score(Input("   ", "target")).Value);
        Assert.Equal(1.0, scorer.Score(Input(" ", "")).Value);
        Assert.Null(scorer.Score(Input(" target ", "target")).Explanation);
    }

    /// <summary>Unit vectors whose dot product with "target" is the cosine named by the text; unknown text fails the test.</summary>
    private sealed class CannedEmbedder : ITextEmbedder
    {
        public float[] Embed(string text) => text switch
        {
            "target" => [1f, 0f],
            "near" => [0.8f, 0.6f],
            "far" => [0.6f, 0.8f],
            "opposite" => [-1f, 0f],
            "near\nfar" => [0.6f, 0.8f],
            _ => throw new InvalidOperationException($"no canned embedding for '{text}'"),
        };
    }
}
