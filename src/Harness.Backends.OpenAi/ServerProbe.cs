using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Backends.OpenAi;

/// <summary>How a server scores continuations, decided by probing it.</summary>
internal enum ScoringMode
{
    /// <summary>Cannot: neither route below works.</summary>
    None,

    /// <summary><c>/v1/completions</c> with <c>echo</c> + <c>logprobs</c> (vLLM and others; lm-eval's local-completions).</summary>
    Echo,

    /// <summary>llama-server, which rejects echo: <c>/tokenize</c>, then one <c>/completion</c> per continuation token with
    /// the whole vocabulary's pre-sampling probabilities.</summary>
    LlamaServer,
}

/// <summary>What a server says about the model it serves, and what it can do for the harness.</summary>
/// <param name="Identity">Recorded in run.json in place of a file hash (keys <c>server.*</c>, <c>llama_server.*</c>, <c>ollama.*</c>).</param>
/// <param name="VocabularySize">llama-server's <c>n_vocab</c>; null when not reported.</param>
/// <param name="ContextSize">Context per request slot (llama-server's <c>n_ctx</c>); null when not reported.</param>
internal sealed record ServerFacts(
    ImmutableSortedDictionary<string, string> Identity,
    bool IsLlamaServer,
    ScoringMode Scoring,
    string? ScoringUnavailable,
    int? VocabularySize,
    int? ContextSize,
    string? BuildInfo);

/// <summary>Asks a server what it serves: <c>/v1/models</c> (required), llama-server's <c>/props</c>, Ollama's <c>/api/show</c>
/// and <c>/api/tags</c>, and whether it can score continuations.</summary>
internal static class ServerProbe
{
    public const string EchoProbePrompt = "The sky is blue";

    /// <exception cref="ModelLoadException">The server cannot be reached, or does not serve the model.</exception>
    public static async Task<ServerFacts> ProbeAsync(ServerClient client, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        try
        {
            return await client.RunAsync("identifying the model", deadline, token => ProbeCoreAsync(client, deadline, token), cancellationToken)
                .ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is SessionLostException or BackendException)
        {
            throw new ModelLoadException(ex.Message, ex);
        }
    }

    private static async Task<ServerFacts> ProbeCoreAsync(ServerClient client, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var served = client.Server.Model;
        var identity = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        identity["server.endpoint"] = client.ApiBase.AbsoluteUri;
        identity["server.model"] = served;

        int? vocabulary = null, context = null;
        var modelsUrl = client.Api("models");
        using (var models = await client.JsonAsync(HttpMethod.Get, modelsUrl, null, deadline, "listing the served models", cancellationToken).ConfigureAwait(false))
        {
            if (models!.RootElement.ValueKind != JsonValueKind.Object || !models.RootElement.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.Array)
                throw client.Malformed("listing the served models", modelsUrl, "no 'data' array", models.RootElement.GetRawText());
            var names = new List<string>();
            JsonElement? entry = null;
            foreach (var item in data.EnumerateArray())
            {
                var id = item.ValueKind == JsonValueKind.Object && item.TryGetProperty("id", out var idElement) ? idElement.GetString() : null;
                if (id is null)
                    continue;
                names.Add(id);
                var aliases = item.TryGetProperty("aliases", out var a) && a.ValueKind == JsonValueKind.Array
                    ? a.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!) : [];
                if (entry is null && (id == served || aliases.Contains(served, StringComparer.Ordinal)))
                    entry = item;
            }
            if (entry is not { } found)
            {
                throw new ModelLoadException(
                    $"model '{client.Model.Id}': the server at {client.ApiBase} does not serve '{served}'; it serves: " +
                    (names.Count == 0 ? "nothing" : string.Join(", ", names.Select(n => $"'{n}'"))));
            }

            identity["server.model_id"] = found.GetProperty("id").GetString()!;
            if (found.TryGetProperty("owned_by", out var owner) && owner.ValueKind == JsonValueKind.String)
                identity["server.owned_by"] = owner.GetString()!;
            if (found.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object)
            {
                foreach (var property in meta.EnumerateObject())
                {
                    if (property.Value.ValueKind is JsonValueKind.Number or JsonValueKind.String)
                        identity[$"server.meta.{property.Name}"] = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()! : property.Value.GetRawText();
                }
                vocabulary = IntOf(meta, "n_vocab");
                context = IntOf(meta, "n_ctx");
            }
        }

