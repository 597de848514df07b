using System.Diagnostics;
using System.Text;
using Harness.Core.Backends;

namespace Harness.Cli.Workers;

/// <summary>
/// The worker side: loads one model and answers requests until its input closes. Runs in its own process so a
/// native abort inside llama.cpp takes down only this model's run.
/// </summary>
internal sealed class WorkerHost(IModelBackend backend, WorkerTestFaults? faults = null)
{
    public async Task<int> RunAsync(Stream input, Stream output, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(input, new UTF8Encoding(false));
        await using var writer = new StreamWriter(output, new UTF8Encoding(false)) { AutoFlush = true, NewLine = "\n" };
        IModelSession? session = null;
        try
        {
            while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
            {
                WorkerRequest request;
                try
                {
                    request = WorkerJson.Deserialize<WorkerRequest>(line);
                }
                catch (System.Text.Json.JsonException ex)
                {
                    var unreadable = Error(WorkerErrorKind.Protocol, $"unreadable request: {ex.Message}");
                    await writer.WriteLineAsync(WorkerJson.Serialize(unreadable).AsMemory(), cancellationToken).ConfigureAwait(false);
                    continue;
                }

                faults?.Apply(request);
                if (request is { Kind: WorkerRequestKind.GenerateBatch, Batch: { } batch } && session is IBatchedTextGenerator batched)
                {
                    await StreamBatchAsync(request.Id, batched, batch, writer, cancellationToken).ConfigureAwait(false);
                    continue;
                }

                var response = await HandleAsync(request, session, s => session = s, cancellationToken).ConfigureAwait(false);
                response = response with { RequestId = request.Id };
                await writer.WriteLineAsync(WorkerJson.Serialize(response).AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            return 0;
        }
        finally
        {
            if (session is not null)
            {
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>One line per finished request as it finishes, then the closing line (or an error line).</summary>
    private static async Task StreamBatchAsync(
        long requestId, IBatchedTextGenerator batched, IReadOnlyList<GenerationRequest> batch, StreamWriter writer, CancellationToken cancellationToken)
    {
        WorkerResponse last;
        try
        {
            await foreach (var item in batched.GenerateBatchAsync(batch, cancellationToken).ConfigureAwait(false))
            {
                var line = WorkerJson.Serialize(new WorkerResponse(true, BatchItem: item, RequestId: requestId));
                await writer.WriteLineAsync(line.AsMemory(), cancellationToken).ConfigureAwait(false);
            }

            last = new WorkerResponse(true, BatchDone: true, PeakResidentMemoryBytes: PeakRss());
        }
        catch (BackendException ex)
        {
            last = Error(WorkerErrorKind.Backend, ex.Message) with { FailureKind = ex.Kind };
        }

        await writer.WriteLineAsync(WorkerJson.Serialize(last with { RequestId = requestId }).AsMemory(), cancellationToken).ConfigureAwait(false);
    }

    private async Task<WorkerResponse> HandleAsync(
        WorkerRequest request, IModelSession? session, Action<IModelSession> loaded, CancellationToken cancellationToken)
    {
        try
        {
            switch (request.Kind)
            {
                case WorkerRequestKind.Load when session is null && request.Model is not null && request.ModelPath is not null:
                    var newSession = await backend.LoadAsync(request.Model, request.ModelPath, cancellationToken).ConfigureAwait(false);
                    loaded(newSession);
                    return new WorkerResponse(true, Loaded: newSession.LoadInfo, PeakResidentMemoryBytes: PeakRss(), Abilities: SessionAbilities.Of(newSession));
                case WorkerRequestKind.Generate when session is not null && request.Generate is not null:
                    var generated = await session.GenerateAsync(request.Generate, cancellationToken).ConfigureAwait(false);
                    return new WorkerResponse(true, Generated: generated, PeakResidentMemoryBytes: PeakRss());
                case WorkerRequestKind.LogLikelihood when session is ILogLikelihoodScorer scorer && request.LogLikelihood is not null:
                    var scored = await scorer.ScoreContinuationsAsync(request.LogLikelihood, cancellationToken).ConfigureAwait(false);
                    return new WorkerResponse(true, Scored: scored, PeakResidentMemoryBytes: PeakRss());
                case WorkerRequestKind.Trace when session is ITokenDistributionProbe probe && request.Trace is not null:
                    var traced = await probe.TraceAsync(request.Trace, cancellationToken).ConfigureAwait(false);
                    return new WorkerResponse(true, Traced: traced, PeakResidentMemoryBytes: PeakRss());
                default:
                    return Error(WorkerErrorKind.Protocol, $"request '{request.Kind}' is not valid in this state");
            }
        }
        catch (ModelLoadException ex)
        {
            return Error(WorkerErrorKind.Load, ex.Message);
        }
        catch (BackendException ex)
        {
            return Error(WorkerErrorKind.Backend, ex.Message) with { FailureKind = ex.Kind };
        }
    }

    private static WorkerResponse Error(WorkerErrorKind kind, string message) =>
        new(false, kind, message, PeakResidentMemoryBytes: PeakRss());

    private static long? PeakRss()
    {
        using var self = Process.GetCurrentProcess();
        var peak = self.PeakWorkingSet64;
        return peak > 0 ? peak : null;
    }
}
