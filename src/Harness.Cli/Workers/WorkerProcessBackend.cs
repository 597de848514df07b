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
/// last lines the worker wrote to stderr. A watchdog bounds every wait on the worker: a load, and each request, gets a
/// deadline (<see cref="RequestDeadlines"/>); past it the worker is killed and the request ends with a
/// <see cref="SessionLostException"/> of kind <see cref="ItemFailureKind.Timeout"/>.
/// </summary>
/// <param name="log">Where protocol oddities are reported (a discarded late answer); null: nowhere.</param>
internal sealed class WorkerProcessBackend(
    WorkerLaunch launch, string backendName, WatchdogSettings? watchdog = null, TimeProvider? timeProvider = null, Action<string>? log = null)
    : IModelBackend
{
    private readonly Dictionary<string, RequestDeadlines> _deadlines = new(StringComparer.Ordinal);

    public string Name => backendName;

    public WatchdogSettings Watchdog { get; } = watchdog ?? WatchdogSettings.Default;

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

        var deadlines = DeadlinesFor(model);
        var process = Process.Start(start) ?? throw new ModelLoadException($"model '{model.Id}': could not start a worker process ({launch.FileName})");
        var channel = new WorkerChannel(model.Id, process, deadlines, timeProvider ?? TimeProvider.System, log);
        try
        {
            var response = await channel.SendAsync(id => new WorkerRequest(id, WorkerRequestKind.Load, model, modelPath),
                deadlines.Load(FileSize(modelPath)), cancellationToken).ConfigureAwait(false);
            var loaded = response.Loaded ?? throw new ModelLoadException($"model '{model.Id}': the worker answered the load without load facts");
            // A worker that does not say what it can do (an older one) is taken at its load facts: generation, and batching if it says so.
            var abilities = response.Abilities ?? new SessionAbilities(false, loaded.ParallelSequences > 1 ? loaded.ParallelSequences : 0, false, false);
            return WorkerSession.Create(channel, loaded, abilities);
        }
        catch
        {
            await channel.DisposeAsync().ConfigureAwait(false);
            throw;
        }
    }

    // One per model, kept across its workers: a fresh worker after a crash is held to the speed the model has shown.
    private RequestDeadlines DeadlinesFor(ModelEntry model)
    {
        lock (_deadlines)
        {
            if (!_deadlines.TryGetValue(model.Id, out var deadlines))
            {
                deadlines = new RequestDeadlines(Watchdog, model.Backend.ItemTimeout, model.Backend.LoadTimeout);
                _deadlines.Add(model.Id, deadlines);
            }

            return deadlines;
        }
    }

    private static long FileSize(string path)
    {
        try
        {
            return new FileInfo(path).Length;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return 0; // the worker's load reports the real problem
        }
    }
}

/// <summary>
/// The parent's handle on one worker: the only abilities it offers are those the worker's load answer listed
/// (capability negotiation), so <c>session is ILogLikelihoodScorer</c> tells the truth about the model behind it.
/// </summary>
internal class WorkerSession : IModelSession, IReportsPeakMemory, IReportsProcessorTime
{
    private readonly WorkerChannel _channel;

    private protected WorkerSession(WorkerChannel channel, ModelLoadInfo loadInfo, SessionAbilities abilities)
    {
        _channel = channel;
        LoadInfo = loadInfo;
        Abilities = abilities;
    }

    /// <summary>A session offering exactly <paramref name="abilities"/> (throughput probing never crosses the protocol).</summary>
    public static WorkerSession Create(WorkerChannel channel, ModelLoadInfo loadInfo, SessionAbilities abilities) =>
        (abilities.LogLikelihood, abilities.TokenDistributions, abilities.ParallelSequences > 0) switch
        {
            (false, false, false) => new WorkerSession(channel, loadInfo, abilities),
            (true, false, false) => new Scoring(channel, loadInfo, abilities),
            (false, true, false) => new Tracing(channel, loadInfo, abilities),
            (false, false, true) => new Batching(channel, loadInfo, abilities),
            (true, true, false) => new ScoringTracing(channel, loadInfo, abilities),
            (true, false, true) => new ScoringBatching(channel, loadInfo, abilities),
            (false, true, true) => new TracingBatching(channel, loadInfo, abilities),
            (true, true, true) => new ScoringTracingBatching(channel, loadInfo, abilities),
        };

