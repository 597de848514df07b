using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;

namespace Harness.Backends.OpenAi;

/// <summary>Request and response shapes of the two scoring routes.</summary>
internal static class Scoring
{
    /// <summary>lm-eval's local-completions payload: the whole text echoed with the log-probability of each of its tokens.</summary>
    public static JsonObject EchoRequest(string model, string text) => new()
    {
        ["model"] = model,
        ["prompt"] = text,
        ["echo"] = true,
        ["logprobs"] = 1,
        // Some servers refuse 0; the one generated token lies past the text and is not counted.
        ["max_tokens"] = 1,
        ["temperature"] = 0.0,
    };

    /// <summary>The <c>logprobs</c> object of the first choice, or null.</summary>
    public static JsonElement? EchoLogprobs(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object && root.TryGetProperty("choices", out var choices) && choices.ValueKind == JsonValueKind.Array
        && choices.GetArrayLength() > 0 && choices[0].ValueKind == JsonValueKind.Object
        && choices[0].TryGetProperty("logprobs", out var logprobs) && logprobs.ValueKind == JsonValueKind.Object
            ? logprobs
            : null;

    public static int TokenCount(JsonElement logprobs) =>
        logprobs.TryGetProperty("token_logprobs", out var values) && values.ValueKind == JsonValueKind.Array ? values.GetArrayLength() : 0;
}

/// <summary>A session on a server that can score continuations (see <see cref="ScoringMode"/>).</summary>
internal sealed class OpenAiScoringSession(ServerClient client, ServerFacts facts, RequestDeadlines deadlines, ModelLoadInfo loadInfo)
    : OpenAiSession(client, facts, deadlines, loadInfo), ILogLikelihoodScorer
{
    public async Task<LogLikelihoodResult> ScoreContinuationsAsync(LogLikelihoodRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Continuations.IsDefault)
            throw new ArgumentException("Continuations must not be a default ImmutableArray.", nameof(request));
        var deadline = Deadlines.For(RequestSize.Of(request, Deadlines.Settings));
        var result = await Client.RunAsync("a log-likelihood request", deadline,
            token => Facts.Scoring == ScoringMode.Echo ? EchoAsync(request, deadline, token) : LlamaServerAsync(request, deadline, token),
            cancellationToken).ConfigureAwait(false);
        Deadlines.Observe(result.PromptTokens + result.Continuations.Sum(c => c.TokenCount), 0, result.Timings);
        return result;
    }

    /// <summary>
    /// lm-eval's _encode_pair on text: trailing whitespace of the context moves to every continuation, as the llama.cpp
    /// backend does, so the same tokens are scored.
    /// </summary>
    private static (string Context, string Moved) Split(string rendered)
    {
        var context = rendered.TrimEnd();
        return (context, rendered[context.Length..]);
    }

