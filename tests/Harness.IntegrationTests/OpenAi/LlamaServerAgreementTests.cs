using System.Collections.Immutable;
using System.Globalization;
using Harness.Backends.LlamaSharp;
using Harness.Backends.OpenAi;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Suites;
using Harness.IntegrationTests.Cli;

namespace Harness.IntegrationTests.OpenAi;

/// <summary>
/// The same model through the in-process llama.cpp backend (LLamaSharp) and through a real llama-server, on the same
/// requests: greedy outputs must be equal and log-likelihoods agree within <see cref="LogLikelihoodTolerance"/>.
/// </summary>
[Trait("Category", "Model")]
public sealed class LlamaServerAgreementTests
{
    /// <summary>
    /// Largest difference allowed between the two backends' summed log-probabilities of one continuation, in nats.
    /// Measured on these 11 continuations (2 to 8 tokens): at most 4.8e-4 (stories260K ' was happy'), 3e-5 on the arith model,
    /// always under 6e-5 relative. The in-process backend decodes a continuation's tokens in one batch and takes a double
    /// softmax; llama-server decodes one token per request after its cached prefix, takes a float32 softmax, and is a
    /// different llama.cpp build. Four times the measured worst.
    /// </summary>
    public const double LogLikelihoodTolerance = 2e-3;

    internal static string ArithModelPath => Path.Combine(HarnessProcess.RepositoryRoot, "models", "tiny-arith-xs-f16.gguf");

    internal static ModelEntry Local(string id, string path, int contextSize) =>
        new(id, ModelFormat.Gguf, new ModelSource(path, null, null),
            new BackendOptions(contextSize, 1, 64, 0, ChatTemplateMode.None), null, ImmutableSortedDictionary<string, string>.Empty, 1);

    internal static ModelEntry Served(string id, string endpoint, string alias, int maxConcurrency = 1, TimeSpan? itemTimeout = null) =>
        new(id, ModelFormat.Served, new ModelSource(null, null, null),
            new BackendOptions(128, 1, 64, 0, ChatTemplateMode.None, ItemTimeout: itemTimeout, Kind: BackendKind.OpenAi,
                Server: new ServerEndpoint(new Uri(endpoint), alias, null, maxConcurrency)),
            null, ImmutableSortedDictionary<string, string>.Empty, 1);

    [RequiresLlamaServerFact]
    public async Task Greedy_arith_answers_through_llama_server_equal_the_in_process_backend()
    {
        var suite = SuiteLoader.Load(Path.Combine(HarnessProcess.RepositoryRoot, "tasks", "arith"));
        var requests = suite.Items[..20].Select(item => new GenerationRequest(PromptRenderer.Render(suite, item), suite.Generation)).ToList();
        await using var server = await LlamaServerProcess.StartAsync(ArithModelPath, "tiny-arith-xs-f16", 128);

        await AssertSameGreedyOutputsAsync(Local("arith", ArithModelPath, 128), Served("arith", server.Endpoint, "tiny-arith-xs-f16"), ArithModelPath, server, requests);
    }

    [RequiresLlamaServerFact]
    public async Task Greedy_stories_continuations_through_llama_server_equal_the_in_process_backend()
    {
        var path = SharedModels.Stories260KPath;
        string[] prompts = ["Once upon a time, there was a little girl named Lily. She", "The cat sat on the", "Tom and Sue went to the park. They", "One day,"];
        var requests = prompts.Select(p => new GenerationRequest(new RenderedPrompt([new ChatMessage("user", p)], p), new GenerationSettings(48, ["."], 0, 0))).ToList();
        await using var server = await LlamaServerProcess.StartAsync(path, "stories260K", 256);

        await AssertSameGreedyOutputsAsync(Local("stories", path, 256), Served("stories", server.Endpoint, "stories260K"), path, server, requests);
    }

