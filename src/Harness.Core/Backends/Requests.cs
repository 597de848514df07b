using System.Collections.Immutable;
using Harness.Core.Suites;

namespace Harness.Core.Backends;

/// <summary>One chat turn. Roles: <c>system</c>, <c>user</c>, <c>assistant</c>.</summary>
public sealed record ChatMessage(string Role, string Content);

/// <summary>
/// A prompt as the core renders it: the chat turns (used when the model's chat template applies) and the
/// template-free text (used for base models, chat template <c>none</c>). The backend records which one it fed.
/// </summary>
public sealed record RenderedPrompt(ImmutableArray<ChatMessage> Messages, string PlainText);

/// <summary>Everything that decides a generation. Nothing outside this record changes the output.</summary>
public sealed record GenerationRequest(RenderedPrompt Prompt, GenerationSettings Settings);

public enum FinishReason
{
    /// <summary>A stop sequence matched; it is not part of the text.</summary>
    StopSequence,
    /// <summary>The model emitted an end-of-generation token.</summary>
    EndOfGeneration,
    /// <summary>The <see cref="GenerationSettings.MaxTokens"/> budget ran out.</summary>
    MaxTokens,
    /// <summary>The context window filled up.</summary>
    ContextFull,
}

/// <summary>Timings of one request, from llama.cpp's own counters where it has them.</summary>
/// <param name="Server">What a server reported about the request (llama-server's <c>timings</c>); null in-process or when it says nothing.</param>
/// <param name="MeanInterToken">Streamed generation: mean time between text pieces as the client received them; null otherwise.</param>
/// <param name="MaxInterToken">Streamed generation: the longest such gap; null otherwise.</param>
public sealed record RequestTimings(
    TimeSpan TimeToFirstToken,
    TimeSpan PromptEvaluation,
    TimeSpan Generation,
    TimeSpan Total,
    ServerTimings? Server = null,
    TimeSpan? MeanInterToken = null,
    TimeSpan? MaxInterToken = null);

/// <summary>A server's own account of one request (llama-server's <c>timings</c>: <c>prompt_n</c>, <c>prompt_ms</c>,
/// <c>predicted_n</c>, <c>predicted_ms</c>, <c>cache_n</c>).</summary>
/// <param name="PromptTokens">Prompt tokens the server decoded (not those it reused from its cache).</param>
/// <param name="CachedTokens">Prompt tokens it reused from its cache.</param>
public sealed record ServerTimings(int PromptTokens, TimeSpan Prompt, int PredictedTokens, TimeSpan Predicted, int CachedTokens)
{
    public double PromptTokensPerSecond => Prompt > TimeSpan.Zero ? PromptTokens / Prompt.TotalSeconds : 0;

    public double PredictedTokensPerSecond => Predicted > TimeSpan.Zero ? PredictedTokens / Predicted.TotalSeconds : 0;
}

public sealed record GenerationResult(
    string Text,
    FinishReason FinishReason,
    string PromptText,
    int PromptTokens,
    int GeneratedTokens,
    RequestTimings Timings);

/// <summary>Score each continuation after the shared context.</summary>
public sealed record LogLikelihoodRequest(RenderedPrompt Prompt, ImmutableArray<string> Continuations);

/// <param name="LogProbability">Sum of natural-log probabilities of the continuation's tokens.</param>
/// <param name="IsGreedy">Every continuation token was the argmax at its position.</param>
public sealed record ContinuationScore(string Continuation, double LogProbability, int TokenCount, int ByteCount, bool IsGreedy);

public sealed record LogLikelihoodResult(
    string PromptText,
    int PromptTokens,
    ImmutableArray<ContinuationScore> Continuations,
    RequestTimings Timings);