    public ModelLoadInfo LoadInfo { get; }

    /// <summary>What the worker said its session can do.</summary>
    public SessionAbilities Abilities { get; }

    public long? PeakResidentMemoryBytes => _channel.PeakResidentMemoryBytes;

    /// <summary>The worker's CPU time; the energy estimate multiplies it. Throws once the worker has exited.</summary>
    public TimeSpan TotalProcessorTime => _channel.TotalProcessorTime;

    public TimeSpan BusyTime => _channel.BusyTime;

    /// <summary>The worker's process id, for labels.</summary>
    public int ProcessId => _channel.ProcessId;

    public async Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
    {
        var size = RequestSize.Of(request, _channel.Deadlines.Settings);
        var response = await _channel.SendAsync(id => new WorkerRequest(id, WorkerRequestKind.Generate, Generate: request),
            _channel.Deadlines.For(size), cancellationToken).ConfigureAwait(false);
        var result = response.Generated ?? throw _channel.Protocol("a generation answer without a result");
        _channel.Deadlines.Observe(result.PromptTokens, result.GeneratedTokens, result.Timings);
        return result;
    }

    public async Task<LogLikelihoodResult> ScoreContinuationsAsync(LogLikelihoodRequest request, CancellationToken cancellationToken)
    {
        var size = RequestSize.Of(request, _channel.Deadlines.Settings);
        var response = await _channel.SendAsync(id => new WorkerRequest(id, WorkerRequestKind.LogLikelihood, LogLikelihood: request),
            _channel.Deadlines.For(size), cancellationToken).ConfigureAwait(false);
        var result = response.Scored ?? throw _channel.Protocol("a log-likelihood answer without a result");
        _channel.Deadlines.Observe(result.PromptTokens + result.Continuations.Sum(c => c.TokenCount), 0, result.Timings);
        return result;
    }

    public async Task<DistributionTrace> TraceAsync(DistributionTraceRequest request, CancellationToken cancellationToken)
    {
        var size = RequestSize.Of(request, _channel.Deadlines.Settings);
        var response = await _channel.SendAsync(id => new WorkerRequest(id, WorkerRequestKind.Trace, Trace: request),
            _channel.Deadlines.For(size), cancellationToken).ConfigureAwait(false);
        var result = response.Traced ?? throw _channel.Protocol("a trace answer without a result");
        _channel.Deadlines.Observe(result.Tokens.Length, 0, result.Timings);
        return result;
    }

    public int ParallelSequences => Math.Max(1, Abilities.ParallelSequences);

    /// <summary>
    /// The batch's deadline is per answer line: each wait for the next finished request gets the deadline of the
    /// largest request still outstanding, times the sequences sharing the decodes; every answer restarts the clock.
    /// </summary>
    public async IAsyncEnumerable<BatchedGeneration> GenerateBatchAsync(
        IReadOnlyList<GenerationRequest> requests, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var settings = _channel.Deadlines.Settings;
        var outstanding = Enumerable.Range(0, requests.Count).ToHashSet();
        RequestDeadline NextDeadline()
        {
            var sizes = outstanding.Select(i => RequestSize.Of(requests[i], settings)).ToList();
            var largest = sizes.Count == 0 ? new RequestSize(0, 0) : new RequestSize(sizes.Max(s => s.PromptTokens), sizes.Max(s => s.NewTokens));
            return _channel.Deadlines.For(largest, Math.Min(ParallelSequences, Math.Max(1, outstanding.Count)));
        }

        var (id, response) = await _channel.SendBatchAsync(id => new WorkerRequest(id, WorkerRequestKind.GenerateBatch, Batch: requests),
            NextDeadline(), cancellationToken).ConfigureAwait(false);
        while (!response.BatchDone)
        {
            var item = response.BatchItem ?? throw _channel.Protocol("a batch answer without an item");
            outstanding.Remove(item.Index);
            if (item.Result is { } result)
            {
                _channel.Deadlines.Observe(result.PromptTokens, result.GeneratedTokens, result.Timings);
            }

            yield return item;
            response = await _channel.ReceiveAsync(id, NextDeadline(), cancellationToken).ConfigureAwait(false);
        }
    }

