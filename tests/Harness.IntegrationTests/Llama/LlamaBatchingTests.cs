using Harness.Backends.LlamaSharp;
using Harness.Core.Backends;

namespace Harness.IntegrationTests.Llama;

/// <summary>Continuous batching must change nothing but the time: every result equals single-stream decoding.</summary>
public sealed class LlamaBatchingTests
{
    private static readonly string[] Openings =
    [
        "Once upon a time, there was a little girl named Lily. She",
        "Tom had a big red ball.",
        "One day, a cat",
        "The sun was shining and the birds",
        "Sara and Ben went to the park. They saw",
        "There was a dog named Max. Max liked to",
        "Mom said",
        "Lily wanted to play with her friend, but",
        "Once upon a time",
        "The little bird could not fly. It was sad because",
        "Tim found a shiny",
        "It was a cold day.",
    ];

    /// <summary>Greedy and seeded requests, different budgets and stop sequences, so sequences finish at different steps.</summary>
    private static List<GenerationRequest> MixedRequests() =>
    [
        .. Openings.Select((text, i) => (i % 3) switch
        {
            0 => LlamaTestModels.Request(text, maxTokens: 12 + 5 * i),
            1 => LlamaTestModels.Request(text, maxTokens: 40, temperature: 0.8, seed: 100 + i),
            _ => LlamaTestModels.Request(text, maxTokens: 48, stop: ["."]),
        }),
    ];

    [RequiresSharedModelTheory]
    [InlineData(4, 64)]
    [InlineData(3, 8)] // prompts longer than the batch: admitted over several steps beside generating sequences
    [InlineData(16, 512)]
    public async Task Batched_results_equal_single_stream_greedy_and_seeded_decoding(int parallel, int batchSize)
    {
        var requests = MixedRequests();
        var sequential = new List<GenerationResult>();
        await using (var single = await LlamaTestModels.LoadStoriesAsync(batchSize: batchSize, parallel: 1))
        {
            Assert.Equal(1, ((IBatchedTextGenerator)single).ParallelSequences);
            foreach (var request in requests)
                sequential.Add(await single.GenerateAsync(request, CancellationToken.None));
        }

        await using var session = await LlamaTestModels.LoadStoriesAsync(batchSize: batchSize, parallel: parallel);
        var batched = (IBatchedTextGenerator)session;
        Assert.Equal(parallel, batched.ParallelSequences);
        var results = new GenerationResult?[requests.Count];
        var order = new List<int>();
        await foreach (var outcome in batched.GenerateBatchAsync(requests, CancellationToken.None))
        {
            Assert.Null(outcome.Error);
            Assert.Null(results[outcome.Index]);
            results[outcome.Index] = outcome.Result;
            order.Add(outcome.Index);
        }

        for (var i = 0; i < requests.Count; i++)
        {
            var expected = sequential[i];
            var actual = results[i] ?? throw new Xunit.Sdk.XunitException($"request {i} gave no result");
            Assert.Equal(expected.Text, actual.Text);
            Assert.Equal(expected.FinishReason, actual.FinishReason);
            Assert.Equal(expected.GeneratedTokens, actual.GeneratedTokens);
            Assert.Equal(expected.PromptTokens, actual.PromptTokens);
            Assert.Equal(expected.PromptText, actual.PromptText);
            Assert.True(actual.Timings.TimeToFirstToken <= actual.Timings.Total);
        }

        // Sequences really ran side by side: short ones overtook longer ones admitted before them.
        if (parallel > 1)
            Assert.NotEqual(Enumerable.Range(0, requests.Count), order);

        // The session is clean for single requests afterwards.
        var after = await session.GenerateAsync(requests[0], CancellationToken.None);
        Assert.Equal(sequential[0].Text, after.Text);
    }

    [RequiresSharedModelFact]
    public async Task A_request_that_cannot_fit_fails_alone_and_the_others_finish()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync(contextSize: 64, parallel: 2);
        var tooLong = string.Join(' ', Enumerable.Repeat("Lily and Tom played in the park.", 40));
        List<GenerationRequest> requests = [LlamaTestModels.Request(maxTokens: 8), LlamaTestModels.Request(tooLong), LlamaTestModels.Request("Tom", maxTokens: 8)];

        var outcomes = new List<BatchedGeneration>();
        await foreach (var outcome in ((IBatchedTextGenerator)session).GenerateBatchAsync(requests, CancellationToken.None))
            outcomes.Add(outcome);

        Assert.Equal([0, 1, 2], outcomes.Select(o => o.Index).Order());
        var failed = Assert.Single(outcomes, o => o.Error is not null);
        Assert.Equal(1, failed.Index);
        // llama.cpp pads each sequence's context (to 256 here); the session reports and enforces the padded size.
        var contextSize = session.LoadInfo.EffectiveSettings["context_size"];
        Assert.True(failed.Error!.Contains($"context size is {contextSize};", StringComparison.Ordinal), failed.Error);
        Assert.All(outcomes.Where(o => o.Index != 1), o => Assert.Equal(8, o.Result!.GeneratedTokens));
    }

    [RequiresSharedModelFact]
    public async Task Leaving_a_batch_early_keeps_the_session_usable()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync(parallel: 4);
        var requests = MixedRequests();
        await foreach (var outcome in ((IBatchedTextGenerator)session).GenerateBatchAsync(requests, CancellationToken.None))
        {
            Assert.NotNull(outcome.Result);
            break;
        }

        var single = await session.GenerateAsync(LlamaTestModels.Request(maxTokens: 8), CancellationToken.None);
        Assert.Equal(8, single.GeneratedTokens);
    }

    [Theory]
    [InlineData(12, 768, 12, 12, 36_864)]     // bench-113m: 2 x 2 bytes x 12 layers x 768
    [InlineData(32, 4096, 32, 8, 131_072)]    // a Llama-3-8B shape: grouped-query attention keeps a quarter of the width
    [InlineData(5, 64, 8, 4, 640)]            // stories260K
    public void The_kv_cache_of_one_token_is_keys_and_values_of_every_layer_at_f16(int layers, int width, int heads, int kvHeads, long bytes)
    {
        Assert.Equal(bytes, LlamaSharpBackend.KvBytesPerToken(layers, width, heads, kvHeads));
    }

    [RequiresSharedModelFact]
    public async Task Automatic_parallelism_fills_the_kv_budget_up_to_the_cap_and_is_recorded()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync(batchSize: 64);
        // stories260K's KV cache is tiny, so the budget allows the cap.
        Assert.Equal(LlamaSharpBackend.MaxAutoParallelSequences, ((IBatchedTextGenerator)session).ParallelSequences);
        Assert.Equal(LlamaSharpBackend.MaxAutoParallelSequences, session.LoadInfo.ParallelSequences);
        Assert.Equal("256", session.LoadInfo.EffectiveSettings["context_size"]);
        Assert.StartsWith("auto", session.LoadInfo.EffectiveSettings["parallel_sequences_requested"], StringComparison.Ordinal);
    }
}
