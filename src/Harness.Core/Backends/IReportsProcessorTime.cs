namespace Harness.Core.Backends;

/// <summary>Optional ability of a session: the time its process has used, which the energy estimate multiplies.</summary>
public interface IReportsProcessorTime
{
    /// <summary>CPU time of the process that holds the model, all threads, user and kernel.</summary>
    TimeSpan TotalProcessorTime { get; }

    /// <summary>Wall time spent serving requests so far (the GPU part of the estimate).</summary>
    TimeSpan BusyTime { get; }
}
