using Harness.Core.Models;

namespace Harness.Core.Backends;

/// <summary>Which runtime evaluates a model: the manifest's <c>backend.kind</c>, defaulted from the model's format.</summary>
public enum BackendKind
{
    /// <summary>GGUF files through llama.cpp (LLamaSharp) in a worker process; manifest <c>llamacpp</c>.</summary>
    LlamaCpp,

    /// <summary>A model behind an OpenAI-compatible HTTP server (llama-server, Ollama, LM Studio, vLLM); manifest <c>openai</c>.</summary>
    OpenAi,

    /// <summary>An ONNX Runtime GenAI model folder (<c>genai_config.json</c>) in a worker process; manifest <c>onnx-genai</c>.</summary>
    OnnxGenAi,
}

/// <summary>The manifest names of <see cref="BackendKind"/> and the default kind of each format.</summary>
public static class BackendKinds
{
    /// <summary>Every kind with its manifest name, in declaration order.</summary>
    public static IReadOnlyList<(BackendKind Kind, string Name)> All { get; } =
        [(BackendKind.LlamaCpp, "llamacpp"), (BackendKind.OpenAi, "openai"), (BackendKind.OnnxGenAi, "onnx-genai")];

    public static string ManifestName(this BackendKind kind) => All.First(k => k.Kind == kind).Name;

    public static bool TryParse(string text, out BackendKind kind)
    {
        foreach (var (candidate, name) in All)
        {
            if (string.Equals(name, text, StringComparison.Ordinal))
            {
                kind = candidate;
                return true;
            }
        }

        kind = default;
        return false;
    }

    /// <summary>The runtime a model file of <paramref name="format"/> goes to when the manifest names none.</summary>
    public static BackendKind DefaultFor(ModelFormat format) => format switch
    {
        ModelFormat.Gguf => BackendKind.LlamaCpp,
        ModelFormat.Onnx => BackendKind.OnnxGenAi,
        ModelFormat.Served => BackendKind.OpenAi,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, null),
    };
}
