using Harness.Tests.Tasks;
using System.Collections.Immutable;
using Harness.Backends.LlamaSharp;
using Harness.Core.Backends;
using Harness.Core.Gguf;
using Harness.Core.Suites;
using Harness.IntegrationTests.Llama;

namespace Harness.IntegrationTests.LmEval;

/// <summary>
/// The harness scores exactly the tokens lm-eval's recipe scores. For three ARC-Easy items the rendered context must be
/// lm-eval's doc_to_text, and every continuation's token ids must be the ones worked out here by hand from lm-eval's rules
/// (lm_eval/api/model.py _encode_pair@4e7e0d4: tokens of BOS + context + " " + choice after those of BOS + context) and
/// SentencePiece's BPE rule applied to each GGUF's own vocabulary: "▁" marks a space (and the dummy prefix), adjacent pieces
/// merge while their concatenation is a vocabulary entry, highest score first. The pieces are listed below; their ids are
/// looked up in the GGUF's tokenizer.ggml.tokens, not asked of llama.cpp.
/// </summary>
[Trait("Category", "Model")]
public sealed class LmEvalTokenizationTests
{
    internal const string LlamaTwoTinyRandom = "llama-2-tiny-random.gguf";

    // The continuation pieces per item, in choice order. Llama 2's 32,000-piece vocabulary holds most short words whole;
    // tinyllamas' 512-piece vocabulary spells them in one- and two-letter pieces.
    private static readonly ImmutableArray<ImmutableArray<ImmutableArray<string>>> LlamaTwoPieces =
    [
        [["▁safety", "▁g", "og", "g", "les"], ["▁breath", "ing", "▁mask"], ["▁rub", "ber", "▁glo", "ves"], ["▁lead", "▁apr", "on"]],
        [["▁brain", "▁cells"], ["▁b", "one", "▁cells"], ["▁mus", "cle", "▁cells"], ["▁ov", "ary", "▁cells"]],
        [["▁gray"], ["▁warm"], ["▁long"], ["▁soft"]],
    ];

    private static readonly ImmutableArray<ImmutableArray<ImmutableArray<string>>> StoriesPieces =
    [
        [
            ["▁sa", "f", "et", "y", "▁g", "o", "g", "g", "le", "s"], ["▁b", "re", "at", "h", "ing", "▁m", "a", "s", "k"],
            ["▁r", "u", "b", "b", "er", "▁g", "l", "o", "ve", "s"], ["▁l", "e", "ad", "▁a", "p", "r", "on"],
        ],
        [
            ["▁b", "r", "a", "in", "▁c", "e", "ll", "s"], ["▁b", "on", "e", "▁c", "e", "ll", "s"],
            ["▁m", "u", "s", "c", "le", "▁c", "e", "ll", "s"], ["▁o", "v", "ar", "y", "▁c", "e", "ll", "s"],
        ],
        [["▁g", "r", "ay"], ["▁wa", "r", "m"], ["▁l", "on", "g"], ["▁so", "f", "t"]],
    ];

    [RequiresModelAndDatasetFact(LlamaTwoTinyRandom, ArcEasyItems.Folder)]
    public Task Llama_2_vocabulary_scores_the_tokens_lm_eval_would() => AssertLmEvalTokensAsync(LlamaTwoTinyRandom, LlamaTwoPieces);

    [RequiresModelAndDatasetFact(SharedModels.Stories260K, ArcEasyItems.Folder)]
    public Task Tinyllamas_vocabulary_scores_the_tokens_lm_eval_would() => AssertLmEvalTokensAsync(SharedModels.Stories260K, StoriesPieces);

    private static async Task AssertLmEvalTokensAsync(string modelFile, ImmutableArray<ImmutableArray<ImmutableArray<string>>> pieces)
    {
        var path = SharedModels.PathOf(modelFile);
        var vocabulary = GgufReader.Read(path).Find("tokenizer.ggml.tokens")!.AsArray<string>();
        var ids = vocabulary.Select((piece, id) => (piece, id)).ToDictionary(p => p.piece, p => p.id, StringComparer.Ordinal);
        var suite = ArcEasyItems.Suite(ArcEasyItems.Rows);
        await using var session = await new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(path, contextSize: 512), path, CancellationToken.None);
        var llama = Assert.IsType<LlamaSharpSession>(session);

        for (var i = 0; i < suite.Items.Length; i++)
        {
            var item = suite.Items[i];
            var question = item.Fields["question"].GetString()!;
            var prompt = PromptRenderer.Render(suite.Definition.Prompt, item);
            Assert.Equal(ArcEasyItems.LmEvalContext(question), prompt.PlainText);

            var scored = await llama.TokenizeForScoringAsync(new LogLikelihoodRequest(prompt, item.Choices), CancellationToken.None);
            Assert.Equal(ArcEasyItems.LmEvalContext(question), scored.ContextText);
            // BOS (id 1, "<s>": llama.cpp's default for a SentencePiece vocabulary, as Hugging Face's Llama tokenizer adds it),
            // then a segmentation of "▁" + the context with spaces as "▁" and the newline as its byte piece.
            Assert.Equal(1, scored.ContextTokens[0]);
            Assert.Equal("▁" + prompt.PlainText.Replace(' ', '▁').Replace("\n", "<0x0A>", StringComparison.Ordinal),
                string.Concat(scored.ContextTokens.Skip(1).Select(t => vocabulary[t])));

            for (var c = 0; c < item.Choices.Length; c++)
            {
                var expected = pieces[i][c];
                // The hand-worked pieces spell the continuation: " " + choice with its spaces as "▁".
                Assert.Equal(item.Choices[c].Replace(' ', '▁'), string.Concat(expected));
                Assert.Equal(expected.Select(p => ids[p]), scored.ContinuationTokens[c]);
            }
        }
    }
}

/// <summary>
/// A fact that needs a shared model and a shared dataset folder: skipped with a reason when either is missing, except under
/// <c>CI=true</c>, where the test runs and fails on the missing file.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresModelAndDatasetFactAttribute : FactAttribute
{
    public RequiresModelAndDatasetFactAttribute(string modelFile, string datasetFolder)
    {
        var model = SharedModels.PathOf(modelFile);
        var dataset = SharedDatasets.PathOf(datasetFolder);
        if (!SharedModels.IsCi && !File.Exists(model))
        {
            Skip = $"Shared model {model} is missing (set HARNESS_SHARED_MODELS; under CI=true this test fails instead).";
        }
        else if (!SharedModels.IsCi && !Directory.Exists(dataset))
        {
            Skip = $"Shared dataset {dataset} is missing (set HARNESS_SHARED_DATASETS; under CI=true this test fails instead).";
        }
    }
}
