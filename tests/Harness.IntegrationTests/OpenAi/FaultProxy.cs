using System.Net;
using System.Text;
using System.Text.Json;
using Harness.Tests.Backends.OpenAi;

namespace Harness.IntegrationTests.OpenAi;

/// <summary>What the proxy does to a generation request.</summary>
internal enum Fault
{
    /// <summary>Answers HTTP 500 (on every try).</summary>
    ServerError,

    /// <summary>Waits this long before forwarding (past the item timeout).</summary>
    Delay,

    /// <summary>Answers 200 with an event stream whose event is not JSON.</summary>
    Malformed,
}

/// <summary>
/// A loopback HTTP proxy in front of a real server that injects <see cref="Fault"/>s into the generation requests of chosen
/// prompts and forwards everything else (streamed bodies included) unchanged.
/// </summary>
internal sealed class FaultProxy : LoopbackHttpListener
{
    private readonly HttpClient _upstream = new() { Timeout = Timeout.InfiniteTimeSpan };
    private readonly Uri _target;
    private readonly IReadOnlyDictionary<string, Fault> _faults;
    private readonly TimeSpan _delay;

    public FaultProxy(int targetPort, IReadOnlyDictionary<string, Fault> faultsByPrompt, TimeSpan delay)
    {
        _target = new Uri($"http://127.0.0.1:{targetPort}/");
        _faults = faultsByPrompt;
        _delay = delay;
        Start();
    }

    protected override void OnStopped() => _upstream.Dispose();

    protected override async Task ServeAsync(HttpListenerContext context)
    {
        var response = context.Response;
        try
        {
            using var reader = new StreamReader(context.Request.InputStream, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            if (FaultFor(context.Request.Url!.AbsolutePath, body) is { } fault)
            {
                switch (fault)
                {
                    case Fault.ServerError:
                        await WriteAsync(response, 500, "application/json", """{"error":{"message":"injected fault: upstream unavailable"}}""");
                        return;
                    case Fault.Malformed:
                        await WriteAsync(response, 200, "text/event-stream", "data: {\"choices\":[{\"text\":\"1\"\n\n");
                        return;
                    case Fault.Delay:
                        await Task.Delay(_delay, Stopping);
                        break;
                }
            }

            using var forward = new HttpRequestMessage(new HttpMethod(context.Request.HttpMethod), new Uri(_target, context.Request.Url!.PathAndQuery));
            if (body.Length > 0)
                forward.Content = new StringContent(body, Encoding.UTF8, "application/json");
            using var answer = await _upstream.SendAsync(forward, HttpCompletionOption.ResponseHeadersRead, Stopping);
            response.StatusCode = (int)answer.StatusCode;
            response.ContentType = answer.Content.Headers.ContentType?.ToString();
            response.SendChunked = true;
            await using (var stream = await answer.Content.ReadAsStreamAsync(Stopping))
            {
                var buffer = new byte[4096];
                int read;
                while ((read = await stream.ReadAsync(buffer, Stopping)) > 0)
                {
                    await response.OutputStream.WriteAsync(buffer.AsMemory(0, read), Stopping);
                    await response.OutputStream.FlushAsync(Stopping);
                }
            }
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or OperationCanceledException or ObjectDisposedException or HttpRequestException or InvalidOperationException)
        {
            // The client gave up (a deadline) or the proxy is stopping.
        }
    }

    private Fault? FaultFor(string path, string body)
    {
        if (path != "/v1/completions" || body.Length == 0)
            return null;
        using var json = JsonDocument.Parse(body);
        return json.RootElement.TryGetProperty("stream", out var stream) && stream.ValueKind == JsonValueKind.True
            && json.RootElement.TryGetProperty("prompt", out var prompt) && prompt.ValueKind == JsonValueKind.String
            && _faults.TryGetValue(prompt.GetString()!, out var fault)
                ? fault
                : null;
    }

    private static async Task WriteAsync(HttpListenerResponse response, int status, string contentType, string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
        response.Close();
    }
}
