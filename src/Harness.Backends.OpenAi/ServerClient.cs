using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;
using Microsoft.Extensions.Http.Resilience;
using Polly;
using Polly.Timeout;

namespace Harness.Backends.OpenAi;

/// <summary>
/// The HTTP side of one served model: every call goes through the retry pipeline (Polly via
/// Microsoft.Extensions.Http.Resilience) and under a deadline, and every failure becomes the exception the evaluator
/// acts on: <see cref="BackendException"/> for a status or a malformed body (the item is recorded as failed),
/// <see cref="SessionLostException"/> for a deadline passed (timeout) or a server that is gone (worker crash).
/// The API key is read from its environment variable for each request and never put in a message.
/// </summary>
internal sealed class ServerClient : IDisposable
{
    public const int ExcerptLength = 300;

    private static readonly HttpRequestOptionsKey<TimeSpan> AttemptTimeoutKey = new("harness.attempt-timeout");

    private readonly ModelEntry _model;
    private readonly ServerEndpoint _server;
    private readonly OpenAiBackendOptions _options;
    private readonly TimeProvider _time;
    private readonly HttpClient _http;

    public ServerClient(ModelEntry model, string location, OpenAiBackendOptions options, TimeProvider time)
    {
        _model = model;
        _server = model.Backend.Server
            ?? throw new ModelLoadException($"model '{model.Id}': backend 'openai' needs an endpoint and a server model name (backend.endpoint, backend.model)");
        _options = options;
        _time = time;
        if (!Uri.TryCreate(location, UriKind.Absolute, out var api) || (api.Scheme != Uri.UriSchemeHttp && api.Scheme != Uri.UriSchemeHttps))
            throw new ModelLoadException($"model '{model.Id}': the endpoint '{location}' is not an http(s) URL");
        ApiBase = api.AbsoluteUri.EndsWith('/') ? api : new Uri(api.AbsoluteUri + "/");
        // llama-server's and Ollama's own routes (/props, /tokenize, /api/show) sit beside the OpenAI routes under /v1.
        var path = ApiBase.AbsolutePath;
        Root = path.EndsWith("/v1/", StringComparison.Ordinal) ? new Uri(ApiBase, path[..^3]) : ApiBase;

        var retry = new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = Math.Max(0, options.MaxAttempts - 1),
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = options.RetryDelay,
            ShouldRetryAfterHeader = true,
        };
        var attempt = new HttpTimeoutStrategyOptions
        {
            TimeoutGenerator = args => ValueTask.FromResult(
                args.Context.GetRequestMessage()?.Options.TryGetValue(AttemptTimeoutKey, out var limit) == true ? limit : Timeout.InfiniteTimeSpan),
        };
        var pipeline = new ResiliencePipelineBuilder<HttpResponseMessage> { TimeProvider = time }
            .AddRetry(retry)
            .AddTimeout(attempt)
            .Build();
        _http = new HttpClient(new ResilienceHandler(pipeline)
        {
            InnerHandler = new SocketsHttpHandler { ConnectTimeout = options.ConnectTimeout, AutomaticDecompression = DecompressionMethods.All },
        })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>The OpenAI API root, ending in a slash (e.g. <c>http://127.0.0.1:8080/v1/</c>).</summary>
    public Uri ApiBase { get; }

    /// <summary>The server's root, for its own routes beside the OpenAI ones.</summary>
    public Uri Root { get; }

    public ServerEndpoint Server => _server;

    public ModelEntry Model => _model;

    public TimeProvider Time => _time;

    public Uri Api(string relative) => new(ApiBase, relative);

    public Uri Native(string relative) => new(Root, relative);

    /// <summary>True for a server on this machine (loopback address or <c>localhost</c>).</summary>
    public bool IsLocal => ApiBase.IsLoopback || (IPAddress.TryParse(ApiBase.Host.Trim('[', ']'), out var address) && IPAddress.IsLoopback(address));

    /// <summary>
    /// Runs <paramref name="body"/> (one or more calls and the reading of their bodies) under <paramref name="deadline"/> and
    /// turns every failure into the exception the evaluator acts on.
    /// </summary>
    public async Task<T> RunAsync<T>(string what, RequestDeadline deadline, Func<CancellationToken, Task<T>> body, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        using var limit = new CancellationTokenSource(deadline.Limit, _time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, limit.Token);
        try
        {
            return await body(linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested && (ex is OperationCanceledException or TimeoutRejectedException))
        {
            var elapsed = _time.GetElapsedTime(start);
            var cause = ex is TimeoutRejectedException ? " (every try ran past its per-attempt timeout)" : "";
            throw new SessionLostException(string.Create(CultureInfo.InvariantCulture,
                $"model '{_model.Id}': {what} at {ApiBase} ran {elapsed.TotalSeconds:0.0} s, past its deadline of {deadline.Limit.TotalSeconds:0.#} s ({deadline.Basis}){cause}"),
                null, ItemFailureKind.Timeout);
        }
        catch (HttpRequestException ex) when (ex.StatusCode is null && ex.HttpRequestError != HttpRequestError.ResponseEnded && ex.InnerException is not HttpIOException)
        {
            // Refused, reset, unknown host: after every try the server is gone, so the session is; the evaluator reloads
            // (probes the server again) and marks the model crashed when that fails too.
            throw new SessionLostException(
                $"model '{_model.Id}': the server at {ApiBase} cannot be reached ({Redact(ex.Message)}{Inner(ex)}) after {_options.MaxAttempts} tries for {what}",
                null, ItemFailureKind.WorkerCrash);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new SessionLostException(
                $"model '{_model.Id}': the connection to {ApiBase} broke during {what} ({Redact(ex.Message)}{Inner(ex)}); the server may have stopped",
                null, ItemFailureKind.WorkerCrash);
        }
        catch (JsonException ex)
        {
            throw new BackendException($"model '{_model.Id}': {what}: the server at {ApiBase} sent malformed JSON: {Redact(ex.Message)}");
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException or KeyNotFoundException or IndexOutOfRangeException
                                       && ex is not ObjectDisposedException)
        {
            // JsonElement's accessors throw these on a value of the wrong type (a string where a number belongs).
            throw new BackendException($"model '{_model.Id}': {what}: the server at {ApiBase} sent a response of an unexpected shape: {Redact(ex.Message)}");
        }
    }

    /// <summary>Sends one call (retried as the pipeline says) and returns the response once its headers are in; the caller reads the body.</summary>
    /// <exception cref="BackendException">The final try's status is not a success; the message has the status and a body excerpt.</exception>
    public async Task<HttpResponseMessage> SendAsync(
        HttpMethod method, Uri url, JsonNode? body, RequestDeadline deadline, string what, CancellationToken cancellationToken, bool allowMissing = false)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, "application/json");
        request.Options.Set(AttemptTimeoutKey, _options.AttemptTimeout is { } attempt && attempt < deadline.Limit ? attempt : deadline.Limit);
        if (ApiKey() is { } key)
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);

