namespace Harness.Core.Backends;

/// <summary>
/// When a locally decoded generation ends after a kept token (not an end-of-generation one): one rule, in one order, for
/// every runtime that picks its own tokens (llama.cpp single and batched, ONNX Runtime GenAI), so a budget or a full
/// context cannot end two runtimes' answers at different tokens.
/// </summary>
public static class GenerationEnd
{
    /// <summary>
    /// Counts the token, appends its bytes and says why generation ends: a stop sequence now complete, then the token
    /// budget, then a context with no room for the token's decode; null when decoding goes on.
    /// </summary>
    /// <param name="piece">The token's bytes.</param>
    /// <param name="generated">Tokens generated so far; incremented for this token.</param>
    /// <param name="position">The position the token would be decoded at.</param>
    public static FinishReason? AfterKeptToken(
        ReadOnlySpan<byte> piece, StopSequenceText text, ref int generated, int maxTokens, int position, int contextSize)
    {
        ArgumentNullException.ThrowIfNull(text);
        generated++;
        if (text.Append(piece))
            return FinishReason.StopSequence;
        if (generated >= maxTokens)
            return FinishReason.MaxTokens;
        return position >= contextSize ? FinishReason.ContextFull : null;
    }
}
