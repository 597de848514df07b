namespace Harness.Core.Backends;

/// <summary>Optional ability of a session: the peak resident memory of the process that holds the model.</summary>
public interface IReportsPeakMemory
{
    /// <summary>Peak resident set size so far, or null when the platform cannot tell.</summary>
    long? PeakResidentMemoryBytes { get; }
}
