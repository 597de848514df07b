using System.Diagnostics;
using System.Globalization;
using Harness.Core.Backends;
using Harness.Core.Models;
using Microsoft.ML.OnnxRuntimeGenAI;

namespace Harness.Backends.OnnxGenAI;

/// <summary>
/// ONNX Runtime GenAI model folders (<c>format: onnx</c>): <c>genai_config.json</c>, the decoder graph and the tokenizer.
/// The in-process backend that <c>harness worker --backend onnx-genai</c> hosts.
/// </summary>
/// <param name="timeProvider">Clock for load time and request timings; the system clock when null.</param>
public sealed class OnnxGenAiBackend(TimeProvider? timeProvider = null) : IModelBackend
{
    private readonly TimeProvider _time = timeProvider ?? TimeProvider.System;

    public string Name => "onnx-genai";

    public Task<IModelSession> LoadAsync(ModelEntry model, string modelPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentException.ThrowIfNullOrEmpty(modelPath);
        var folder = OnnxGenAiFolder.Inspect(model, modelPath);
        ValidateOptions(model, folder.Folder);
        // GenAI's loads are blocking native calls; keep them off the caller's thread.
        return Task.Run(() => Load(model, folder, cancellationToken), cancellationToken);
    }

    private IModelSession Load(ModelEntry model, OnnxGenAiFolder folder, CancellationToken cancellationToken)
    {
        var start = _time.GetTimestamp();
        var options = model.Backend;
        Config? config = null;
        Model? genAiModel = null;
        Tokenizer? tokenizer = null;
        try
        {
            config = new Config(folder.Folder);
            // The build decides the provider, never the folder: a config written for CUDA still runs on a CPU build.
            config.ClearProviders();
            if (OnnxGenAiRuntime.Provider != "cpu")
                config.AppendProvider(OnnxGenAiRuntime.Provider);
            config.Overlay(SessionOptionsOverlay(options.Threads));
            cancellationToken.ThrowIfCancellationRequested();
            genAiModel = new Model(config);
            tokenizer = new Tokenizer(genAiModel);
        }
        catch (OnnxRuntimeGenAIException ex)
        {
            tokenizer?.Dispose();
            genAiModel?.Dispose();
            config?.Dispose();
            throw new ModelLoadException(
                $"Model '{model.Id}': ONNX Runtime GenAI could not load '{folder.Folder}' ({ex.Message}). " +
                $"The model files may be truncated or corrupt, or the {OnnxGenAiFolder.ConfigFileName} may not match them.", ex);
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException or TypeInitializationException)
        {
            tokenizer?.Dispose();
            genAiModel?.Dispose();
            config?.Dispose();
            throw new ModelLoadException(
                $"Model '{model.Id}' ('{folder.Folder}'): the ONNX Runtime GenAI native library could not be loaded: {ex.Message}", ex);
        }
        catch
        {
            tokenizer?.Dispose();
            genAiModel?.Dispose();
            config?.Dispose();
            throw;
        }

        try
        {
            var contextSize = Math.Min(options.ContextSize, folder.ContextLength);
            var templateMode = options.ChatTemplate == ChatTemplateMode.None ? "none"
                : folder.ChatTemplate is null ? $"auto->none (no chat_template in {OnnxGenAiFolder.TokenizerConfigFileName})"
                : OnnxGenAiFolder.TokenizerConfigFileName;
            var useTemplate = options.ChatTemplate == ChatTemplateMode.Auto && folder.ChatTemplate is not null;
            using var process = Process.GetCurrentProcess();
            var loadInfo = new ModelLoadInfo(
                Backend: Name,
                LoadTime: _time.GetElapsedTime(start),
                FileSizeBytes: folder.SizeBytes,
                ResidentMemoryAfterLoadBytes: process.WorkingSet64,
                ChatTemplate: templateMode,
                EffectiveSettings: EffectiveSettings(model, folder, contextSize, templateMode),
                Versions: OnnxGenAiRuntime.Versions());
            return new OnnxGenAiSession(model, folder, config, genAiModel, tokenizer, contextSize, useTemplate, _time, loadInfo);
        }
        catch
        {
            tokenizer.Dispose();
            genAiModel.Dispose();
            config.Dispose();
            throw;
        }
    }

    /// <summary>
    /// BackendOptions.Threads as ONNX Runtime's intra-op threads (the matrix work of one run); inter-op parallelism stays
    /// off so that the thread count means what it means for llama.cpp.
    /// </summary>
    internal static string SessionOptionsOverlay(int threads) =>
        "{\"model\":{\"decoder\":{\"session_options\":{\"intra_op_num_threads\":" + threads.ToString(CultureInfo.InvariantCulture) +
        ",\"inter_op_num_threads\":1}}}}";

    private static System.Collections.Immutable.ImmutableSortedDictionary<string, string> EffectiveSettings(
        ModelEntry model, OnnxGenAiFolder folder, int contextSize, string templateMode)
    {
        static string I(long value) => value.ToString(CultureInfo.InvariantCulture);
        return folder.Describe().SetItems(new Dictionary<string, string>
        {
            ["execution_provider"] = OnnxGenAiRuntime.Provider,
            ["threads"] = I(model.Backend.Threads),
            ["inter_op_threads"] = "1",
            ["context_size"] = I(contextSize),
            ["context_size_requested"] = I(model.Backend.ContextSize),
            // GenAI runs the whole prompt in one graph run; there is no llama.cpp-style batch to size.
            ["batch_size"] = "whole prompt per run",
            ["gpu_layers"] = "n/a (the execution provider places the whole graph)",
            // One sequence at a time: a manifest-wide parallel setting is recorded, not refused.
            ["parallel_sequences"] = "1",
            ["parallel_sequences_requested"] = model.Backend.ParallelSequences is { } p ? I(p) : "auto",
            ["chat_template_mode"] = model.Backend.ChatTemplate == ChatTemplateMode.None ? "none" : "auto",
            ["chat_template_used"] = templateMode,
            ["tokenizer"] = "ONNX Runtime GenAI (onnxruntime-extensions)",
            ["detokenizer"] = "GenAI TokenizerStream, primed with the last prompt token",
            ["sampler"] = "temperature 0: argmax (lowest id on ties); otherwise softmax(logits/T) with Random(seed); GenAI's own search is not used",
        });
    }

    private static void ValidateOptions(ModelEntry model, string folder)
    {
        var o = model.Backend;
        string? problem =
            o.ContextSize < 1 ? $"context size must be at least 1 (got {o.ContextSize})" :
            o.Threads < 1 ? $"threads must be at least 1 (got {o.Threads})" :
            null;
        if (problem is not null)
            throw new ModelLoadException($"Model '{model.Id}' (manifest line {model.Line}, '{folder}'): {problem}.");
    }
}
