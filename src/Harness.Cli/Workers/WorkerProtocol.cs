using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Serialization;

namespace Harness.Cli.Workers;

/// <summary>What the parent asks a worker: one JSON object per line on the worker's stdin.</summary>
internal sealed record WorkerRequest(
    WorkerRequestKind Kind,
    ModelEntry? Model = null,
    string? ModelPath = null,
    GenerationRequest? Generate = null,
    LogLikelihoodRequest? LogLikelihood = null,
    DistributionTraceRequest? Trace = null,
    IReadOnlyList<GenerationRequest>? Batch = null);

/// <summary><c>GenerateBatch</c> is answered by one line per finished request (<see cref="WorkerResponse.BatchItem"/>),
/// then a line with <see cref="WorkerResponse.BatchDone"/>; every other request by exactly one line.</summary>
internal enum WorkerRequestKind { Load, Generate, LogLikelihood, Trace, GenerateBatch }

internal enum WorkerErrorKind { Load, Backend, Protocol }

/// <summary>A worker's answer: one JSON object per line on the protocol channel. Every answer carries the worker's peak RSS.</summary>
internal sealed record WorkerResponse(
    bool Ok,
    WorkerErrorKind? ErrorKind = null,
    string? Error = null,
    ModelLoadInfo? Loaded = null,
    GenerationResult? Generated = null,
    LogLikelihoodResult? Scored = null,
    DistributionTrace? Traced = null,
    long? PeakResidentMemoryBytes = null,
    BatchedGeneration? BatchItem = null,
    bool BatchDone = false,
    ItemFailureKind? FailureKind = null);

internal static class WorkerJson
{
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, HarnessJson.Options);

    public static T Deserialize<T>(string line) =>
        JsonSerializer.Deserialize<T>(line, HarnessJson.Options) ?? throw new JsonException("empty message");
}
