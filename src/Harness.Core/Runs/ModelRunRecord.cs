using Harness.Core.Backends;
using Harness.Core.Contention;
using Harness.Core.Energy;

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
/// <param name="Energy">How energy was measured for this model: source, baseline, power state at start and end.</param>
/// <param name="Contention">How busy the machine was with other work while this invocation ran the model's items.</param>
public sealed record ModelRunRecord(
    string ModelId,
    ModelRunStatus Status,
    ModelLoadInfo? LoadInfo,
    long? PeakResidentMemoryBytes,
    string? Failure,
    DateTimeOffset UpdatedAt,
    ModelEnergy? Energy = null,
    ModelContention? Contention = null);

/// <summary>
/// How a model's energy was measured: the meters, the idle baseline taken with the model loaded, and the power
/// state at the start and end of its items (throttling observed in between is the difference of the counts).
/// </summary>
/// <param name="Failure">Why energy is missing or stops part-way (a meter that failed to open or stopped reading).</param>
public sealed record ModelEnergy(
    string Source,
    EnergyQuality Quality,
    string Scope,
    TimeSpan SampleInterval,
    EnergyReading? IdleBaseline,
    PowerState? PowerAtStart,
    PowerState? PowerAtEnd,
    string? Failure)
{
    /// <summary>Thermal throttle events the OS counted during the model's items; null where it keeps no count.</summary>
    public long? ThrottleEventsDuringRun =>
        PowerAtStart?.ThrottleEvents is { } start && PowerAtEnd?.ThrottleEvents is { } end ? end - start : null;
}
