using Harness.Core.Gguf;
using Harness.Forge;

namespace Harness.Tests.Forge;

public sealed class BigramRecipeTests : IDisposable
{
    private static readonly string[] Corpus =
    [
        "the cat sat on the mat.",
        "a dog ate the cake; the cat ate a fish!",
        "naïve café\nnew line",
    ];

    private readonly string _folder = Directory.CreateTempSubdirectory("harness-forge-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(GgmlType.F32, 1e-5)]
    [InlineData(GgmlType.F16, 1e-3)]
    public void A_llama_forward_pass_over_the_written_tensors_gives_the_bigram_log_probabilities(GgmlType matrixType, double relativeTolerance)
    {
        var model = BigramRecipe.Build(Corpus, BigramOptions.Default with { MatrixType = matrixType });
        var path = Path.Combine(_folder, "bigram.gguf");
        model.WriteFile(path);
        var tokens = model.Vocabulary.Tokenize("the café cat?\n", addBos: true);

        var logits = new ManagedLlama(path).Forward(tokens);

        for (var position = 0; position < tokens.Length; position++)
        {
            for (var next = 0; next < model.Vocabulary.Count; next++)
            {
                var expected = model.LogProbability(tokens[position], next);
                Assert.True(Math.Abs(logits[position][next] - expected) <= relativeTolerance * Math.Max(1, Math.Abs(expected)),
                    $"position {position}, next {next}: forward pass {logits[position][next]}, bigram {expected}");
            }
        }
    }

    [Fact]
    public void Log_probabilities_are_smoothed_counts_that_sum_to_one()
    {
        var options = BigramOptions.Default with { Smoothing = 0.5 };
        var model = BigramRecipe.Build(["abab", "ba"], options);
        var vocab = model.Vocabulary;
        var (a, b) = (vocab.IdOf(new('a'))!.Value, vocab.IdOf(new('b'))!.Value);
        var v = vocab.Count;

        // <s>abab</s> and <s>ba</s>: after 'a' come b, b, </s>; after 'b' come a, </s>, a; after <s> come a, b.
        Assert.Equal(Math.Log(2.5 / (3 + (0.5 * v))), model.LogProbability(a, b), 12);
        Assert.Equal(Math.Log(1.5 / (3 + (0.5 * v))), model.LogProbability(b, CharVocabulary.EosId), 12);
        Assert.Equal(Math.Log(1.5 / (2 + (0.5 * v))), model.LogProbability(CharVocabulary.BosId, a), 12);
        Assert.Equal(-Math.Log(v), model.LogProbability(vocab.IdOf(new('z'))!.Value, a), 12);
        for (var previous = 0; previous < v; previous += 37)
        {
            Assert.Equal(1.0, Enumerable.Range(0, v).Sum(next => Math.Exp(model.LogProbability(previous, next))), 9);
        }

        Assert.Equal(2, model.DocumentCount);
        Assert.Equal(8, model.PairCount);
    }

    [Fact]
    public void Dimensions_are_one_per_class_padded_to_eight_with_even_heads()
    {
        var model = BigramRecipe.Build(Corpus, BigramOptions.Default);
        var h = model.Hyperparameters;
        var seenCharacters = model.Vocabulary.Characters.Count(c => Corpus.Any(d => d.Contains(c.ToString(), StringComparison.Ordinal)));

        // 3 specials + 1 byte class + characters seen before something + 1 class for the never-seen ones.
        Assert.Equal(4 + seenCharacters + 1, model.ClassCount);
        Assert.Equal((model.ClassCount + 7) / 8 * 8, h.EmbeddingLength);
        Assert.Equal(0, h.HeadDimension % 2);
        Assert.Equal(h.EmbeddingLength, h.HeadDimension * h.HeadCount);
        Assert.All(Enumerable.Range(0, 256), b => Assert.Equal(3, model.ClassOfToken[CharVocabulary.ByteTokenId((byte)b)]));
    }

    [Fact]
    public void The_same_corpus_gives_identical_file_bytes()
    {
        var first = Path.Combine(_folder, "first.gguf");
        var second = Path.Combine(_folder, "second.gguf");

        BigramRecipe.Build(Corpus, BigramOptions.Default).WriteFile(first);
        BigramRecipe.Build(Corpus.ToList(), BigramOptions.Default).WriteFile(second);

        Assert.Equal(File.ReadAllBytes(first), File.ReadAllBytes(second));
        Assert.NotEqual(File.ReadAllBytes(first), File.ReadAllBytes(Write(BigramRecipe.Build(Corpus.Skip(1), BigramOptions.Default))));
    }

    [Fact]
    public void The_file_is_a_llama_gguf_with_the_recipe_recorded()
    {
        var path = Write(BigramRecipe.Build(Corpus, BigramOptions.Default));

        var file = GgufReader.Read(path);
        var facts = GgufFacts.From(file);

        Assert.Equal("llama", facts.Architecture);
        Assert.Equal("F16", facts.Quantization);
        Assert.Equal(2048, facts.ContextLength);
        Assert.Equal(3 + 256 + 95, facts.VocabularySize);
        Assert.Equal("char-bigram", file.GetString("harness.recipe"));
        Assert.False(file.GetBool("tokenizer.ggml.add_space_prefix"));
        Assert.Equal(GgmlType.F32, file.Tensors.Single(t => t.Name == "output_norm.weight").Type);
        Assert.Equal(GgmlType.F16, file.Tensors.Single(t => t.Name == "output.weight").Type);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(-1.0)]
    [InlineData(double.NaN)]
    public void Smoothing_must_be_positive(double smoothing) =>
        Assert.Throws<ArgumentException>(() => BigramRecipe.Build(Corpus, BigramOptions.Default with { Smoothing = smoothing }));

    private string Write(BigramModel model)
    {
        var path = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".gguf");
        model.WriteFile(path);
        return path;
    }
}
