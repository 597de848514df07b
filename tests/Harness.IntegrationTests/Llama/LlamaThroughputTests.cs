using System.Collections.Immutable;
using System.Security.Cryptography;
using Harness.Backends.LlamaSharp;
using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Forge;

namespace Harness.IntegrationTests.Llama;

/// <summary>The bench probe on a small random-weight llama that the forge writes (the 113M one has the same code path).</summary>
public sealed class LlamaThroughputTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("harness-bench-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private static readonly RandomWeightsRecipe Small = new("bench-small", new LlamaHyperparameters(256, 64, 2, 128, 4, 4, 1e-5f, 10000f), seed: 7);

    private static async Task<IModelSession> LoadAsync(string path, int parallel)
    {
        var entry = new ModelEntry("bench-small", ModelFormat.Gguf, new ModelSource(path, null, null),
            new BackendOptions(128, 1, 32, 0, ChatTemplateMode.None, parallel), null, ImmutableSortedDictionary<string, string>.Empty, 1);
        return await new LlamaSharpBackend().LoadAsync(entry, path, CancellationToken.None);
    }

    [Fact]
    public async Task Random_weight_models_are_deterministic_and_llama_cpp_measures_them_at_depth_and_in_parallel()
    {
        var a = Path.Combine(folder, "a.gguf");
        var b = Path.Combine(folder, "b.gguf");
        await Small.BuildAsync(a, CancellationToken.None);
        await Small.BuildAsync(b, CancellationToken.None);
        Assert.Equal(SHA256.HashData(File.ReadAllBytes(a)), SHA256.HashData(File.ReadAllBytes(b)));

        await using var session = await LoadAsync(a, parallel: 2);
        var probe = (IThroughputProbe)session;

        // Prompt longer than the 32-token batch: decoded in chunks, after 8 tokens of depth.
        var pp = await probe.MeasureAsync(new ThroughputRequest(70, 0, 8, 1), CancellationToken.None);
        Assert.True(pp.Prompt > TimeSpan.Zero);
        Assert.True(pp.TimeToFirstToken >= pp.Prompt);
        Assert.Equal(TimeSpan.Zero, pp.Generation);
        Assert.Equal(70 / pp.Prompt.TotalSeconds, pp.PromptTokensPerSecond, 6);

        var tg = await probe.MeasureAsync(new ThroughputRequest(0, 16, 4, 2), CancellationToken.None);
        Assert.Equal(TimeSpan.Zero, tg.Prompt);
        Assert.True(tg.Generation > TimeSpan.Zero);
        Assert.Equal(2 * 16 / tg.Generation.TotalSeconds, tg.GenerationTokensPerSecond, 6);

        var pg = await probe.MeasureAsync(new ThroughputRequest(16, 8, 0, 1), CancellationToken.None);
        Assert.Equal(24 / (pg.Prompt + pg.Generation).TotalSeconds, pg.CombinedTokensPerSecond, 6);

        // The session is left clean: an ordinary request still works.
        var text = await session.GenerateAsync(LlamaTestModels.Request("abc", maxTokens: 4), CancellationToken.None);
        Assert.True(text.GeneratedTokens <= 4);
    }

    [Fact]
    public async Task Requests_beyond_the_sessions_sequences_or_context_are_refused_with_the_reason()
    {
        var path = Path.Combine(folder, "m.gguf");
        await Small.BuildAsync(path, CancellationToken.None);
        await using var session = await LoadAsync(path, parallel: 1);
        var probe = (IThroughputProbe)session;

        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => probe.MeasureAsync(new ThroughputRequest(0, 8, 0, 2), CancellationToken.None));
        var tooLong = await Assert.ThrowsAsync<BackendException>(() => probe.MeasureAsync(new ThroughputRequest(4096, 8, 0, 1), CancellationToken.None));
        Assert.Contains("context size is", tooLong.Message, StringComparison.Ordinal);
    }
}