    private async Task<LogLikelihoodResult> EchoAsync(LogLikelihoodRequest request, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        if (UsesChat)
            throw new BackendException($"model '{Client.Model.Id}': echo scoring sends raw text, so a model with chat_template auto cannot be scored on this server");
        var start = Client.Time.GetTimestamp();
        var (context, moved) = Split(request.Prompt.PlainText);
        var url = Client.Api("completions");
        var scores = ImmutableArray.CreateBuilder<ContinuationScore>(request.Continuations.Length);
        var contextTokens = 0;
        TimeSpan? first = null;
        foreach (var continuation in request.Continuations)
        {
            var whole = context + moved + continuation;
            using var answer = await Client.JsonAsync(HttpMethod.Post, url, Scoring.EchoRequest(Client.Server.Model, whole), deadline, "an echo log-likelihood request", cancellationToken)
                .ConfigureAwait(false);
            first ??= Client.Since(start);
            var logprobs = Scoring.EchoLogprobs(answer!.RootElement) ?? throw Client.Malformed("an echo log-likelihood request", url, "no choices[0].logprobs", answer.RootElement.GetRawText());
            if (!logprobs.TryGetProperty("text_offset", out var offsets) || offsets.ValueKind != JsonValueKind.Array
                || !logprobs.TryGetProperty("token_logprobs", out var values) || values.ValueKind != JsonValueKind.Array
                || offsets.GetArrayLength() != values.GetArrayLength())
                throw Client.Malformed("an echo log-likelihood request", url, "logprobs lacks text_offset and token_logprobs of equal length", logprobs.GetRawText());
            var tops = logprobs.TryGetProperty("top_logprobs", out var t) && t.ValueKind == JsonValueKind.Array ? t : (JsonElement?)null;

            double sum = 0;
            var count = 0;
            var greedy = true;
            var inContext = 0;
            for (var i = 0; i < values.GetArrayLength(); i++)
            {
                var offset = offsets[i].GetInt32();
                if (offset < context.Length)
                {
                    inContext++;
                    continue;
                }
                if (offset >= whole.Length)
                    break; // the generated token after the echoed text
                if (values[i].ValueKind != JsonValueKind.Number)
                    throw Client.Malformed("an echo log-likelihood request", url, $"token {i} of the continuation has no log-probability", logprobs.GetRawText());
                var lp = values[i].GetDouble();
                sum += lp;
                count++;
                if (tops is { } top && i < top.GetArrayLength() && top[i].ValueKind == JsonValueKind.Object)
                    greedy &= top[i].EnumerateObject().All(p => p.Value.ValueKind != JsonValueKind.Number || p.Value.GetDouble() <= lp + 1e-6);
            }
            contextTokens = inContext;
            scores.Add(new ContinuationScore(continuation, sum, count, Encoding.UTF8.GetByteCount(continuation), greedy));
        }

        var total = Client.Since(start);
        return new LogLikelihoodResult(context, contextTokens, scores.MoveToImmutable(), new RequestTimings(first ?? total, total, TimeSpan.Zero, total));
    }

