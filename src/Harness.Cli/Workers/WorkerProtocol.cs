using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Serialization;

namespace Harness.Cli.Workers;

/// <summary>What the parent asks a worker: one JSON object per line on the worker's stdin.</summary>
/// <param name="Id">Unique per session; every answer line echoes it, so a late answer to an abandoned request is never
/// taken for the answer to the next one.</param>
internal sealed record WorkerRequest(
    long Id,
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
/// <param name="RequestId">The <see cref="WorkerRequest.Id"/> answered; null only on the error line for a request too
/// garbled to read its id.</param>
/// <param name="Abilities">On the answer to a load: what the loaded session can really do.</param>
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
    ItemFailureKind? FailureKind = null,
    long? RequestId = null,
    SessionAbilities? Abilities = null);

/// <summary>
/// The optional abilities a loaded session has (capability negotiation): the parent's proxy offers only these.
/// </summary>
/// <param name="ParallelSequences">Sequences decoded together by <see cref="IBatchedTextGenerator"/>; 0 without it.</param>
/// <param name="ThroughputProbe">Reported for completeness; the protocol carries no throughput requests (<c>harness bench</c>
/// runs its backend in process), so the proxy never offers it.</param>
internal sealed record SessionAbilities(bool LogLikelihood, int ParallelSequences, bool TokenDistributions, bool ThroughputProbe)
{
    public static SessionAbilities Of(IModelSession session) => new(
        session is ILogLikelihoodScorer,
        session is IBatchedTextGenerator batched ? batched.ParallelSequences : 0,
        session is ITokenDistributionProbe,
        session is IThroughputProbe);

    public override string ToString()
    {
        var names = new List<string>();
        if (LogLikelihood)
        {
            names.Add("log-likelihood");
        }

        if (ParallelSequences > 0)
        {
            names.Add(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"batched generation ({ParallelSequences} sequences)"));
        }

        if (TokenDistributions)
        {
            names.Add("token distributions");
        }

        if (ThroughputProbe)
        {
            names.Add("throughput probe");
        }

        return names.Count == 0 ? "generation only" : "generation, " + string.Join(", ", names);
    }
}

internal static class WorkerJson
{
    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, HarnessJson.Options);

    public static T Deserialize<T>(string line) =>
        JsonSerializer.Deserialize<T>(line, HarnessJson.Options) ?? throw new JsonException("empty message");
}