/// <summary>
/// Teacher-forced next-token distributions along prompt + continuation, reduced to what drift measures need.
/// </summary>
/// <param name="Continuation">Text appended to the rendered prompt (e.g. the base model's answer); may be empty.</param>
/// <param name="TopK">How many of the most likely tokens to return per position (at most the vocabulary size).</param>
/// <param name="ProbeTokens">Optional: per position, tokens whose log-probabilities to return as well (a candidate
/// model is probed at the base model's top-k). Empty: none (a default array cannot cross the worker protocol). When given, its length must equal the number
/// of positions, else the two models tokenize differently and the request fails.</param>
/// <param name="PlainText">Feed <see cref="RenderedPrompt.PlainText"/> as is, never through a chat template (perplexity
/// of a reference text).</param>
public sealed record DistributionTraceRequest(
    RenderedPrompt Prompt, string Continuation, int TopK, ImmutableArray<ImmutableArray<int>> ProbeTokens, bool PlainText = false);

/// <summary>The model's distribution over the token at position i + 1, given tokens 0..i.</summary>
/// <param name="NextToken">The token that actually follows in the text.</param>
/// <param name="NextTokenLogProbability">Natural-log probability the model gave <paramref name="NextToken"/>.</param>
/// <param name="TopTokens">The most likely tokens, most likely first (ties: lower id first); [0] is the argmax.</param>
/// <param name="TopLogProbabilities">Their log-probabilities, same order.</param>
/// <param name="ProbeLogProbabilities">Log-probabilities of the request's probe tokens at this position; empty without probes.</param>
public sealed record PositionDistribution(
    int NextToken,
    float NextTokenLogProbability,
    ImmutableArray<int> TopTokens,
    ImmutableArray<float> TopLogProbabilities,
    ImmutableArray<float> ProbeLogProbabilities);

/// <param name="Text">The exact text fed (rendered prompt + continuation).</param>
/// <param name="Tokens">Its tokens, BOS included when the vocabulary adds one.</param>
/// <param name="Positions">One per token after the first: Positions[i] predicts Tokens[i + 1].</param>
public sealed record DistributionTrace(
    string Text,
    ImmutableArray<int> Tokens,
    ImmutableArray<PositionDistribution> Positions,
    RequestTimings Timings);

/// <summary>
/// One llama-bench style measurement on synthetic tokens: after <paramref name="Depth"/> tokens already in the cache
/// (not timed), decode <paramref name="PromptTokens"/> prompt tokens, then generate <paramref name="GeneratedTokens"/>
/// tokens greedily in each of <paramref name="Sequences"/> sequences at once, ignoring end-of-generation.
/// </summary>
/// <param name="PromptTokens">0 for a pure generation test (one token of prompt is decoded, untimed).</param>
/// <param name="GeneratedTokens">0 for a pure prompt test.</param>
public sealed record ThroughputRequest(int PromptTokens, int GeneratedTokens, int Depth, int Sequences);

/// <param name="Prompt">Wall time of the prompt decodes (every sequence's prompt).</param>
/// <param name="TimeToFirstToken">Prompt decodes plus choosing the first token from the logits; zero without a prompt.</param>
/// <param name="Generation">Wall time of the generation steps, per-token work included (logits copy and check, argmax,
/// detokenizing, stop-sequence watch), as in a real generation.</param>
/// <param name="GenerationInDecode">The part of <paramref name="Generation"/> spent inside <c>llama_decode</c>; the rest is
/// the per-token work around it (the profile that tells the engine's own cost from the model's).</param>
public sealed record ThroughputSample(
    int PromptTokens, int GeneratedTokens, int Depth, int Sequences, TimeSpan Prompt, TimeSpan TimeToFirstToken, TimeSpan Generation,
    TimeSpan GenerationInDecode = default)
{
    public double PromptTokensPerSecond => Prompt > TimeSpan.Zero ? PromptTokens * Sequences / Prompt.TotalSeconds : 0;

    /// <summary>Aggregate over all sequences.</summary>
    public double GenerationTokensPerSecond => Generation > TimeSpan.Zero ? GeneratedTokens * Sequences / Generation.TotalSeconds : 0;

    /// <summary>Prompt and generation together (llama-bench's <c>pg</c>).</summary>
    public double CombinedTokensPerSecond =>
        Prompt + Generation > TimeSpan.Zero ? (PromptTokens + GeneratedTokens) * Sequences / (Prompt + Generation).TotalSeconds : 0;
}
