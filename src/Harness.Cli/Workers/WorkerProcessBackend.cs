using System.Collections.Immutable;
using System.Diagnostics;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;

namespace Harness.Cli.Workers;

/// <summary>How to start a worker: the program and the arguments before <c>worker</c>.</summary>
internal sealed record WorkerLaunch(string FileName, ImmutableArray<string> Arguments)
{
    /// <summary>The running harness itself (apphost, or <c>dotnet harness.dll</c>).</summary>
    public static WorkerLaunch CurrentProcess()
    {
        var processPath = Environment.ProcessPath ?? throw new InvalidOperationException("cannot tell which program is running");
        var isDotnetHost = Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        return isDotnetHost
            ? new WorkerLaunch(processPath, [typeof(WorkerLaunch).Assembly.Location, "worker"])
            : new WorkerLaunch(processPath, ["worker"]);
    }
}

/// <summary>
/// A backend decorator that runs the real backend in a child process per model. A native abort or an
/// out-of-memory kill there surfaces here as <see cref="SessionLostException"/> with the exit status and the
/// last lines the worker wrote to stderr.
/// </summary>
internal sealed class WorkerProcessBackend(WorkerLaunch launch, string backendName) : IModelBackend
{
    public string Name => backendName;

    public async Task<IModelSession> LoadAsync(ModelEntry model, string modelPath, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(launch.FileName)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in launch.Arguments)
        {
            start.ArgumentList.Add(argument);
        }

        // On an assertion ggml attaches gdb to print a backtrace: seconds of delay and a screenful of noise
        // in front of the one line that says what failed.
        start.Environment["GGML_NO_BACKTRACE"] = "1";

        var process = Process.Start(start) ?? throw new ModelLoadException($"model '{model.Id}': could not start a worker process ({launch.FileName})");
        var session = new WorkerSession(model.Id, process);
        try
        {
            var response = await session.SendAsync(new WorkerRequest(WorkerRequestKind.Load, model, modelPath), cancellationToken).ConfigureAwait(false);
            session.Loaded(response.Loaded ?? throw new ModelLoadException($"model '{model.Id}': the worker answered the load without load facts"));
            return session;
        }
        catch
        {
            await session.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }
}

/// <summary>The parent's handle on one worker process. One request at a time, like every session.</summary>
internal sealed class WorkerSession : IModelSession, ILogLikelihoodScorer, ITokenDistributionProbe, IBatchedTextGenerator, IReportsPeakMemory, IReportsProcessorTime
{
    private const int StderrLinesKept = 200;
    private readonly string _modelId;
    private readonly Process _process;
    private readonly Queue<string> _stderrTail = new();
    private readonly Task _stderrPump;
    private ModelLoadInfo? _loadInfo;
    private long _busyTicks;
    private long _busySince;

    public WorkerSession(string modelId, Process process)
    {
        _modelId = modelId;
        _process = process;
        _stderrPump = Task.Run(PumpStderrAsync);
    }

    public ModelLoadInfo LoadInfo => _loadInfo ?? throw new InvalidOperationException("the model is not loaded");

    public long? PeakResidentMemoryBytes { get; private set; }

    /// <summary>The worker's CPU time; the energy estimate multiplies it. Throws once the worker has exited.</summary>
    public TimeSpan TotalProcessorTime => _process.TotalProcessorTime;

