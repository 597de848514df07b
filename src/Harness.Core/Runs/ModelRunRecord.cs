using Harness.Core.Backends;

namespace Harness.Core.Runs;

public enum ModelRunStatus
{
    /// <summary>Loaded; items are being evaluated.</summary>
    Loaded,
    /// <summary>Never loaded: missing file, wrong checksum, unloadable GGUF.</summary>
    LoadFailed,
    /// <summary>The worker process died (native abort, out-of-memory kill) or stopped answering.</summary>
    Crashed,
    /// <summary>Every planned item has a record.</summary>
    Completed,
}

/// <summary>One model's run state, stored when it changes. The newest record per model wins.</summary>
/// <param name="PeakResidentMemoryBytes">Peak RSS of the worker process over the model's run.</param>
public sealed record ModelRunRecord(
    string ModelId,
    ModelRunStatus Status,
    ModelLoadInfo? LoadInfo,
    long? PeakResidentMemoryBytes,
    string? Failure,
    DateTimeOffset UpdatedAt);
