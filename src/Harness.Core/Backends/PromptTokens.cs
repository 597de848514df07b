using Harness.Core.Runs;

namespace Harness.Core.Backends;

/// <summary>The one check of a tokenized prompt for every runtime that tokenizes locally, with the same messages and failure kinds.</summary>
public static class PromptTokens
{
    /// <summary>Returns <paramref name="tokens"/> when they can condition a model of <paramref name="contextSize"/> positions.</summary>
    /// <param name="what">What was tokenized, for the message ("prompt", "context").</param>
    /// <exception cref="BackendException">No tokens at all (kind <see cref="ItemFailureKind.Backend"/>), or more than the
    /// context holds (kind <see cref="ItemFailureKind.ContextOverflow"/>).</exception>
    public static T[] Fitting<T>(T[] tokens, string what, int contextSize, string modelId)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (tokens.Length == 0)
            throw new BackendException($"Model '{modelId}': the {what} is empty (no tokens and no BOS token), so there is nothing to condition on.");
        if (tokens.Length > contextSize)
        {
            throw new BackendException(
                $"Model '{modelId}': the {what} has {tokens.Length} tokens but the context size is {contextSize}; " +
                "raise context_size or shorten the prompt.", ItemFailureKind.ContextOverflow);
        }

        return tokens;
    }
}
