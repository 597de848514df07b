using System.Net;
using System.Net.Sockets;

namespace Harness.Tests.Backends.OpenAi;

/// <summary>
/// An <see cref="HttpListener"/> on 127.0.0.1 and a free port that serves every request on its own task until disposed:
/// the HTTP servers of the OpenAI-compatible backend's tests (a fake server, a fault-injecting proxy) only say how to answer.
/// </summary>
internal abstract class LoopbackHttpListener : IAsyncDisposable
{
    private readonly HttpListener _listener = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _loop;

    protected LoopbackHttpListener()
    {
        Port = FreePort();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
    }

    public int Port { get; }

    /// <summary>The API root a manifest entry names.</summary>
    public string Endpoint => $"http://127.0.0.1:{Port}/v1";

    /// <summary>Cancelled when the server is disposed.</summary>
    protected CancellationToken Stopping => _stop.Token;

    /// <summary>A port no one listens on now (a probe listener's, released at once).</summary>
    public static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _listener.Close();
        try
        {
            if (_loop is not null)
            {
                await _loop;
            }
        }
        catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException or OperationCanceledException)
        {
        }

        _stop.Dispose();
        OnStopped();
        GC.SuppressFinalize(this);
    }

    /// <summary>Starts listening; called by the derived class once it is ready to answer.</summary>
    protected void Start()
    {
        _listener.Start();
        _loop = LoopAsync();
    }

    /// <summary>Answers one request; runs concurrently with the others.</summary>
    protected abstract Task ServeAsync(HttpListenerContext context);

    /// <summary>Releases what the derived server holds, after the last request has been abandoned.</summary>
    protected virtual void OnStopped()
    {
    }

    private async Task LoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            var context = await _listener.GetContextAsync();
            _ = ServeAsync(context);
        }
    }
}
