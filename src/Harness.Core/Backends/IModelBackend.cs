using Harness.Core.Runs;
using Harness.Core.Models;

namespace Harness.Core.Backends;

/// <summary>A model runtime (llama.cpp, ONNX Runtime, a test fake) that can load a model into a session.</summary>
public interface IModelBackend
{
    /// <summary>Stable name recorded in every run, e.g. <c>llamasharp</c>.</summary>
    string Name { get; }

    /// <summary>Loads <paramref name="model"/> from the local file <paramref name="modelPath"/>.</summary>
    /// <exception cref="ModelLoadException">The file is missing, corrupt or not loadable by this backend.</exception>
    Task<IModelSession> LoadAsync(ModelEntry model, string modelPath, CancellationToken cancellationToken);
}

/// <summary>A loaded model with one reusable native context. Not thread-safe: one request at a time.</summary>
public interface IModelSession : ITextGenerator, IAsyncDisposable
{
    /// <summary>Facts about the load: time, memory, effective settings, library versions.</summary>
    ModelLoadInfo LoadInfo { get; }
}

/// <summary>Generate-until: greedy or seeded sampling up to a stop sequence or token budget.</summary>
public interface ITextGenerator
{
    Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken);
}

/// <summary>Optional ability: sum of continuation token log-probabilities given a context (lm-eval style).</summary>
public interface ILogLikelihoodScorer
{
    Task<LogLikelihoodResult> ScoreContinuationsAsync(LogLikelihoodRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// Optional ability: next-token distributions along a text, for measuring how far a quantized model drifts from
/// its base on the same tokens (KL divergence, top-1 agreement, delta-p) and for perplexity.
/// </summary>
public interface ITokenDistributionProbe
{
    Task<DistributionTrace> TraceAsync(DistributionTraceRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// Optional ability: continuous batching. Up to <see cref="ParallelSequences"/> generations are decoded together in
/// one batch, each on its own sequence; a finished sequence's slot takes the next request. Every result equals what
/// <see cref="ITextGenerator.GenerateAsync"/> returns for that request alone; only the timings differ (they are wall
/// times of decodes shared with other sequences).
/// </summary>
public interface IBatchedTextGenerator
{
    /// <summary>Most sequences decoded together; 1 means no batching.</summary>
    int ParallelSequences { get; }

    /// <summary>
    /// Generates every request and yields each result as soon as its sequence finishes (not in request order).
    /// A request that fails alone (a prompt longer than the context, NaN logits) yields an error, not an exception.
    /// </summary>
    IAsyncEnumerable<BatchedGeneration> GenerateBatchAsync(IReadOnlyList<GenerationRequest> requests, CancellationToken cancellationToken);
}

/// <summary>Optional ability: raw decode speed on synthetic tokens, through the same decode path as real requests.</summary>
public interface IThroughputProbe
{
    Task<ThroughputSample> MeasureAsync(ThroughputRequest request, CancellationToken cancellationToken);
}

/// <summary>The outcome of request <paramref name="Index"/> of a batch: a result, or the reason it failed and its kind.</summary>
public sealed record BatchedGeneration(int Index, GenerationResult? Result, string? Error, ItemFailureKind? FailureKind = null);

/// <summary>A model could not be loaded; the message names the model and the reason.</summary>
public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A request failed inside the backend (decode error, context overflow, NaN logits).</summary>
/// <param name="kind">Why, in the terms a verdict needs: whether the failure says anything about the model's answer.</param>
public sealed class BackendException(string message, Exception? inner = null, ItemFailureKind kind = ItemFailureKind.Backend)
    : Exception(message, inner)
{
    public BackendException(string message, ItemFailureKind kind)
        : this(message, null, kind)
    {
    }

    public ItemFailureKind Kind { get; } = kind;
}

/// <summary>
/// The session itself is gone (its worker process died: a native abort, an out-of-memory kill, or the watchdog killed
/// it past its deadline). No further request can succeed on it; the evaluator records the item and goes on in a fresh
/// session where the backend can load one, else the model's run ends with a recorded failure while other models go on.
/// </summary>
/// <param name="kind"><see cref="ItemFailureKind.WorkerCrash"/> for a worker that died, <see cref="ItemFailureKind.Timeout"/>
/// for one killed by the watchdog.</param>
public sealed class SessionLostException(string message, Exception? inner = null, ItemFailureKind kind = ItemFailureKind.WorkerCrash)
    : Exception(message, inner)
{
    public SessionLostException(string message, ItemFailureKind kind)
        : this(message, null, kind)
    {
    }

    /// <summary>Why the session ended: <see cref="ItemFailureKind.WorkerCrash"/> or <see cref="ItemFailureKind.Timeout"/>.</summary>
    public ItemFailureKind Kind { get; } = kind;
}
