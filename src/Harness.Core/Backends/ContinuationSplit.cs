using System.Collections.Immutable;
using Harness.Core.Runs;

namespace Harness.Core.Backends;

/// <summary>
/// lm-eval's <c>_encode_pair</c> for every runtime that tokenizes locally (llama.cpp, ONNX Runtime GenAI), so that a
/// log-likelihood item scores the same tokens whichever runtime scores it: trailing whitespace of the context belongs to
/// every continuation, and a continuation's tokens are those of (context + continuation) after the context's own tokens.
/// </summary>
/// <remarks>
/// Tokenizing the continuation alone would be wrong for SentencePiece vocabularies: the tokenizer prefixes the text with
/// a space there, so " was" becomes ["▁", "▁was"] and scores a token never generated.
/// </remarks>
public static class ContinuationSplit
{
    /// <param name="renderedText">The rendered context.</param>
    /// <param name="tokenizeContext">Tokenizes the context (without its trailing whitespace).</param>
    /// <param name="tokenizeWhole">Tokenizes context + continuation the same way.</param>
    /// <param name="contextSize">Positions the model has; the last continuation token is only predicted, never decoded.</param>
    /// <param name="modelId">For the message of an item that does not fit.</param>
    /// <exception cref="BackendException">Context plus a continuation needs more positions than the context has (kind
    /// <see cref="ItemFailureKind.ContextOverflow"/>).</exception>
    public static (string ContextText, T[] Context, T[][] Continuations) Split<T>(
        string renderedText, ImmutableArray<string> continuations, Func<string, T[]> tokenizeContext, Func<string, T[]> tokenizeWhole,
        int contextSize, string modelId)
    {
        ArgumentNullException.ThrowIfNull(renderedText);
        ArgumentNullException.ThrowIfNull(tokenizeContext);
        ArgumentNullException.ThrowIfNull(tokenizeWhole);
        var contextText = renderedText.TrimEnd();
        var movedWhitespace = renderedText[contextText.Length..];
        var contextTokens = tokenizeContext(contextText);
        var tokens = new T[continuations.Length][];
        for (var i = 0; i < continuations.Length; i++)
        {
            var whole = tokenizeWhole(contextText + movedWhitespace + continuations[i]);
            tokens[i] = whole[Math.Min(contextTokens.Length, whole.Length)..];
            var needed = contextTokens.Length + tokens[i].Length - 1;
            if (needed > contextSize)
            {
                throw new BackendException(
                    $"Model '{modelId}': context ({contextTokens.Length} tokens) plus continuation ({tokens[i].Length} tokens) " +
                    $"needs {needed} positions but the context size is {contextSize}.", ItemFailureKind.ContextOverflow);
            }
        }

        return (contextText, contextTokens, tokens);
    }
}
