using Harness.Core.Backends;
using Harness.Core.Models;
using LLama;
using LLama.Common;
using LLama.Exceptions;
using LLama.Native;

namespace Harness.Backends.LlamaSharp;

/// <summary>GGUF models through llama.cpp (LLamaSharp's low-level API, one dedicated thread per session).</summary>
/// <param name="nativeLog">Where llama.cpp warnings and errors go; standard error when null. Only the first backend
/// created in a process decides this (see <see cref="LlamaNativeRuntime"/>).</param>
/// <param name="timeProvider">Clock for load time and request timings; the system clock when null.</param>
public sealed class LlamaSharpBackend(TextWriter? nativeLog = null, TimeProvider? timeProvider = null) : IModelBackend
{
    private static ReadOnlySpan<byte> GgufMagic => "GGUF"u8;

    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public string Name => "llamasharp";

    public async Task<IModelSession> LoadAsync(ModelEntry model, string modelPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var fullPath = Path.GetFullPath(modelPath);
        LlamaNativeInfo native;
        try
        {
            native = LlamaNativeRuntime.EnsureInitialized(nativeLog);
        }
        catch (Exception ex) when (ex is RuntimeError or DllNotFoundException or TypeInitializationException or EntryPointNotFoundException)
        {
            throw new ModelLoadException($"Model '{model.Id}' ('{fullPath}'): the llama.cpp native library could not be loaded: {ex.Message}", ex);
        }
        ValidateOptions(model, fullPath);
        var fileSizeBytes = CheckGgufFile(model, fullPath);

        var start = _time.GetTimestamp();
        var options = model.Backend;
        var parameters = new ModelParams(fullPath)
        {
            ContextSize = (uint)options.ContextSize,
            BatchSize = (uint)options.BatchSize,
            // A physical batch equal to the logical one keeps prompt processing in one graph per chunk.
            UBatchSize = (uint)options.BatchSize,
            Threads = options.Threads,
            BatchThreads = options.Threads,
            GpuLayerCount = options.GpuLayers,
            SeqMax = 1,
            KVUnified = false,
        };

        LLamaWeights weights;
        LlamaNativeRuntime.TakeRecentErrors();
        try
        {
            weights = await LLamaWeights.LoadFromFileAsync(parameters, cancellationToken, progressReporter: null).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            throw;
        }
        catch (RuntimeError ex)
        {
            var said = LlamaNativeRuntime.TakeRecentErrors();
            var reason = said.Count > 0 ? $"llama.cpp: {string.Join("; ", said)}" : ex.Message;
            throw new ModelLoadException(
                $"Model '{model.Id}': llama.cpp could not load '{fullPath}' ({reason}). The file may be truncated, corrupt or of an unsupported architecture.", ex);
        }

        try
        {
            // The context is sized only now: the automatic parallelism depends on the model's KV size per token.
            var parallel = options.ParallelSequences ?? AutoParallelSequences(weights.NativeHandle, options);
            parameters.SeqMax = (uint)parallel;
            parameters.ContextSize = checked((uint)(options.ContextSize * parallel));
            var parallelRequested = options.ParallelSequences?.ToString(System.Globalization.CultureInfo.InvariantCulture)
                ?? $"auto (KV budget {KvBudgetBytes() / (1024 * 1024)} MiB, at most {MaxAutoParallelSequences})";
            return await LlamaSharpSession.CreateAsync(
                model, fullPath, fileSizeBytes, weights, parameters, parallelRequested, native, _time, start, cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            weights.Dispose();
            throw;
        }
    }

    /// <summary>Most sequences <c>parallel: auto</c> picks: past this, CPU throughput stops growing (measured in docs/performance.md).</summary>
    public const int MaxAutoParallelSequences = 16;

    /// <summary>
    /// <c>parallel: auto</c>: as many sequences of the model's context size as fit the KV budget (f16 keys and values),
    /// at least 1, at most <see cref="MaxAutoParallelSequences"/> and never more than the batch holds.
    /// </summary>
    public static int AutoParallelSequences(SafeLlamaModelHandle model, BackendOptions options)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var kvBytesPerToken = KvBytesPerToken(model.LayerCount, model.EmbeddingSize, model.HeadCount, model.KVHeadCount);
        var perSequence = kvBytesPerToken * options.ContextSize;
        var fits = perSequence > 0 ? KvBudgetBytes() / perSequence : 1;
        return (int)Math.Clamp(fits, 1, Math.Min(MaxAutoParallelSequences, options.BatchSize));
    }

    /// <summary>Keys and values of every layer at f16: 2 x 2 bytes x layers x (embedding width x KV heads / heads).</summary>
    public static long KvBytesPerToken(int layers, int embeddingSize, int heads, int kvHeads) =>
        heads <= 0 ? 0 : 4L * layers * ((long)embeddingSize * Math.Max(1, kvHeads) / heads);

    /// <summary>KV memory <c>parallel: auto</c> may use: a quarter of the memory the process may use, at most 4 GiB.</summary>
    public static long KvBudgetBytes() =>
        Math.Min(4L << 30, Math.Max(64L << 20, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 4));

    private static void ValidateOptions(ModelEntry model, string fullPath)
    {
        var o = model.Backend;
        string? problem =
            o.ContextSize < 1 ? $"context size must be at least 1 (got {o.ContextSize})" :
            o.Threads < 1 ? $"threads must be at least 1 (got {o.Threads})" :
            o.BatchSize < 1 ? $"batch size must be at least 1 (got {o.BatchSize})" :
            o.GpuLayers < 0 ? $"gpu layers must not be negative (got {o.GpuLayers})" :
            o.ParallelSequences < 1 ? $"parallel sequences must be at least 1 (got {o.ParallelSequences})" :
            o.ParallelSequences > o.BatchSize ? $"parallel sequences ({o.ParallelSequences}) must not exceed the batch size ({o.BatchSize})" :
            null;
        if (problem is not null)
            throw new ModelLoadException($"Model '{model.Id}' (manifest line {model.Line}, '{fullPath}'): {problem}.");
    }

    private static long CheckGgufFile(ModelEntry model, string fullPath)
    {
        // llama.cpp answers a missing or foreign file with a bare null handle; name the actual problem first.
        if (!File.Exists(fullPath))
            throw new ModelLoadException($"Model '{model.Id}': model file not found: '{fullPath}'.");
        try
        {
            using var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read);
            Span<byte> magic = stackalloc byte[4];
            var read = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
            if (read < magic.Length || !magic.SequenceEqual(GgufMagic))
                throw new ModelLoadException($"Model '{model.Id}': '{fullPath}' is not a GGUF file (the first 4 bytes are not 'GGUF').");
            return stream.Length;
        }
        catch (IOException ex)
        {
            throw new ModelLoadException($"Model '{model.Id}': cannot read '{fullPath}': {ex.Message}", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ModelLoadException($"Model '{model.Id}': cannot read '{fullPath}': {ex.Message}", ex);
        }
    }
}