    public ValueTask DisposeAsync() => _channel.DisposeAsync();

    // Each class offers one combination of abilities; the methods are the base class's.
    private sealed class Scoring(WorkerChannel c, ModelLoadInfo i, SessionAbilities a) : WorkerSession(c, i, a), ILogLikelihoodScorer;

    private sealed class Tracing(WorkerChannel c, ModelLoadInfo i, SessionAbilities a) : WorkerSession(c, i, a), ITokenDistributionProbe;

    private sealed class Batching(WorkerChannel c, ModelLoadInfo i, SessionAbilities a) : WorkerSession(c, i, a), IBatchedTextGenerator;

    private sealed class ScoringTracing(WorkerChannel c, ModelLoadInfo i, SessionAbilities a) : WorkerSession(c, i, a), ILogLikelihoodScorer, ITokenDistributionProbe;

    private sealed class ScoringBatching(WorkerChannel c, ModelLoadInfo i, SessionAbilities a) : WorkerSession(c, i, a), ILogLikelihoodScorer, IBatchedTextGenerator;

    private sealed class TracingBatching(WorkerChannel c, ModelLoadInfo i, SessionAbilities a) : WorkerSession(c, i, a), ITokenDistributionProbe, IBatchedTextGenerator;

    private sealed class ScoringTracingBatching(WorkerChannel c, ModelLoadInfo i, SessionAbilities a)
        : WorkerSession(c, i, a), ILogLikelihoodScorer, ITokenDistributionProbe, IBatchedTextGenerator;
}

/// <summary>
/// One worker process and its protocol: one request at a time, every answer checked against the id of the request
/// awaited, every wait bounded by a deadline. A session that timed out or lost its worker stays lost.
/// </summary>
internal sealed class WorkerChannel : IAsyncDisposable
{
    private const int StderrLinesKept = 200;
    private readonly string _modelId;
    private readonly Process _process;
    private readonly TimeProvider _timeProvider;
    private readonly Action<string>? _log;
    private readonly Queue<string> _stderrTail = new();
    private readonly Task _stderrPump;
    private long _nextId;
    private long _busyTicks;
    private long _busySince;
    private Task<string?>? _pendingRead;
    private SessionLostException? _lost;

    public WorkerChannel(string modelId, Process process, RequestDeadlines deadlines, TimeProvider timeProvider, Action<string>? log)
    {
        _modelId = modelId;
        _process = process;
        Deadlines = deadlines;
        _timeProvider = timeProvider;
        _log = log;
        _stderrPump = Task.Run(PumpStderrAsync);
    }

    public RequestDeadlines Deadlines { get; }

    public long? PeakResidentMemoryBytes { get; private set; }

    public TimeSpan TotalProcessorTime => _process.TotalProcessorTime;

    public TimeSpan BusyTime => TimeSpan.FromTicks(Interlocked.Read(ref _busyTicks));

    public int ProcessId => _process.Id;

    /// <summary>Answers whose id was not the one awaited, discarded (a late answer to an abandoned request).</summary>
    public int DiscardedAnswers { get; private set; }

    public async Task<WorkerResponse> SendAsync(Func<long, WorkerRequest> request, RequestDeadline deadline, CancellationToken cancellationToken) =>
        (await SendBatchAsync(request, deadline, cancellationToken).ConfigureAwait(false)).First;

