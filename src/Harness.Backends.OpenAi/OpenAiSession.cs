using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;

namespace Harness.Backends.OpenAi;

/// <summary>
/// A model behind an OpenAI-compatible server. Generation streams (server-sent events), so the time to the first token
/// and between tokens is measured here, on the client; the server's own timings are kept where it reports them.
/// With <c>max_concurrency</c> &gt; 1 a batch keeps that many requests in flight (the server batches them).
/// </summary>
internal class OpenAiSession : IModelSession, IBatchedTextGenerator, IReportsProcessorTime
{
    // The local server's process where it can be found (LocalServerProcess): its CPU time is this model's work.
    private readonly System.Diagnostics.Process? _server;
    private long _busyTicks;
    private readonly ServerClient _client;
    private readonly RequestDeadlines _deadlines;
    private int _disposed;

    public OpenAiSession(ServerClient client, ServerFacts facts, RequestDeadlines deadlines, ModelLoadInfo loadInfo)
    {
        _client = client;
        Facts = facts;
        _deadlines = deadlines;
        LoadInfo = loadInfo;
        _server = client.IsLocal ? LocalServerProcess.Find(client.ApiBase.Port) : null;
    }

    /// <summary>CPU time of the local server's process (all its work, this client's requests being the only ones the
    /// run sends); zero where the process cannot be found (a remote endpoint, another OS, another user's process).</summary>
    public TimeSpan TotalProcessorTime
    {
        get
        {
            if (_server is null)
                return TimeSpan.Zero;
            _server.Refresh();
            return _server.TotalProcessorTime;
        }
    }

