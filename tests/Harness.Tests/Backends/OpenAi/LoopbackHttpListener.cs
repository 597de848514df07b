using System.Net;
using System.Net.Sockets;

namespace Harness.Tests.Backends.OpenAi;

/// <summary>
/// An <see cref="HttpListener"/> on 127.0.0.1 and a free port that serves every request on its own task until disposed:
/// the HTTP servers of the OpenAI-compatible backend's tests (a fake server, a fault-injecting proxy) only say how to answer.
/// </summary>
internal abstract class LoopbackHttpListener : IAsyncDisposable
{
    private const int BindAttempts = 5;
    private readonly CancellationTokenSource _stop = new();
    private HttpListener _listener = new();
    private Task? _loop;

    /// <summary>The port listened on; known once <see cref="Start"/> has bound it.</summary>
    public int Port { get; private set; }

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
        // Close alone: on Unix, Stop() already unbinds the port and a Close() after it binds the port again to remove the
        // prefix, which throws "Address already in use" when a parallel test has taken the port in between.
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
        // The probed port is free when probed; a parallel test can take it before HttpListener binds it, so bind again on
        // another one (a fresh listener: a failed Start leaves the old one unusable).
        for (var attempt = 1; ; attempt++)
        {
            Port = FreePort();
            _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
            try
            {
                _listener.Start();
                break;
            }
            catch (HttpListenerException) when (attempt < BindAttempts)
            {
                _listener.Close();
                _listener = new HttpListener();
            }
        }

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
