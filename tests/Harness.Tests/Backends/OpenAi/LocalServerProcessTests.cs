using System.Net;
using System.Net.Sockets;
using Harness.Backends.OpenAi;

namespace Harness.Tests.Backends.OpenAi;

/// <summary>A local server's process is found by its listening port, so its CPU time counts as the model's work.</summary>
public sealed class LocalServerProcessTests
{
    [Fact]
    public void The_process_listening_on_a_loopback_port_is_found_and_a_closed_port_has_none()
    {
        Assert.True(OperatingSystem.IsLinux(), "the lookup reads /proc; CI runs on Linux");
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port;
        try
        {
            port = ((IPEndPoint)listener.LocalEndpoint).Port;
            using var found = LocalServerProcess.Find(port);

            Assert.NotNull(found);
            Assert.Equal(Environment.ProcessId, found.Id);
        }
        finally
        {
            listener.Stop();
        }

        Assert.Null(LocalServerProcess.Find(port));
    }

    [Fact]
    public async Task A_session_on_a_loopback_server_reports_that_servers_cpu_time_so_contention_does_not_count_it_as_other_load()
    {
        // The fake server is this test process: the session must report this process's CPU time.
        await using var server = FakeOpenAiServer.Serving("test-model", (_, response, token) =>
            FakeOpenAiServer.WriteEventsAsync(response, FakeOpenAiServer.CompletionEvents(["4"], "stop", 5, 1), TimeSpan.Zero, token));
        await using var session = await new OpenAiBackend().LoadAsync(FakeOpenAiServer.Model(server.Endpoint), server.Endpoint, CancellationToken.None);

        var times = Assert.IsAssignableFrom<Harness.Core.Backends.IReportsProcessorTime>(session);
        var before = System.Diagnostics.Process.GetCurrentProcess().TotalProcessorTime;
        var reported = times.TotalProcessorTime;
        Assert.True(reported >= before - TimeSpan.FromMilliseconds(50) && reported > TimeSpan.Zero, $"reported {reported}, this process {before}");
    }
}