    /// <summary>
    /// llama-server rejects echo, so score through its own routes: tokenize context and context + continuation, then for
    /// each continuation token ask /completion for one token after the tokens before it with n_probs = n_vocab. With
    /// post_sampling_probs off, those are the softmax of the raw logits (server-common.cpp get_token_probabilities),
    /// the distribution the in-process backend scores, so ln p of the continuation token is read off the full list.
    /// cache_prompt reuses the shared prefix, so each call decodes one new token.
    /// </summary>
    private async Task<LogLikelihoodResult> LlamaServerAsync(LogLikelihoodRequest request, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var start = Client.Time.GetTimestamp();
        string rendered;
        bool parseSpecial;
        if (UsesChat)
        {
            if (request.Prompt.Messages.IsDefaultOrEmpty)
                throw new BackendException($"model '{Client.Model.Id}': chat_template is auto but the prompt has no chat messages");
            var messages = new JsonArray([.. request.Prompt.Messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);
            using var applied = await Client.JsonAsync(HttpMethod.Post, Client.Native("apply-template"), new JsonObject { ["messages"] = messages }, deadline,
                "rendering the chat template", cancellationToken).ConfigureAwait(false);
            rendered = applied!.RootElement.TryGetProperty("prompt", out var p) && p.ValueKind == JsonValueKind.String
                ? p.GetString()!
                : throw Client.Malformed("rendering the chat template", Client.Native("apply-template"), "no 'prompt' string", applied.RootElement.GetRawText());
            parseSpecial = true;
        }
        else
        {
            rendered = request.Prompt.PlainText;
            parseSpecial = false;
        }

        var (context, moved) = Split(rendered);
        var contextTokens = await TokenizeAsync(context, parseSpecial, deadline, cancellationToken).ConfigureAwait(false);
        if (contextTokens.Length == 0)
            throw new BackendException($"model '{Client.Model.Id}': the context is empty (no tokens and no BOS token), so there is nothing to condition on.");
        var vocabulary = Facts.VocabularySize!.Value;
        var url = Client.Native("completion");
        var scores = ImmutableArray.CreateBuilder<ContinuationScore>(request.Continuations.Length);
        TimeSpan? first = null;
        var serverPrompt = TimeSpan.Zero;
        foreach (var continuation in request.Continuations)
        {
            var whole = await TokenizeAsync(context + moved + continuation, parseSpecial, deadline, cancellationToken).ConfigureAwait(false);
            var tokens = whole[Math.Min(contextTokens.Length, whole.Length)..];
            var needed = contextTokens.Length + tokens.Length - 1;
            if (Facts.ContextSize is { } size && needed > size)
            {
                throw new BackendException(
                    $"model '{Client.Model.Id}': context ({contextTokens.Length} tokens) plus continuation ({tokens.Length} tokens) needs {needed} positions but the server's context size is {size}.",
                    ItemFailureKind.ContextOverflow);
            }

            double sum = 0;
            var greedy = true;
            for (var j = 0; j < tokens.Length; j++)
            {
                var prompt = new JsonArray([.. contextTokens.Concat(tokens[..j]).Select(id => (JsonNode)JsonValue.Create(id))]);
                var body = new JsonObject
                {
                    ["prompt"] = prompt,
                    ["n_predict"] = 1,
                    ["n_probs"] = vocabulary,
                    ["post_sampling_probs"] = false,
                    ["cache_prompt"] = true,
                    ["temperature"] = 0.0,
                };
                using var answer = await Client.JsonAsync(HttpMethod.Post, url, body, deadline, "a llama-server log-likelihood request", cancellationToken).ConfigureAwait(false);
                first ??= Client.Since(start);
                var root = answer!.RootElement;
                if (root.TryGetProperty("timings", out var timings) && ServerTimingsOf(timings) is { } server)
                    serverPrompt += server.Prompt;
                var (lp, isTop) = ReadTokenLogProbability(root, tokens[j], url);
                sum += lp;
                greedy &= isTop;
            }
            scores.Add(new ContinuationScore(continuation, sum, tokens.Length, Encoding.UTF8.GetByteCount(continuation), greedy));
        }

        var total = Client.Since(start);
        return new LogLikelihoodResult(context, contextTokens.Length, scores.MoveToImmutable(),
            new RequestTimings(first ?? total, serverPrompt > TimeSpan.Zero ? serverPrompt : total, TimeSpan.Zero, total));
    }

    private (double LogProbability, bool IsTop) ReadTokenLogProbability(JsonElement root, int token, Uri url)
    {
        const string What = "a llama-server log-likelihood request";
        if (!root.TryGetProperty("completion_probabilities", out var positions) || positions.ValueKind != JsonValueKind.Array || positions.GetArrayLength() == 0
            || !positions[0].TryGetProperty("top_logprobs", out var top) || top.ValueKind != JsonValueKind.Array)
            throw Client.Malformed(What, url, "no completion_probabilities[0].top_logprobs", root.GetRawText());
        double? found = null;
        double best = double.NegativeInfinity;
        foreach (var entry in top.EnumerateArray())
        {
            var lp = Double(entry, "logprob") ?? throw Client.Malformed(What, url, "a top_logprobs entry without a logprob", entry.GetRawText());
            best = Math.Max(best, lp);
            if (Int(entry, "id") == token)
                found = lp;
        }
        return found is { } value
            ? (value, value >= best)
            : throw new BackendException($"model '{Client.Model.Id}': {What}: token {token} is not among the {top.GetArrayLength()} probabilities the server returned (n_probs {Facts.VocabularySize})");
    }

    private async Task<int[]> TokenizeAsync(string text, bool parseSpecial, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var url = Client.Native("tokenize");
        // add_special: BOS as the vocabulary says, as the in-process backend tokenizes.
        using var answer = await Client.JsonAsync(HttpMethod.Post, url,
            new JsonObject { ["content"] = text, ["add_special"] = true, ["parse_special"] = parseSpecial }, deadline, "tokenizing", cancellationToken).ConfigureAwait(false);
        if (!answer!.RootElement.TryGetProperty("tokens", out var tokens) || tokens.ValueKind != JsonValueKind.Array)
            throw Client.Malformed("tokenizing", url, "no 'tokens' array", answer.RootElement.GetRawText());
        return [.. tokens.EnumerateArray().Select(t => t.ValueKind == JsonValueKind.Number ? t.GetInt32() : Int(t, "id") ?? throw Client.Malformed("tokenizing", url, "a token that is not an id", t.GetRawText()))];
    }
}