        var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        if (response.IsSuccessStatusCode || (allowMissing && IsMissingRoute(response.StatusCode)))
            return response;

        using (response)
        {
            var text = await ReadExcerptAsync(response, cancellationToken).ConfigureAwait(false);
            var kind = LooksLikeContextOverflow(text) ? ItemFailureKind.ContextOverflow : ItemFailureKind.Backend;
            throw new BackendException(string.Create(CultureInfo.InvariantCulture,
                $"model '{_model.Id}': {what}: {method} {url.AbsolutePath} answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}: {text}"), kind);
        }
    }

    /// <summary>One JSON call; null when <paramref name="allowMissing"/> and the route does not exist on this server.</summary>
    public async Task<JsonDocument?> JsonAsync(
        HttpMethod method, Uri url, JsonNode? body, RequestDeadline deadline, string what, CancellationToken cancellationToken, bool allowMissing = false)
    {
        using var response = await SendAsync(method, url, body, deadline, what, cancellationToken, allowMissing).ConfigureAwait(false);
        if (!response.IsSuccessStatusCode)
            return null;
        var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonDocument.Parse(text);
        }
        catch (JsonException ex)
        {
            throw Malformed(what, url, $"not JSON ({ex.Message.Split(" LineNumber", 2)[0]})", text);
        }
    }

    public BackendException Malformed(string what, Uri url, string problem, string? body = null) =>
        new($"model '{_model.Id}': {what}: {url.AbsolutePath} sent a malformed response: {Redact(problem)}" + (body is null ? "" : $": {Redact(Excerpt(body))}"));

    /// <summary>At most <see cref="ExcerptLength"/> characters of <paramref name="text"/>, on one line.</summary>
    public static string Excerpt(string text)
    {
        var flat = text.ReplaceLineEndings(" ").Trim();
        return flat.Length <= ExcerptLength ? flat : flat[..(ExcerptLength - 3)] + "...";
    }

    /// <summary>The key itself must never reach a message, even when a server echoes the request headers back.</summary>
    public string Redact(string text) =>
        KeyOrNull() is { Length: > 0 } key ? text.Replace(key, "<api key>", StringComparison.Ordinal) : text;

    /// <summary>The key, read now (a rotated key is picked up by the next request).</summary>
    /// <exception cref="BackendException">The variable named by <c>api_key_env</c> is not set.</exception>
    private string? ApiKey()
    {
        if (_server.ApiKeyVariable is not { Length: > 0 } variable)
            return null;
        return KeyOrNull() ?? throw new BackendException($"model '{_model.Id}': the environment variable {variable} (backend.api_key_env) is not set");
    }

    private string? KeyOrNull() =>
        _server.ApiKeyVariable is { Length: > 0 } variable && Environment.GetEnvironmentVariable(variable) is { Length: > 0 } key ? key : null;

    private async Task<string> ReadExcerptAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            return text.Length == 0 ? "(empty body)" : Redact(Excerpt(text));
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            return $"(the body could not be read: {ex.Message})";
        }
    }

    private static bool IsMissingRoute(HttpStatusCode status) =>
        status is HttpStatusCode.NotFound or HttpStatusCode.MethodNotAllowed or HttpStatusCode.NotImplemented;

    // llama-server: "the request exceeds the available context size"; vLLM: "This model's maximum context length is ...".
    private static bool LooksLikeContextOverflow(string text) =>
        text.Contains("context size", StringComparison.OrdinalIgnoreCase) || text.Contains("context length", StringComparison.OrdinalIgnoreCase);

    private static string Inner(Exception ex) =>
        ex.InnerException is SocketException socket ? $": {socket.SocketErrorCode}" : ex.InnerException is { } inner ? $": {inner.Message}" : "";

    /// <summary>Seconds since <paramref name="start"/> as a <see cref="TimeSpan"/>, on the session's clock.</summary>
    public TimeSpan Since(long start) => _time.GetElapsedTime(start);

    public void Dispose() => _http.Dispose();
}
