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
public sealed record RequestTimings(
    TimeSpan TimeToFirstToken,
    TimeSpan PromptEvaluation,
    TimeSpan Generation,
    TimeSpan Total);

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
