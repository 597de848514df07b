using System.Diagnostics;

namespace Harness.Core.Contention;

/// <summary>
/// Samples a <see cref="IContentionProbe"/> over a window (one model's items, one benchmark test): CPU times and the
/// processes' own CPU time at the start and at <see cref="Finish"/>, the load average in between every
/// <see cref="SampleInterval"/> for its maximum. Reading two small files every few seconds costs nothing measurable.
/// </summary>
public sealed class ContentionRecorder : IAsyncDisposable
{
    private readonly IContentionProbe _probe;
    private readonly TimeProvider _time;
    private readonly Func<TimeSpan> _harnessCpu;
    private readonly Func<TimeSpan?> _workerCpu;
    private readonly int _logicalCores;
    private readonly DateTimeOffset _startedAt;
    private readonly long _startTimestamp;
    private readonly ContentionReading _start;
    private readonly TimeSpan _harnessAtStart;
    private readonly TimeSpan? _workerAtStart;
    private readonly object _gate = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampler;
    private double? _maxLoad;
    private TimeSpan? _lastWorker;
    private int _samples = 1;

    private ContentionRecorder(
        IContentionProbe probe, TimeProvider time, TimeSpan? sampleInterval, Func<TimeSpan> harnessCpu, Func<TimeSpan?> workerCpu, int logicalCores)
    {
        _probe = probe;
        _time = time;
        _harnessCpu = harnessCpu;
        _workerCpu = workerCpu;
        _logicalCores = logicalCores;
        SampleInterval = sampleInterval ?? TimeSpan.Zero;
        _startedAt = time.GetUtcNow();
        _startTimestamp = time.GetTimestamp();
        _start = probe.Read();
        _harnessAtStart = harnessCpu();
        _workerAtStart = workerCpu();
        _lastWorker = _workerAtStart;
        _maxLoad = _start.LoadAverage1m;
        _sampler = sampleInterval is { } interval && interval > TimeSpan.Zero
            ? Task.Run(() => SampleLoopAsync(interval, _stop.Token))
            : Task.CompletedTask;
    }

    /// <summary>How often the load average is read between start and finish; zero: only at both ends.</summary>
    public TimeSpan SampleInterval { get; }

    /// <summary>Takes the first reading now.</summary>
    /// <param name="sampleInterval">Background reads of the load average; null reads only at start and finish (tests).</param>
    /// <param name="harnessCpu">CPU time of the harness process; null reads this process.</param>
    /// <param name="workerCpu">CPU time of the process holding the model, or null when it runs in the harness process or
    /// can no longer be read (a worker that died: the last time read is used).</param>
    public static ContentionRecorder Start(
        IContentionProbe probe,
        TimeProvider timeProvider,
        TimeSpan? sampleInterval,
        Func<TimeSpan?>? workerCpu = null,
        Func<TimeSpan>? harnessCpu = null,
        int? logicalCores = null)
    {
        ArgumentNullException.ThrowIfNull(probe);
        ArgumentNullException.ThrowIfNull(timeProvider);
        return new ContentionRecorder(
            probe, timeProvider, sampleInterval, harnessCpu ?? ThisProcessCpu, workerCpu ?? (() => null), logicalCores ?? System.Environment.ProcessorCount);
    }

    /// <summary>The CPU time of this process so far.</summary>
    public static TimeSpan ThisProcessCpu()
    {
        using var self = Process.GetCurrentProcess();
        return self.TotalProcessorTime;
    }

    /// <summary>Reads the end of the window and summarises it. May be called more than once; each call ends a window here.</summary>
    public ModelContention Finish()
    {
        var end = _probe.Read();
        var harness = _harnessCpu() - _harnessAtStart;
        var workerNow = _workerCpu();
        double? maxLoad;
        int samples;
        TimeSpan? worker;
        lock (_gate)
        {
            _lastWorker = workerNow ?? _lastWorker;
            worker = _lastWorker is { } last && _workerAtStart is { } workerStart ? last - workerStart : null;
            _maxLoad = Max(_maxLoad, end.LoadAverage1m);
            _samples++;
            maxLoad = _maxLoad;
            samples = _samples;
        }

        var window = _time.GetElapsedTime(_startTimestamp);
        var shares = Shares(_start.Cpu, end.Cpu, harness, worker);
        return new ModelContention(
            _probe.Source, _logicalCores, _startedAt, window, SampleInterval, samples,
            _start.LoadAverage1m, end.LoadAverage1m, maxLoad,
            shares?.Other, shares?.Steal, shares?.Harness, shares?.Worker,
            shares is null ? $"machine CPU times are not available ({_probe.Source})" : null);
    }

    /// <summary>
    /// Shares of the machine's CPU time between two readings: other processes = busy (not idle, not stolen) minus the
    /// harness and its worker. Null without two readings or when no time passed on the kernel's clock.
    /// </summary>
    public static (double Other, double? Steal, double Harness, double? Worker)? Shares(
        MachineCpuTimes? start, MachineCpuTimes? end, TimeSpan harness, TimeSpan? worker)
    {
        if (start is null || end is null)
        {
            return null;
        }

        var total = (end.Total - start.Total).TotalSeconds;
        if (total <= 0)
        {
            return null;
        }

        double? steal = end.Steal is { } stealEnd && start.Steal is { } stealStart ? Math.Max(0, (stealEnd - stealStart).TotalSeconds) : null;
        var busy = Math.Max(0, total - (end.Idle - start.Idle).TotalSeconds - (steal ?? 0));
        var own = harness.TotalSeconds + (worker?.TotalSeconds ?? 0);

        // The kernel counts in ticks and the processes' times are read a moment apart from /proc/stat, so "others" can
        // come out a tick below zero on an idle machine.
        var other = Math.Max(0, busy - own);
        return (Clamp(other / total), steal is { } stolen ? Clamp(stolen / total) : null, Clamp(harness.TotalSeconds / total), worker is { } w ? Clamp(w.TotalSeconds / total) : null);
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _sampler.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
        }

        _stop.Dispose();
    }

    private async Task SampleLoopAsync(TimeSpan interval, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            await Task.Delay(interval, _time, cancellationToken).ConfigureAwait(false);
            var load = _probe.Read().LoadAverage1m;
            var worker = _workerCpu();
            lock (_gate)
            {
                _lastWorker = worker ?? _lastWorker;
                _maxLoad = Max(_maxLoad, load);
                _samples++;
            }
        }
    }

    private static double? Max(double? a, double? b) => a is null ? b : b is null ? a : Math.Max(a.Value, b.Value);

    private static double Clamp(double share) => Math.Clamp(share, 0, 1);
}
