using System.Collections.Immutable;
using Harness.Backends.LlamaSharp;
using Harness.Backends.OnnxGenAI;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Forge.Onnx;
using Harness.IntegrationTests.Cli;

namespace Harness.IntegrationTests.OnnxGenAi;

/// <summary>
/// The shipped arithmetic model twice: its GGUF through llama.cpp, and its ONNX Runtime GenAI export (same weights)
/// through the onnx-genai backend, both with the manifest's settings for it (context 128, plain text).
/// </summary>
public sealed class ExportedArithModel : IAsyncLifetime
{
    public const int ContextSize = 128;

    private readonly string _root = Directory.CreateTempSubdirectory("harness-onnx-genai-").FullName;

    public static string GgufPath { get; } = Path.Combine(HarnessProcess.RepositoryRoot, "models", "tiny-arith-xs-f16.gguf");

    /// <summary>The exported folder; tests that change files work on a <see cref="CopyFolder"/>.</summary>
    public string Folder => Path.Combine(_root, "onnx");

    public IModelSession Onnx { get; private set; } = null!;

    public IModelSession Llama { get; private set; } = null!;

    public static ModelEntry Entry(
        ModelFormat format, string path, int contextSize = ContextSize, int threads = 1, ChatTemplateMode chatTemplate = ChatTemplateMode.None) =>
        new(
            "tiny-arith-xs",
            format,
            new ModelSource(path, null, null),
            new BackendOptions(contextSize, threads, BatchSize: 64, GpuLayers: 0, chatTemplate, ParallelSequences: 1,
                Kind: format == ModelFormat.Onnx ? BackendKind.OnnxGenAi : BackendKind.LlamaCpp),
            Description: null,
            ImmutableSortedDictionary<string, string>.Empty,
            Line: 1);

    public static Task<IModelSession> LoadOnnxAsync(string folder, int contextSize = ContextSize, int threads = 1, ChatTemplateMode chatTemplate = ChatTemplateMode.None) =>
        new OnnxGenAiBackendProvider().Backend.LoadAsync(Entry(ModelFormat.Onnx, folder, contextSize, threads, chatTemplate), folder, CancellationToken.None);

    public static Task<IModelSession> LoadLlamaAsync(int contextSize = ContextSize) =>
        new LlamaSharpBackend().LoadAsync(Entry(ModelFormat.Gguf, GgufPath, contextSize), GgufPath, CancellationToken.None);

    /// <summary>A fresh copy of the exported folder under this fixture's temporary root.</summary>
    public string CopyFolder(string name)
    {
        var copy = Path.Combine(_root, name);
        Directory.CreateDirectory(copy);
        foreach (var file in Directory.EnumerateFiles(Folder))
            File.Copy(file, Path.Combine(copy, Path.GetFileName(file)));
        return copy;
    }

    public async Task InitializeAsync()
    {
        OnnxDecoderExporter.Export(GgufPath, Folder, CancellationToken.None);
        Onnx = await LoadOnnxAsync(Folder);
        Llama = await LoadLlamaAsync();
    }

    public async Task DisposeAsync()
    {
        if (Onnx is not null)
            await Onnx.DisposeAsync();
        if (Llama is not null)
            await Llama.DisposeAsync();
        Directory.Delete(_root, recursive: true);
    }
}
