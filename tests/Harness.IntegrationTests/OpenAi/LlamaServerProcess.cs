using System.Diagnostics;
using System.Net;
using System.Text;

namespace Harness.IntegrationTests.OpenAi;

/// <summary>
/// A real llama-server (built by .ci/llama-server.sh from the llama.cpp source node-llama-cpp carries) on 127.0.0.1 and a
/// free port. The binary: <c>HARNESS_LLAMA_SERVER</c>, else the newest <c>llama-server-*/build/bin/llama-server</c> under
/// <c>HARNESS_CI_CACHE</c> (default <c>~/.cache/harness-ci</c>).
/// </summary>
internal sealed class LlamaServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _log = new();

    private LlamaServerProcess(Process process, int port)
    {
        _process = process;
        Port = port;
    }

    public int Port { get; }

    public string Endpoint => $"http://127.0.0.1:{Port}/v1";

    /// <summary>What the server printed, for a failing test's message.</summary>
    public string Log
    {
        get
        {
            lock (_log)
                return _log.ToString();
        }
    }

    public static string? BinaryPath()
    {
        if (Environment.GetEnvironmentVariable("HARNESS_LLAMA_SERVER") is { Length: > 0 } configured)
            return configured;
        var cache = Environment.GetEnvironmentVariable("HARNESS_CI_CACHE") is { Length: > 0 } c
            ? c
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "harness-ci");
        if (!Directory.Exists(cache))
            return null;
        return Directory.GetDirectories(cache, "llama-server-*")
            .Select(d => Path.Combine(d, "build", "bin", "llama-server"))
            .Where(File.Exists)
            .OrderByDescending(File.GetLastWriteTimeUtc)
            .FirstOrDefault();
    }

    /// <param name="alias">The model name the server lists (<c>--alias</c>).</param>
    /// <param name="contextSize">Context per slot (one slot).</param>
    public static async Task<LlamaServerProcess> StartAsync(string modelPath, string alias, int contextSize, int slots = 1)
    {
        var binary = BinaryPath() ?? throw new InvalidOperationException("llama-server is not built: run .ci/llama-server.sh");
        Assert.True(File.Exists(modelPath), $"{modelPath} is missing");
        // The probed port is free when probed; a parallel test can take it before llama-server binds it: start again on
        // another port then.
        for (var attempt = 1; ; attempt++)
        {
            var port = Harness.Tests.Backends.OpenAi.LoopbackHttpListener.FreePort();
            if (await StartOnPortAsync(binary, modelPath, alias, contextSize, slots, port, lastAttempt: attempt == 3) is { } started)
                return started;
        }
    }

    /// <returns>The ready server, or null when it could not bind <paramref name="port"/> and this is not the last attempt.</returns>
    private static async Task<LlamaServerProcess?> StartOnPortAsync(string binary, string modelPath, string alias, int contextSize, int slots, int port, bool lastAttempt)
    {
        var start = new ProcessStartInfo(binary)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[]
                 {
                     "-m", modelPath, "--alias", alias, "-c", (contextSize * slots).ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-np", slots.ToString(System.Globalization.CultureInfo.InvariantCulture), "-t", "1", "--host", "127.0.0.1",
                     "--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture),
                 })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start {binary}");
        var server = new LlamaServerProcess(process, port);
        process.OutputDataReceived += (_, e) => server.Append(e.Data);
        process.ErrorDataReceived += (_, e) => server.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // drains the redirected output into the log
                if (!lastAttempt && server.Log.Contains("couldn't bind", StringComparison.Ordinal))
                {
                    await server.DisposeAsync();
                    return null;
                }
                throw new InvalidOperationException($"llama-server exited with {process.ExitCode} before it was ready:\n{server.Log}");
            }
            try
            {
                using var health = await http.GetAsync(new Uri($"http://127.0.0.1:{port}/health"));
                if (health.StatusCode == HttpStatusCode.OK)
                    return server;
            }
            catch (HttpRequestException)
            {
            }
            catch (TaskCanceledException)
            {
            }
            await Task.Delay(100);
        }
        await server.DisposeAsync();
        throw new TimeoutException($"llama-server did not answer /health within 120 s:\n{server.Log}");
    }

    /// <summary>Ends the server at once, as a crash or an operator's kill would.</summary>
    public void Kill()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }
    }

    public ValueTask DisposeAsync()
    {
        Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null)
            return;
        lock (_log)
            _log.AppendLine(line);
    }
}

/// <summary>
/// A fact that needs the real llama-server (and the shared model files it names): skipped with a reason when the binary is
/// not built, except under <c>CI=true</c>, where it runs and fails (CI builds it with .ci/llama-server.sh).
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresLlamaServerFactAttribute : FactAttribute
{
    public RequiresLlamaServerFactAttribute()
    {
        if (LlamaServerProcess.BinaryPath() is null && !SharedModels.IsCi)
            Skip = "llama-server is not built (run .ci/llama-server.sh, or set HARNESS_LLAMA_SERVER)";
        else if (!File.Exists(SharedModels.Stories260KPath) && !SharedModels.IsCi)
            Skip = $"shared model missing: {SharedModels.Stories260KPath}";
    }
}