    public TimeSpan BusyTime => TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks));

    /// <summary>The worker's process id, for labels.</summary>
    public int ProcessId => _process.Id;

    internal void Loaded(ModelLoadInfo info) => _loadInfo = info;

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
    {
        var response = await SendAsync(new WorkerRequest(WorkerRequestKind.Generate, Generate: request), cancellationToken).ConfigureAwait(false);
        return response.Generated ?? throw Protocol("a generation answer without a result");
    }

    public async Task<LogLikelihoodResult> ScoreContinuationsAsync(LogLikelihoodRequest request, CancellationToken cancellationToken)
    {
        var response = await SendAsync(new WorkerRequest(WorkerRequestKind.LogLikelihood, LogLikelihood: request), cancellationToken).ConfigureAwait(false);
        return response.Scored ?? throw Protocol("a log-likelihood answer without a result");
    }

    public async Task<DistributionTrace> TraceAsync(DistributionTraceRequest request, CancellationToken cancellationToken)
    {
        var response = await SendAsync(new WorkerRequest(WorkerRequestKind.Trace, Trace: request), cancellationToken).ConfigureAwait(false);
        return response.Traced ?? throw Protocol("a trace answer without a result");
    }

    public int ParallelSequences => _loadInfo?.ParallelSequences ?? 1;

    public async IAsyncEnumerable<BatchedGeneration> GenerateBatchAsync(
        IReadOnlyList<GenerationRequest> requests, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var response = await SendAsync(new WorkerRequest(WorkerRequestKind.GenerateBatch, Batch: requests), cancellationToken).ConfigureAwait(false);
        while (!response.BatchDone)
        {
            yield return response.BatchItem ?? throw Protocol("a batch answer without an item");
            response = await ReceiveAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    internal async Task<WorkerResponse> SendAsync(WorkerRequest request, CancellationToken cancellationToken)
    {
        _busySince = Stopwatch.GetTimestamp();
        try
        {
            await _process.StandardInput.WriteLineAsync(WorkerJson.Serialize(request).AsMemory(), cancellationToken).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            throw await LostAsync().ConfigureAwait(false);
        }

        return await ReceiveAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task<WorkerResponse> ReceiveAsync(CancellationToken cancellationToken)
    {
        string? line;
        try
        {
            line = await _process.StandardOutput.ReadLineAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            line = null;
        }

        // The worker is busy from a request to its answer, and between the streamed answers of a batch.
        var now = Stopwatch.GetTimestamp();
        Interlocked.Add(ref _busyTicks, Stopwatch.GetElapsedTime(_busySince, now).Ticks);
        _busySince = now;
        if (line is null)
        {
            cancellationToken.ThrowIfCancellationRequested();
            throw await LostAsync().ConfigureAwait(false);
        }

        WorkerResponse response;
        try
        {
            response = WorkerJson.Deserialize<WorkerResponse>(line);
        }
        catch (System.Text.Json.JsonException ex)
        {
            throw Protocol($"an unreadable answer ({ex.Message})");
        }

        PeakResidentMemoryBytes = Math.Max(PeakResidentMemoryBytes ?? 0, response.PeakResidentMemoryBytes ?? 0);
        if (response.Ok)
        {
            return response;
        }

        var message = response.Error ?? "unknown error";
        throw response.ErrorKind switch
        {
            WorkerErrorKind.Load => new ModelLoadException(message),
            WorkerErrorKind.Backend => new BackendException(message, response.FailureKind ?? ItemFailureKind.Backend),
            _ => Protocol(message),
        };
    }

    private async Task<SessionLostException> LostAsync()
    {
        // The worker closed its channel: give it a moment to finish dying so the exit status is known.
        using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        try
        {
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
            await _stderrPump.WaitAsync(TimeSpan.FromSeconds(2)).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or TimeoutException)
        {
            // Still running but mute: reported as lost below, and killed on dispose.
        }

        var status = _process.HasExited ? DescribeExit(_process.ExitCode) : "stopped answering";
        string tail;
        lock (_stderrTail)
        {
            tail = string.Join(Environment.NewLine, Evidence(_stderrTail));
        }

        var message = $"model '{_modelId}': worker process {status}";
        return new SessionLostException(tail.Length == 0 ? message : $"{message}; its last output:{Environment.NewLine}{tail}");
    }

    /// <summary>The lines that say what went wrong (an assertion, an error) or else the last few lines.</summary>
    internal static IEnumerable<string> Evidence(IEnumerable<string> stderr)
    {
        var lines = stderr.Where(l => !string.IsNullOrWhiteSpace(l)).ToList();
        var telling = lines.Where(l => l.Contains("GGML_ASSERT", StringComparison.Ordinal)
            || l.Contains("error", StringComparison.OrdinalIgnoreCase)
            || l.Contains("what()", StringComparison.Ordinal)
            || l.Contains("Out of memory", StringComparison.OrdinalIgnoreCase)).TakeLast(8).ToList();
        return telling.Count > 0 ? telling : lines.TakeLast(8);
    }

    internal static string DescribeExit(int exitCode) => exitCode switch
    {
        134 => "aborted (SIGABRT, exit 134: a native assertion such as GGML_ASSERT failed)",
        137 => "was killed (SIGKILL, exit 137: often the out-of-memory killer)",
        139 => "crashed (SIGSEGV, exit 139: a native memory fault)",
        _ when exitCode > 128 && exitCode < 160 => $"died from signal {exitCode - 128} (exit {exitCode})",
        _ => $"exited with code {exitCode}",
    };

    private BackendException Protocol(string problem) => new($"model '{_modelId}': worker protocol error: {problem}");

    private async Task PumpStderrAsync()
    {
        while (await _process.StandardError.ReadLineAsync().ConfigureAwait(false) is { } line)
        {
            lock (_stderrTail)
            {
                _stderrTail.Enqueue(line);
                if (_stderrTail.Count > StderrLinesKept)
                {
                    _stderrTail.Dequeue();
                }
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            _process.StandardInput.Close();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _process.WaitForExitAsync(wait.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or InvalidOperationException)
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
    }
}
