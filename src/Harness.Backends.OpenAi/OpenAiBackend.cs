using System.Collections.Immutable;
using System.Globalization;
using System.Reflection;
using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Backends.OpenAi;

/// <summary>
/// Models behind an OpenAI-compatible server (llama-server, Ollama, LM Studio, vLLM). "Loading" identifies the server
/// and the model (nothing is transferred); each session owns one HTTP client with the retry pipeline.
/// </summary>
/// <param name="options">Deadlines and retries; <see cref="OpenAiBackendOptions.Default"/> when null.</param>
/// <param name="timeProvider">Clock of timings, deadlines and backoff; the system clock when null.</param>
public sealed class OpenAiBackend(OpenAiBackendOptions? options = null, TimeProvider? timeProvider = null) : IModelBackend
{
    private readonly OpenAiBackendOptions _options = options ?? OpenAiBackendOptions.Default;
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;
    private readonly Dictionary<string, RequestDeadlines> _deadlines = new(StringComparer.Ordinal);

    public string Name => "openai";

    /// <summary>This client's version, recorded with every load.</summary>
    public static string ClientVersion { get; } =
        typeof(OpenAiBackend).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "unknown";

    /// <param name="modelPath">For a served model, the endpoint URL (the manifest's <c>backend.endpoint</c>).</param>
    public async Task<IModelSession> LoadAsync(ModelEntry model, string modelPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        var deadlines = DeadlinesFor(model);
        var start = _time.GetTimestamp();
        var client = new ServerClient(model, modelPath, _options, _time);
        try
        {
            var facts = await ServerProbe.ProbeAsync(client, deadlines.Load(0), cancellationToken).ConfigureAwait(false);
            var loadInfo = new ModelLoadInfo(
                Backend: Name,
                LoadTime: _time.GetElapsedTime(start),
                FileSizeBytes: 0,
                ResidentMemoryAfterLoadBytes: 0,
                ChatTemplate: model.Backend.ChatTemplate == ChatTemplateMode.Auto ? "server (chat completions)" : "none",
                EffectiveSettings: EffectiveSettings(model, client, facts),
                Versions: Versions(facts),
                ParallelSequences: Math.Max(1, client.Server.MaxConcurrency));
            return facts.Scoring == ScoringMode.None
                ? new OpenAiSession(client, facts, deadlines, loadInfo)
                : new OpenAiScoringSession(client, facts, deadlines, loadInfo);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>What the server can do for <paramref name="model"/> and what it says it serves.</summary>
    public async Task<BackendDescription> DescribeAsync(ModelEntry model, string location, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        using var client = new ServerClient(model, location, _options, _time);
        var facts = await ServerProbe.ProbeAsync(client, DeadlinesFor(model).Load(0), cancellationToken).ConfigureAwait(false);
        return new BackendDescription(Capabilities(model, client, facts), facts.Identity);
    }

    internal static BackendCapabilities Capabilities(ModelEntry model, ServerClient client, ServerFacts facts)
    {
        var abilities = BackendAbilities.Generate;
        var missing = ImmutableSortedDictionary.CreateBuilder<BackendAbilities, string>();
        if (client.Server.MaxConcurrency > 1)
            abilities |= BackendAbilities.BatchedGeneration;
        else
            missing[BackendAbilities.BatchedGeneration] = "max_concurrency is 1: one request at a time (set backend.max_concurrency to keep several in flight)";

        var scoringProblem = facts.Scoring switch
        {
            ScoringMode.None => facts.ScoringUnavailable ?? "the server cannot score continuations",
            ScoringMode.Echo when model.Backend.ChatTemplate == ChatTemplateMode.Auto =>
                "echo scores raw text and this server cannot render the chat template for it; set chat_template: none to score the plain prompt",
            _ => null,
        };
        if (scoringProblem is null)
            abilities |= BackendAbilities.LogLikelihood;
        else
            missing[BackendAbilities.LogLikelihood] = scoringProblem;

        if (facts.IsLlamaServer)
            abilities |= BackendAbilities.GrammarConstrainedGeneration;
        else
            missing[BackendAbilities.GrammarConstrainedGeneration] = "only llama-server's API takes a GBNF grammar (field 'grammar'); this server did not answer /props as llama-server";

        missing[BackendAbilities.TokenDistributions] =
            "an OpenAI-compatible server returns a few top log-probabilities of generated tokens, not the distributions along a given text that drift and perplexity need";
        missing[BackendAbilities.ThroughputProbe] =
            "synthetic-token decode speed needs the runtime in this process; the server's own timings are recorded per item instead";
        return new BackendCapabilities(abilities, client.IsLocal ? EnergyScope.OtherLocalProcess : EnergyScope.Remote, missing.ToImmutable());
    }

    private RequestDeadlines DeadlinesFor(ModelEntry model)
    {
        // One per model, kept across its sessions: a fresh session after a lost one is held to the speed the model showed.
        lock (_deadlines)
        {
            if (!_deadlines.TryGetValue(model.Id, out var deadlines))
            {
                deadlines = new RequestDeadlines(_options.Watchdog, model.Backend.ItemTimeout, model.Backend.LoadTimeout);
                _deadlines.Add(model.Id, deadlines);
            }
            return deadlines;
        }
    }

    private ImmutableSortedDictionary<string, string> EffectiveSettings(ModelEntry model, ServerClient client, ServerFacts facts)
    {
        static string I(double value) => value.ToString(CultureInfo.InvariantCulture);
        var settings = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in facts.Identity)
            settings[key] = value;
        settings["endpoint"] = client.ApiBase.AbsoluteUri;
        settings["server_model"] = client.Server.Model;
        // The variable's name only: the key never leaves the request headers.
        settings["api_key_env"] = client.Server.ApiKeyVariable ?? "(none)";
        settings["max_concurrency"] = I(Math.Max(1, client.Server.MaxConcurrency));
        settings["route"] = model.Backend.ChatTemplate == ChatTemplateMode.Auto ? "/v1/chat/completions (stream)" : "/v1/completions (stream)";
        settings["chat_template_mode"] = model.Backend.ChatTemplate == ChatTemplateMode.Auto ? "auto" : "none";
        settings["sampler"] = facts.IsLlamaServer
            ? "temperature 0: server greedy; otherwise temperature T, seed, top_p 1, top_k 0, min_p 0"
            : "temperature 0: server greedy; otherwise temperature T, seed, top_p 1 (other samplers: the server's defaults)";
        settings["stop_sequences"] = "sent to the server and enforced by the client";
        settings["loglikelihood_mode"] = facts.Scoring switch
        {
            ScoringMode.Echo => "echo (/v1/completions echo + logprobs, continuation tokens by text_offset)",
            ScoringMode.LlamaServer => "llama-server (/tokenize, /completion n_predict 1 with n_probs = n_vocab, pre-sampling softmax)",
            _ => "none: " + facts.ScoringUnavailable,
        };
        settings["energy_scope"] = client.IsLocal ? "other local process" : "remote";
        settings["retry"] = string.Create(CultureInfo.InvariantCulture,
            $"{_options.MaxAttempts} tries on 429/5xx/connection errors, exponential backoff from {_options.RetryDelay.TotalSeconds:0.###} s with jitter, Retry-After honoured");
        settings["attempt_timeout"] = _options.AttemptTimeout is { } attempt ? I(attempt.TotalSeconds) + " s" : "the request deadline";
        return settings.ToImmutable();
    }

    private static ImmutableSortedDictionary<string, string> Versions(ServerFacts facts)
    {
        var versions = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);
        versions["openai-client"] = ClientVersion;
        if (facts.BuildInfo is { } build)
            versions["llama-server"] = build;
        return versions.ToImmutable();
    }
}

/// <summary>The registry's entry for served models (<c>backend.kind: openai</c>).</summary>
public sealed class OpenAiBackendProvider(OpenAiBackendOptions? options = null, TimeProvider? timeProvider = null) : IBackendProvider
{
    private readonly OpenAiBackend _backend = new(options, timeProvider);

    public BackendKind Kind => BackendKind.OpenAi;

    public IModelBackend Backend => _backend;

    public ImmutableSortedDictionary<string, string> Versions { get; } =
        ImmutableSortedDictionary<string, string>.Empty.Add("openai-client", OpenAiBackend.ClientVersion);

    public Task<BackendDescription> DescribeAsync(ModelEntry model, string location, CancellationToken cancellationToken) =>
        _backend.DescribeAsync(model, location, cancellationToken);
}