    /// <summary>Wall time of the requests answered so far.</summary>
    public TimeSpan BusyTime => TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks));

    public ModelLoadInfo LoadInfo { get; }

    public int ParallelSequences => Math.Max(1, _client.Server.MaxConcurrency);

    protected ServerClient Client => _client;

    protected ServerFacts Facts { get; }

    protected RequestDeadlines Deadlines => _deadlines;

    /// <summary>True when prompts go through the server's chat template (<c>/v1/chat/completions</c>).</summary>
    protected bool UsesChat => _client.Model.Backend.ChatTemplate == ChatTemplateMode.Auto;

    public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken) =>
        GenerateAsync(request, sequences: 1, cancellationToken);

    public async IAsyncEnumerable<BatchedGeneration> GenerateBatchAsync(
        IReadOnlyList<GenerationRequest> requests, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(requests);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var results = Channel.CreateUnbounded<BatchedGeneration>();
        using var slots = new SemaphoreSlim(ParallelSequences);
        SessionLostException? lost = null;

        async Task RunOneAsync(int index)
        {
            try
            {
                await slots.WaitAsync(stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            try
            {
                var result = await GenerateAsync(requests[index], ParallelSequences, stop.Token).ConfigureAwait(false);
                results.Writer.TryWrite(new BatchedGeneration(index, result, null));
            }
            catch (BackendException ex)
            {
                results.Writer.TryWrite(new BatchedGeneration(index, null, ex.Message, ex.Kind));
            }
            catch (SessionLostException ex)
            {
                // The server is gone or past its deadline: the batch ends here and the evaluator takes over.
                Interlocked.CompareExchange(ref lost, ex, null);
                await stop.CancelAsync().ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (stop.IsCancellationRequested)
            {
            }
            finally
            {
                slots.Release();
            }
        }

        var all = Task.WhenAll(Enumerable.Range(0, requests.Count).Select(RunOneAsync))
            .ContinueWith(t => results.Writer.Complete(t.Exception?.InnerException), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        try
        {
            await foreach (var outcome in results.Reader.ReadAllAsync(CancellationToken.None).ConfigureAwait(false))
            {
                if (Volatile.Read(ref lost) is not null)
                    break;
                yield return outcome;
            }
        }
        finally
        {
            await stop.CancelAsync().ConfigureAwait(false);
            await all.ConfigureAwait(false);
        }

        if (Volatile.Read(ref lost) is { } failure)
            throw failure;
        cancellationToken.ThrowIfCancellationRequested();
    }

    private async Task<GenerationResult> GenerateAsync(GenerationRequest request, int sequences, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var settings = request.Settings;
        if (settings.MaxTokens < 1)
            throw new ArgumentOutOfRangeException(nameof(request), settings.MaxTokens, "MaxTokens must be at least 1.");
        if (settings.Grammar is not null && !Facts.IsLlamaServer)
            throw new BackendException($"model '{_client.Model.Id}': the suite constrains output with a grammar, which only llama-server's API takes (field 'grammar')");

        var deadline = _deadlines.For(RequestSize.Of(request, _deadlines.Settings), sequences);
        var result = await _client.RunAsync("a generation request", deadline, token => StreamAsync(request, deadline, token), cancellationToken).ConfigureAwait(false);
        _deadlines.Observe(result.PromptTokens, result.GeneratedTokens, result.Timings);
        return result;
    }

    private async Task<GenerationResult> StreamAsync(GenerationRequest request, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var settings = request.Settings;
        var chat = UsesChat;
        var (url, body, promptText) = BuildRequest(request, chat);
        var what = chat ? "a chat completion" : "a completion";
        var start = _client.Time.GetTimestamp();
        using var response = await _client.SendAsync(HttpMethod.Post, url, body, deadline, what, cancellationToken).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);

        var text = new StopSequenceText(settings.Stop);
        TimeSpan? firstToken = null;
        var lastToken = TimeSpan.Zero;
        var gaps = TimeSpan.Zero;
        var maxGap = TimeSpan.Zero;
        var pieces = 0;
        string? finish = null;
        JsonElement? stopReason = null;
        int? promptTokens = null, completionTokens = null;
        ServerTimings? server = null;
        var clientStop = false;
        await foreach (var payload in SseReader.ReadAsync(stream, $"model '{_client.Model.Id}': {what}: {url.AbsolutePath}", cancellationToken).ConfigureAwait(false))
        {
            JsonDocument document;
            try
            {
                document = JsonDocument.Parse(payload);
            }
            catch (JsonException ex)
            {
                throw _client.Malformed(what, url, $"an event is not JSON ({ex.Message.Split(" LineNumber", 2)[0]})", payload);
            }

            using (document)
            {
                var root = document.RootElement;
                if (root.ValueKind != JsonValueKind.Object)
                    throw _client.Malformed(what, url, "an event is not a JSON object", payload);
                if (root.TryGetProperty("error", out var error))
                    throw new BackendException($"model '{_client.Model.Id}': {what}: the server reported an error mid-stream: {_client.Redact(ServerClient.Excerpt(error.GetRawText()))}");
                if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                {
                    promptTokens = Int(usage, "prompt_tokens") ?? promptTokens;
                    completionTokens = Int(usage, "completion_tokens") ?? completionTokens;
                }
                if (root.TryGetProperty("timings", out var timings) && timings.ValueKind == JsonValueKind.Object)
                    server = ServerTimingsOf(timings) ?? server;
                if (!root.TryGetProperty("choices", out var choices) || choices.ValueKind != JsonValueKind.Array)
                {
                    if (root.TryGetProperty("usage", out _))
                        continue; // the usage-only event of stream_options.include_usage
                    throw _client.Malformed(what, url, "an event has no 'choices' array", payload);
                }

                foreach (var choice in choices.EnumerateArray())
                {
                    var piece = chat
                        ? choice.TryGetProperty("delta", out var delta) && delta.ValueKind == JsonValueKind.Object && delta.TryGetProperty("content", out var content)
                            && content.ValueKind == JsonValueKind.String ? content.GetString() : null
                        : choice.TryGetProperty("text", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
                    if (!string.IsNullOrEmpty(piece))
                    {
                        var now = _client.Since(start);
                        if (firstToken is null)
                        {
                            firstToken = now;
                        }
                        else
                        {
                            var gap = now - lastToken;
                            gaps += gap;
                            maxGap = gap > maxGap ? gap : maxGap;
                        }
                        lastToken = now;
                        pieces++;
                        if (text.Append(piece))
                        {
                            clientStop = true;
                            break;
                        }
                    }
                    if (choice.TryGetProperty("finish_reason", out var reason) && reason.ValueKind == JsonValueKind.String)
                    {
                        finish = reason.GetString();
                        if (choice.TryGetProperty("stop_reason", out var why))
                            stopReason = why.Clone();
                    }
                }
            }
            // A server that ignored the stop sequence would go on to max_tokens: closing the stream ends its work.
            if (clientStop)
                break;
        }

        var total = _client.Since(start);
        if (!clientStop && finish is null)
            throw _client.Malformed(what, url, "the stream ended without a finish_reason (the server may have stopped mid-answer)");

        var generated = completionTokens ?? server?.PredictedTokens ?? pieces;
        var prompt = promptTokens ?? (server is { } s ? s.PromptTokens + s.CachedTokens : 0);
        var reasonOut = clientStop ? FinishReason.StopSequence : MapFinish(finish!, stopReason, settings.Stop, prompt + generated);
        var ttft = firstToken ?? total;
        // llama-server counts the first token (sampled at the end of the prompt pass) in predicted_n but not its time,
        // so with one token its predicted_ms is a few microseconds: a generation speed of hundreds of thousands of
        // tokens/s. Its generation time is used only where it covers a decode; otherwise the client's time after the
        // first token is.
        var timingsOut = new RequestTimings(
            ttft,
            server?.Prompt ?? ttft,
            server is { PredictedTokens: > 1 } ? server.Predicted : total - ttft,
            total,
            server,
            pieces > 1 ? gaps / (pieces - 1) : null,
            pieces > 1 ? maxGap : null);
        Interlocked.Add(ref _busyTicks, total.Ticks);
        return new GenerationResult(text.Finish(), reasonOut, promptText, prompt, generated, timingsOut);
    }

    /// <summary>
    /// "stop" means a stop sequence or the end-of-generation token; vLLM says which (<c>stop_reason</c>: the string, or a
    /// token id / null), llama-server and Ollama do not, so a request with stop sequences records a stop sequence there.
    /// </summary>
    private FinishReason MapFinish(string finish, JsonElement? stopReason, ImmutableArray<string> stops, int usedTokens) => finish switch
    {
        "length" when Facts.ContextSize is { } context && usedTokens >= context => FinishReason.ContextFull,
        "length" => FinishReason.MaxTokens,
        "stop" when stopReason is { ValueKind: JsonValueKind.String } => FinishReason.StopSequence,
        "stop" when stopReason is not null => FinishReason.EndOfGeneration,
        "stop" => !stops.IsDefaultOrEmpty && stops.Any(s => s.Length > 0) ? FinishReason.StopSequence : FinishReason.EndOfGeneration,
        _ => throw new BackendException($"model '{_client.Model.Id}': the server finished with '{finish}', which is not 'stop' or 'length'"),
    };

    private (Uri Url, JsonObject Body, string PromptText) BuildRequest(GenerationRequest request, bool chat)
    {
        var settings = request.Settings;
        var body = new JsonObject
        {
            ["model"] = _client.Server.Model,
            ["stream"] = true,
            ["stream_options"] = new JsonObject { ["include_usage"] = true },
            ["max_tokens"] = settings.MaxTokens,
            // Greedy is temperature 0; sampling is softmax(logits / T) with the seed, as in-process: nothing truncates it.
            ["temperature"] = settings.Temperature,
            ["seed"] = settings.Seed,
            ["top_p"] = 1.0,
        };
        if (Facts.IsLlamaServer)
        {
            // llama-server's defaults (top_k 40, min_p 0.05) would cut the distribution the in-process sampler draws from.
            body["top_k"] = 0;
            body["min_p"] = 0.0;
            if (settings.Grammar is { } grammar)
                body["grammar"] = grammar;
        }
        var stops = settings.Stop.IsDefault ? [] : settings.Stop.Where(s => s.Length > 0).ToArray();
        if (stops.Length > 0)
            body["stop"] = new JsonArray([.. stops.Select(s => (JsonNode)JsonValue.Create(s))]);

        if (!chat)
        {
            body["prompt"] = request.Prompt.PlainText;
            return (_client.Api("completions"), body, request.Prompt.PlainText);
        }

        if (request.Prompt.Messages.IsDefaultOrEmpty)
            throw new BackendException($"model '{_client.Model.Id}': chat_template is auto (chat completions) but the prompt has no chat messages");
        var messages = new JsonArray([.. request.Prompt.Messages.Select(m => (JsonNode)new JsonObject { ["role"] = m.Role, ["content"] = m.Content })]);
        body["messages"] = messages;
        // The server renders its template; what was sent is the record of the prompt.
        return (_client.Api("chat/completions"), body, messages.ToJsonString());
    }

    protected static ServerTimings? ServerTimingsOf(JsonElement timings)
    {
        var promptMs = Double(timings, "prompt_ms");
        var predictedMs = Double(timings, "predicted_ms");
        if (promptMs is null && predictedMs is null)
            return null;
        return new ServerTimings(
            Int(timings, "prompt_n") ?? 0,
            TimeSpan.FromMilliseconds(promptMs ?? 0),
            Int(timings, "predicted_n") ?? 0,
            TimeSpan.FromMilliseconds(predictedMs ?? 0),
            Int(timings, "cache_n") ?? 0);
    }

    protected static int? Int(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var i) ? i : null;

    protected static double? Double(JsonElement element, string name) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetDouble() : null;

    public ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _client.Dispose();
            _server?.Dispose();
        }
        return ValueTask.CompletedTask;
    }
}