    private static async Task AssertSameGreedyOutputsAsync(
        ModelEntry local, ModelEntry served, string path, LlamaServerProcess server, IReadOnlyList<GenerationRequest> requests)
    {
        await using var inProcess = await new LlamaSharpBackend().LoadAsync(local, path, CancellationToken.None);
        await using var remote = await new OpenAiBackend().LoadAsync(served, server.Endpoint, CancellationToken.None);

        foreach (var request in requests)
        {
            var expected = await inProcess.GenerateAsync(request, CancellationToken.None);
            var actual = await remote.GenerateAsync(request, CancellationToken.None);
            var what = $"prompt '{request.Prompt.PlainText}'";
            Assert.True(expected.Text == actual.Text, $"{what}: in-process '{expected.Text}', llama-server '{actual.Text}'");
            Assert.Equal(expected.PromptTokens, actual.PromptTokens);
            // llama-server's "stop" covers a stop sequence and the end-of-generation token alike; with stop sequences in the
            // request the backend records a stop sequence (docs/backends.md). Every other finish must agree, with its count.
            if (expected.FinishReason == FinishReason.EndOfGeneration)
            {
                Assert.Equal(FinishReason.StopSequence, actual.FinishReason);
            }
            else
            {
                Assert.Equal(expected.FinishReason, actual.FinishReason);
                Assert.Equal(expected.GeneratedTokens, actual.GeneratedTokens);
            }
            Assert.NotNull(actual.Timings.Server);
            Assert.True(actual.Timings.TimeToFirstToken <= actual.Timings.Total);
        }
    }

    [RequiresLlamaServerFact]
    public async Task Log_likelihoods_through_llama_servers_own_routes_agree_with_the_in_process_backend()
    {
        var stories = SharedModels.Stories260KPath;
        var storyRequests = new[]
        {
            new LogLikelihoodRequest(Plain("Once upon a time, there was a little girl named Lily. She"), [" liked to play", " was happy", " went to the park."]),
            new LogLikelihoodRequest(Plain("The dog ran to the "), ["ball", "tree", "big red car"]),
        };
        var arithRequests = new[]
        {
            new LogLikelihoodRequest(Plain("70+57="), ["127", "128", "27"]),
            new LogLikelihoodRequest(Plain("12+45="), ["57", "58"]),
        };

        var worst = 0.0;
        await using (var server = await LlamaServerProcess.StartAsync(stories, "stories260K", 256))
            worst = Math.Max(worst, await CompareScoresAsync(Local("stories", stories, 256), Served("stories", server.Endpoint, "stories260K"), stories, server, storyRequests));
        await using (var server = await LlamaServerProcess.StartAsync(ArithModelPath, "tiny-arith-xs-f16", 128))
            worst = Math.Max(worst, await CompareScoresAsync(Local("arith", ArithModelPath, 128), Served("arith", server.Endpoint, "tiny-arith-xs-f16"), ArithModelPath, server, arithRequests));

        Assert.True(worst <= LogLikelihoodTolerance, string.Create(CultureInfo.InvariantCulture, $"largest difference {worst:E3} nats"));
    }

    private static async Task<double> CompareScoresAsync(
        ModelEntry local, ModelEntry served, string path, LlamaServerProcess server, IReadOnlyList<LogLikelihoodRequest> requests)
    {
        await using var inProcess = await new LlamaSharpBackend().LoadAsync(local, path, CancellationToken.None);
        await using var remote = await new OpenAiBackend().LoadAsync(served, server.Endpoint, CancellationToken.None);
        Assert.Equal("llama-server", remote.LoadInfo.EffectiveSettings["server.loglikelihood"]);
        var worst = 0.0;
        foreach (var request in requests)
        {
            var expected = await ((ILogLikelihoodScorer)inProcess).ScoreContinuationsAsync(request, CancellationToken.None);
            var actual = await ((ILogLikelihoodScorer)remote).ScoreContinuationsAsync(request, CancellationToken.None);
            Assert.Equal(expected.PromptText, actual.PromptText);
            Assert.Equal(expected.PromptTokens, actual.PromptTokens);
            for (var i = 0; i < expected.Continuations.Length; i++)
            {
                var (e, a) = (expected.Continuations[i], actual.Continuations[i]);
                Assert.Equal(e.TokenCount, a.TokenCount);
                Assert.Equal(e.IsGreedy, a.IsGreedy);
                worst = Math.Max(worst, Math.Abs(e.LogProbability - a.LogProbability));
            }
        }
        return worst;
    }

    private static RenderedPrompt Plain(string text) => new([new ChatMessage("user", text)], text);
}
