using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Text;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Tests.Backends.OpenAi;

/// <summary>One request as the fake server saw it.</summary>
internal sealed record SeenRequest(string Method, string Path, string Body, string? Authorization)
{
    public JsonElement Json => JsonDocument.Parse(Body).RootElement;
}

/// <summary>
/// An OpenAI-compatible server on 127.0.0.1 and a free port (HttpListener), answering each request with the test's
/// handler. It counts requests in flight, so a test can check the client's concurrency bound.
/// </summary>
internal sealed class FakeOpenAiServer : LoopbackHttpListener
{
    private readonly Func<SeenRequest, HttpListenerResponse, CancellationToken, Task> _handler;
    private int _inFlight;
    private int _maxInFlight;

    public FakeOpenAiServer(Func<SeenRequest, HttpListenerResponse, CancellationToken, Task> handler)
    {
        _handler = handler;
        Start();
    }

    public ConcurrentQueue<SeenRequest> Requests { get; } = new();

    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public IEnumerable<SeenRequest> To(string path) => Requests.Where(r => r.Path == path);

    /// <summary>Generation requests (streamed), not the load's probes.</summary>
    public IEnumerable<SeenRequest> Generations => Requests.Where(r => r.Body.Contains("\"stream\":true", StringComparison.Ordinal));

    /// <summary>A server that lists <paramref name="model"/>, has no /props or /api routes, rejects echo, and answers generations with <paramref name="generate"/>.</summary>
    public static FakeOpenAiServer Serving(string model, Func<SeenRequest, HttpListenerResponse, CancellationToken, Task> generate) =>
        new((request, response, token) => request.Path switch
        {
            "/v1/models" => WriteJsonAsync(response, 200, $$"""{"object":"list","data":[{"id":"{{model}}","object":"model","owned_by":"test"}]}"""),
            "/v1/completions" when request.Body.Contains("\"echo\":true", StringComparison.Ordinal) =>
                WriteJsonAsync(response, 400, """{"error":{"message":"echo is not supported"}}"""),
            "/v1/completions" or "/v1/chat/completions" => generate(request, response, token),
            _ => WriteJsonAsync(response, 404, """{"error":"not found"}"""),
        });

    public static async Task WriteJsonAsync(HttpListenerResponse response, int status, string json)
    {
        var bytes = Encoding.UTF8.GetBytes(json);
        response.StatusCode = status;
        response.ContentType = "application/json";
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }

    /// <summary>Writes each payload as one server-sent event (then <c>[DONE]</c>), waiting <paramref name="gap"/> between them.</summary>
    public static async Task WriteEventsAsync(HttpListenerResponse response, IEnumerable<string> payloads, TimeSpan gap, CancellationToken cancellationToken)
    {
        response.StatusCode = 200;
        response.ContentType = "text/event-stream";
        response.SendChunked = true;
        foreach (var payload in payloads.Append("[DONE]"))
        {
            var bytes = Encoding.UTF8.GetBytes($"data: {payload}\n\n");
            await response.OutputStream.WriteAsync(bytes, cancellationToken);
            await response.OutputStream.FlushAsync(cancellationToken);
            if (gap > TimeSpan.Zero)
                await Task.Delay(gap, cancellationToken);
        }
        response.Close();
    }

    /// <summary>Completion chunks for <paramref name="pieces"/>, then a final chunk with the finish reason, usage and llama-server timings.</summary>
    public static IEnumerable<string> CompletionEvents(IEnumerable<string> pieces, string finish, int promptTokens, int completionTokens)
    {
        foreach (var piece in pieces)
            yield return JsonSerializer.Serialize(new { choices = new[] { new { text = piece, index = 0, finish_reason = (string?)null } } });
        yield return JsonSerializer.Serialize(new
        {
            choices = new[] { new { text = "", index = 0, finish_reason = finish } },
            usage = new { prompt_tokens = promptTokens, completion_tokens = completionTokens },
            timings = new { prompt_n = promptTokens, prompt_ms = 12.5, predicted_n = completionTokens, predicted_ms = 40.0, cache_n = 0 },
        });
    }

    public static ModelEntry Model(
        string endpoint, string served = "test-model", ChatTemplateMode template = ChatTemplateMode.None, string? apiKeyVariable = null,
        int maxConcurrency = 1, TimeSpan? itemTimeout = null) =>
        new("served", ModelFormat.Served, new ModelSource(null, null, null),
            new BackendOptions(256, 1, 64, 0, template, ItemTimeout: itemTimeout, Kind: BackendKind.OpenAi,
                Server: new ServerEndpoint(new Uri(endpoint), served, apiKeyVariable, maxConcurrency)),
            null, ImmutableSortedDictionary<string, string>.Empty, 1);

    protected override async Task ServeAsync(HttpListenerContext context)
    {
        var now = Interlocked.Increment(ref _inFlight);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
        }
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            var request = new SeenRequest(context.Request.HttpMethod, context.Request.Url!.AbsolutePath, body, context.Request.Headers["Authorization"]);
            Requests.Enqueue(request);
            await _handler(request, context.Response, Stopping);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException)
        {
            // The client went away (a deadline, a client-side stop) or the server is stopping.
        }
        finally
        {
            Interlocked.Decrement(ref _inFlight);
        }
    }
}