    /// <summary>Sends a request and waits for its first answer line; returns the request's id for the lines that follow.</summary>
    public async Task<(long Id, WorkerResponse First)> SendBatchAsync(
        Func<long, WorkerRequest> request, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        if (_lost is not null)
        {
            throw _lost;
        }

        var id = ++_nextId;
        _busySince = Stopwatch.GetTimestamp();
        try
        {
            await _process.StandardInput.WriteLineAsync(WorkerJson.Serialize(request(id)).AsMemory(), cancellationToken).ConfigureAwait(false);
            await _process.StandardInput.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (IOException) when (!cancellationToken.IsCancellationRequested)
        {
            throw await LostAsync().ConfigureAwait(false);
        }

        return (id, await ReceiveAsync(id, deadline, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>The next answer to request <paramref name="id"/>; answers to any other request are discarded and logged.</summary>
    public async Task<WorkerResponse> ReceiveAsync(long id, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        var started = _timeProvider.GetTimestamp();
        while (true)
        {
            var remaining = deadline.Limit - _timeProvider.GetElapsedTime(started);
            var line = await ReadLineAsync(remaining, started, deadline, cancellationToken).ConfigureAwait(false);

            // The worker is busy from a request to its answer, and between the streamed answers of a batch.
            var now = Stopwatch.GetTimestamp();
            Interlocked.Add(ref _busyTicks, Stopwatch.GetElapsedTime(_busySince, now).Ticks);
            _busySince = now;

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
            // An error without an id is the worker's answer to a line it could not read: ours, since we await one.
            if (response.RequestId != id && !(response.RequestId is null && !response.Ok))
            {
                DiscardedAnswers++;
                _log?.Invoke(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                    $"model '{_modelId}': discarded a worker answer to request {response.RequestId?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "(none)"} while awaiting request {id}"));
                continue;
            }

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
    }

    private async Task<string> ReadLineAsync(TimeSpan remaining, long started, RequestDeadline deadline, CancellationToken cancellationToken)
    {
        // A read abandoned by a cancelled wait is resumed by the next one, so no line is ever read twice or lost.
        _pendingRead ??= ReadRawLineAsync();
        var read = _pendingRead;
        while (true)
        {
            try
            {
                var line = await read.WaitAsync(remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero, _timeProvider, cancellationToken).ConfigureAwait(false);
                _pendingRead = null;
                return line ?? throw await LostAsync().ConfigureAwait(false);
            }
            catch (TimeoutException) when (_timeProvider.GetElapsedTime(started) < deadline.Limit)
            {
                // A timer may fire a few milliseconds before the clock reaches the deadline: wait out the rest, so a
                // worker is never killed before its deadline and the recorded elapsed time is at least the deadline.
                remaining = deadline.Limit - _timeProvider.GetElapsedTime(started);
            }
            catch (TimeoutException)
            {
                break;
            }
        }

        var elapsed = _timeProvider.GetElapsedTime(started);
        Kill();
        throw _lost = await LostAsync(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"timeout after {elapsed.TotalSeconds:0.###} s (deadline {deadline.Limit.TotalSeconds:0.###} s from {deadline.Basis}); the worker was killed"),
            ItemFailureKind.Timeout).ConfigureAwait(false);
    }

    private async Task<string?> ReadRawLineAsync()
    {
        try
        {
            return await _process.StandardOutput.ReadLineAsync().ConfigureAwait(false);
        }
        catch (IOException)
        {
            return null;
        }
    }

    private void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    public BackendException Protocol(string problem) => new($"model '{_modelId}': worker protocol error: {problem}");

    private Task<SessionLostException> LostAsync() => LostAsync(null, ItemFailureKind.WorkerCrash);

    private async Task<SessionLostException> LostAsync(string? why, ItemFailureKind kind)
    {
        if (_lost is not null)
        {
            return _lost;
        }

        // The worker closed its channel (or was just killed): give it a moment to finish dying so the exit status is known.
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

        var message = why is null ? $"model '{_modelId}': worker process {status}" : $"model '{_modelId}': {why}";
        return _lost = new SessionLostException(tail.Length == 0 ? message : $"{message}; its last output:{Environment.NewLine}{tail}", kind);
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
        if (_lost is not null)
        {
            Kill(); // a lost worker may be alive but hung: it gets no grace period
        }

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
