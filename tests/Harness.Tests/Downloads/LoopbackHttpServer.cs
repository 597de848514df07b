using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Harness.Tests.Downloads;

/// <summary>
/// A minimal HTTP/1.1 server on 127.0.0.1 and a free port, one response per connection. Enough to exercise
/// downloads (status codes, Content-Length, a body that stalls half way) without touching any other host.
/// </summary>
internal sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();
    private readonly Func<string, Reply> handler;
    private readonly Task acceptLoop;
    private int requestCount;

    public LoopbackHttpServer(Func<string, Reply> handler)
    {
        this.handler = handler;
        listener.Start();
        acceptLoop = AcceptAsync();
    }

    /// <param name="StallAfterBytes">Send only this many body bytes, then hold the connection open until the server stops.</param>
    public sealed record Reply(int Status, byte[] Body, int? StallAfterBytes = null);

    public Uri BaseUri => new($"http://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/");

    public int RequestCount => Volatile.Read(ref requestCount);

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        listener.Stop();
        try
        {
            await acceptLoop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }

        stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            var client = await listener.AcceptTcpClientAsync(stop.Token);
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var path = await ReadRequestPathAsync(stream);
                Interlocked.Increment(ref requestCount);
                var reply = handler(path);
                var head = $"HTTP/1.1 {reply.Status} {ReasonPhrase(reply.Status)}\r\nContent-Length: {reply.Body.Length}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head), stop.Token);
                var sent = Math.Min(reply.StallAfterBytes ?? reply.Body.Length, reply.Body.Length);
                await stream.WriteAsync(reply.Body.AsMemory(0, sent), stop.Token);
                await stream.FlushAsync(stop.Token);
                if (reply.StallAfterBytes is not null)
                {
                    await Task.Delay(Timeout.Infinite, stop.Token);
                }
            }
            catch (Exception ex) when (ex is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The client went away (cancelled) or the server is stopping.
            }
        }
    }

    private async Task<string> ReadRequestPathAsync(NetworkStream stream)
    {
        var received = new StringBuilder();
        var buffer = new byte[1024];
        while (!received.ToString().Contains("\r\n\r\n", StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, stop.Token);
            if (read == 0)
            {
                throw new IOException("client closed before sending a full request");
            }

            received.Append(Encoding.ASCII.GetString(buffer, 0, read));
        }

        var requestLine = received.ToString().Split("\r\n")[0];
        return requestLine.Split(' ')[1];
    }

    private static string ReasonPhrase(int status) => status switch
    {
        200 => "OK",
        404 => "Not Found",
        500 => "Internal Server Error",
        _ => "Status",
    };
}

/// <summary>Reports synchronously, so a test sees every report before the call returns (Progress&lt;T&gt; posts them later).</summary>
internal sealed class SyncProgress<T>(Action<T> report) : IProgress<T>
{
    public void Report(T value) => report(value);
}
