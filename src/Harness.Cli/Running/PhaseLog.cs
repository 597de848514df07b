using System.Diagnostics;
using System.Globalization;

namespace Harness.Cli.Running;

/// <summary>
/// With <c>HARNESS_REPORT_TIMINGS=1</c>, one stderr line per phase of <c>harness report</c>: its wall time, the managed
/// heap after it and the process's peak resident memory so far. The profile behind docs/performance.md's "Reports at
/// benchmark scale"; silent otherwise.
/// </summary>
internal sealed class PhaseLog
{
    public const string Variable = "HARNESS_REPORT_TIMINGS";

    private readonly TextWriter _writer;
    private readonly Stopwatch _watch = Stopwatch.StartNew();
    private TimeSpan _last;

    private PhaseLog(TextWriter writer) => _writer = writer;

    /// <summary>A log to stderr when the variable is 1, else null (every call on null is a no-op through <c>?.</c>).</summary>
    public static PhaseLog? FromEnvironment() =>
        Environment.GetEnvironmentVariable(Variable) == "1" ? new PhaseLog(Console.Error) : null;

    public void Mark(string phase)
    {
        TimeSpan now = _watch.Elapsed;
        using var process = Process.GetCurrentProcess();
        _writer.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"[report timings] {phase,-28} {(now - _last).TotalSeconds,8:0.000} s  heap {GC.GetTotalMemory(false) / 1048576.0,8:0.0} MiB  peak RSS {process.PeakWorkingSet64 / 1048576.0,8:0.0} MiB"));
        _last = now;
    }
}
