namespace Harness.Core.Contention;

/// <summary>
/// How busy the machine was while one model's items ran (or one benchmark test was timed). Shares are fractions of the
/// machine's whole CPU time over the window (all cores), so 0.5 on two cores is one core's worth.
/// </summary>
/// <param name="Source">The probe read (<see cref="IContentionProbe.Source"/>).</param>
/// <param name="Window">From the first reading to the last.</param>
/// <param name="SampleInterval">How often the load average was read between the first and last reading.</param>
/// <param name="Samples">Readings taken, first and last included.</param>
/// <param name="OtherProcessesShare">Busy time of every process except the harness and its worker, over the machine's
/// CPU time; null where the OS does not give machine CPU times.</param>
/// <param name="StealShare">Time the hypervisor gave to other guests; null where not counted.</param>
/// <param name="HarnessShare">The harness process's own CPU time (with an in-process model, the model too).</param>
/// <param name="WorkerShare">The worker process's CPU time; null when the model runs in the harness process.</param>
/// <param name="Unavailable">Why the CPU shares are missing, when they are.</param>
public sealed record ModelContention(
    string Source,
    int LogicalCores,
    DateTimeOffset StartedAt,
    TimeSpan Window,
    TimeSpan SampleInterval,
    int Samples,
    double? LoadAverage1mAtStart,
    double? LoadAverage1mAtEnd,
    double? LoadAverage1mMax,
    double? OtherProcessesShare,
    double? StealShare,
    double? HarnessShare,
    double? WorkerShare,
    string? Unavailable);
