using System.Collections.Immutable;
using Harness.Backends.LlamaSharp;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Suites;

namespace Harness.IntegrationTests.Llama;

/// <summary>Model entries and requests shared by the llama.cpp backend tests.</summary>
internal static class LlamaTestModels
{
    public const string Prompt = "Once upon a time, there was a little girl named Lily. She";

    public static ModelEntry Entry(
        string path,
        int contextSize = 256,
        int threads = 1,
        int batchSize = 64,
        ChatTemplateMode chatTemplate = ChatTemplateMode.Auto,
        int? parallel = null) =>
        new(
            "stories260K",
            ModelFormat.Gguf,
            new ModelSource(path, null, null),
            new BackendOptions(contextSize, threads, batchSize, GpuLayers: 0, chatTemplate, parallel),
            Description: null,
            ImmutableSortedDictionary<string, string>.Empty,
            Line: 1);

    /// <param name="parallel">Sequences decoded together; null: the backend's automatic choice.</param>
    public static async Task<IModelSession> LoadStoriesAsync(int contextSize = 256, int threads = 1, int batchSize = 64, int? parallel = null)
    {
        var path = SharedModels.Stories260KPath;
        return await new LlamaSharpBackend().LoadAsync(
            Entry(path, contextSize, threads, batchSize, parallel: parallel), path, CancellationToken.None);
    }

    public static RenderedPrompt PlainPrompt(string text) => new([new ChatMessage("user", text)], text);

    public static GenerationRequest Request(
        string text = Prompt,
        int maxTokens = 32,
        double temperature = 0,
        int seed = 1,
        params string[] stop) =>
        new(PlainPrompt(text), new GenerationSettings(maxTokens, [.. stop], temperature, seed));
}
