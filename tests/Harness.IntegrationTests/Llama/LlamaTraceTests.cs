using Harness.Core.Backends;
using Harness.Core.Comparison;

namespace Harness.IntegrationTests.Llama;

/// <summary>Next-token distributions through llama.cpp, checked against the log-likelihood path and against themselves.</summary>
[Trait("Category", "Model")]
public sealed class LlamaTraceTests
{
    private const string Context = "Once upon a time, there was";
    private const string Continuation = " a little girl named Lily";

    [RequiresSharedModelFact]
    public async Task Trace_log_probabilities_agree_with_continuation_scoring_and_top_k_is_a_sorted_distribution()
    {
        // A batch smaller than the text makes the trace decode in several chunks.
        await using var session = await LlamaTestModels.LoadStoriesAsync(batchSize: 4);
        var probe = Assert.IsAssignableFrom<ITokenDistributionProbe>(session);
        var scorer = Assert.IsAssignableFrom<ILogLikelihoodScorer>(session);

        var trace = await probe.TraceAsync(
            new DistributionTraceRequest(LlamaTestModels.PlainPrompt(Context), Continuation, 512, default), CancellationToken.None);
        var scored = await scorer.ScoreContinuationsAsync(
            new LogLikelihoodRequest(LlamaTestModels.PlainPrompt(Context), [Continuation]), CancellationToken.None);

        Assert.Equal(Context + Continuation, trace.Text);
        Assert.Equal(trace.Tokens.Length - 1, trace.Positions.Length);
        var continuationTokens = scored.Continuations[0].TokenCount;
        var fromTrace = trace.Positions.TakeLast(continuationTokens).Sum(p => (double)p.NextTokenLogProbability);
        Assert.Equal(scored.Continuations[0].LogProbability, fromTrace, 3);

        foreach (var position in trace.Positions)
        {
            // stories260K has 512 tokens, so top-512 is the whole distribution.
            Assert.Equal(1.0, position.TopLogProbabilities.Sum(lp => Math.Exp(lp)), 3);
            Assert.True(position.TopLogProbabilities.Zip(position.TopLogProbabilities.Skip(1)).All(p => p.First >= p.Second));
            var rank = position.TopTokens.IndexOf(position.NextToken);
            Assert.Equal(position.TopLogProbabilities[rank], position.NextTokenLogProbability, 5);
            Assert.Empty(position.ProbeLogProbabilities);
        }
    }

    [RequiresSharedModelFact]
    public async Task Choices_scored_on_a_reused_prefix_equal_a_fresh_decode_of_each_whole_text()
    {
        // ScoreContinuations decodes the context once and, per choice, drops the previous choice's KV cells and
        // continues from the context; a trace decodes context + choice from an empty cache every time.
        await using var session = await LlamaTestModels.LoadStoriesAsync(batchSize: 4);
        var scorer = (ILogLikelihoodScorer)session;
        var probe = (ITokenDistributionProbe)session;
        string[] choices = [" a little girl named Lily", " a big dog", " nothing at all in the house", " a"];

        var reused = await scorer.ScoreContinuationsAsync(
            new LogLikelihoodRequest(LlamaTestModels.PlainPrompt(Context), [.. choices]), CancellationToken.None);

        Assert.Equal(choices.Length, reused.Continuations.Length);
        foreach (var score in reused.Continuations)
        {
            var fresh = await probe.TraceAsync(
                new DistributionTraceRequest(LlamaTestModels.PlainPrompt(Context), score.Continuation, 1, []), CancellationToken.None);
            var naive = fresh.Positions.TakeLast(score.TokenCount).Sum(p => (double)p.NextTokenLogProbability);
            Assert.Equal(naive, score.LogProbability, 3);
        }
    }

    [RequiresSharedModelFact]
    public async Task A_model_traced_against_itself_has_zero_drift()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();
        var probe = (ITokenDistributionProbe)session;
        var prompt = LlamaTestModels.PlainPrompt(Context);

        var baseTrace = await probe.TraceAsync(new DistributionTraceRequest(prompt, Continuation, 16, default), CancellationToken.None);
        var again = await probe.TraceAsync(
            new DistributionTraceRequest(prompt, Continuation, 1, DistributionDrift.ProbesFor(baseTrace)), CancellationToken.None);
        var drift = DistributionDrift.Measure(baseTrace, again);

        Assert.NotEmpty(drift);
        Assert.All(drift, d =>
        {
            Assert.Equal(0.0, d.KlDivergence, 6);
            Assert.True(d.TopTokenAgrees);
            Assert.Equal(0.0, d.DeltaP, 6);
        });
    }

    [RequiresSharedModelFact]
    public async Task Probe_lists_that_do_not_match_the_tokens_are_refused()
    {
        await using var session = await LlamaTestModels.LoadStoriesAsync();
        var probe = (ITokenDistributionProbe)session;

        var error = await Assert.ThrowsAsync<BackendException>(() => probe.TraceAsync(
            new DistributionTraceRequest(LlamaTestModels.PlainPrompt(Context), "", 4, [[1, 2]]), CancellationToken.None));
        Assert.Contains("tokenize this text differently", error.Message, StringComparison.Ordinal);
    }
}