        // llama-server: /props. Other servers answer 404 (fine) or something that is not llama-server's object.
        string? buildInfo = null;
        var isLlamaServer = false;
        using (var props = await client.JsonAsync(HttpMethod.Get, client.Native("props"), null, deadline, "reading llama-server's /props", cancellationToken, allowMissing: true)
                   .ConfigureAwait(false))
        {
            if (props is not null && props.RootElement.ValueKind == JsonValueKind.Object && props.RootElement.TryGetProperty("model_path", out var path))
            {
                isLlamaServer = true;
                var root = props.RootElement;
                identity["llama_server.model_path"] = path.GetString() ?? "";
                if (root.TryGetProperty("build_info", out var build) && build.ValueKind == JsonValueKind.String)
                    identity["llama_server.build_info"] = buildInfo = build.GetString()!;
                if (root.TryGetProperty("default_generation_settings", out var settings) && IntOf(settings, "n_ctx") is { } slotContext)
                {
                    identity["llama_server.n_ctx"] = slotContext.ToString(CultureInfo.InvariantCulture);
                    context = slotContext;
                }
                if (IntOf(root, "total_slots") is { } slots)
                    identity["llama_server.total_slots"] = slots.ToString(CultureInfo.InvariantCulture);
                var template = root.TryGetProperty("chat_template", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString()! : "";
                identity["llama_server.chat_template"] = template.Length == 0
                    ? "none"
                    : "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(template)));
            }
        }

        if (!isLlamaServer)
            await ProbeOllamaAsync(client, deadline, identity, cancellationToken).ConfigureAwait(false);

        var (scoring, why) = isLlamaServer
            ? vocabulary is null
                ? (ScoringMode.None, "llama-server rejects echo, and its /v1/models does not report n_vocab, which scoring through /completion needs")
                : (ScoringMode.LlamaServer, null)
            : await ProbeEchoAsync(client, deadline, cancellationToken).ConfigureAwait(false);
        identity["server.loglikelihood"] = scoring switch
        {
            ScoringMode.Echo => "echo",
            ScoringMode.LlamaServer => "llama-server",
            _ => "none",
        };
        return new ServerFacts(identity.ToImmutable(), isLlamaServer, scoring, why, vocabulary, context, buildInfo);
    }

    private static async Task ProbeOllamaAsync(
        ServerClient client, RequestDeadline deadline, ImmutableSortedDictionary<string, string>.Builder identity, CancellationToken cancellationToken)
    {
        var served = client.Server.Model;
        JsonDocument? show;
        try
        {
            show = await client.JsonAsync(HttpMethod.Post, client.Native("api/show"), new JsonObject { ["model"] = served }, deadline,
                "reading Ollama's /api/show", cancellationToken, allowMissing: true).ConfigureAwait(false);
        }
        catch (BackendException)
        {
            return; // not Ollama: another server may answer this route with an error
        }

        using (show)
        {
            if (show is null || show.RootElement.ValueKind != JsonValueKind.Object || !show.RootElement.TryGetProperty("details", out var details)
                || details.ValueKind != JsonValueKind.Object)
                return;
            foreach (var property in details.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.String))
                identity[$"ollama.{property.Name}"] = property.Value.GetString()!;
        }

        try
        {
            using var tags = await client.JsonAsync(HttpMethod.Get, client.Native("api/tags"), null, deadline, "reading Ollama's /api/tags", cancellationToken, allowMissing: true)
                .ConfigureAwait(false);
            if (tags is not null && tags.RootElement.ValueKind == JsonValueKind.Object && tags.RootElement.TryGetProperty("models", out var list) && list.ValueKind == JsonValueKind.Array)
            {
                foreach (var model in list.EnumerateArray().Where(m => m.ValueKind == JsonValueKind.Object))
                {
                    var name = model.TryGetProperty("name", out var n) ? n.GetString() : null;
                    var alias = model.TryGetProperty("model", out var m2) ? m2.GetString() : null;
                    if ((name == served || alias == served) && model.TryGetProperty("digest", out var digest) && digest.ValueKind == JsonValueKind.String)
                        identity["ollama.digest"] = digest.GetString()!;
                }
            }
        }
        catch (BackendException)
        {
            // The digest is identity evidence, not a requirement.
        }
    }

    /// <summary>lm-eval's local-completions request on a short text: does the server return the prompt's log-probabilities?</summary>
    private static async Task<(ScoringMode, string?)> ProbeEchoAsync(ServerClient client, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var body = Scoring.EchoRequest(client.Server.Model, EchoProbePrompt);
        try
        {
            using var answer = await client.JsonAsync(HttpMethod.Post, client.Api("completions"), body, deadline, "probing echo log-probabilities", cancellationToken)
                .ConfigureAwait(false);
            var logprobs = Scoring.EchoLogprobs(answer!.RootElement);
            return logprobs is { } l && Scoring.TokenCount(l) > 1
                ? (ScoringMode.Echo, null)
                : (ScoringMode.None, $"the server at {client.ApiBase} answered /v1/completions with echo but without the prompt's log-probabilities, so continuations cannot be scored");
        }
        catch (BackendException ex)
        {
            return (ScoringMode.None, $"the server at {client.ApiBase} does not return prompt log-probabilities through /v1/completions with echo ({ex.Message})");
        }
    }

    private static int? IntOf(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i)
            ? i
            : null;
}
