using System.Collections.Immutable;
using Harness.Core.Gguf;

namespace Harness.Tests.Gguf;

/// <summary>A temp folder with helpers to write GGUF files for a test; deleted on dispose.</summary>
internal sealed class GgufTestFiles : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("harness-gguf-").FullName;

    public string PathOf(string name) => Path.Combine(_folder, name);

    public string Write(string name, IReadOnlyList<GgufMetadataEntry> metadata, IReadOnlyList<GgufTensor> tensors)
    {
        var path = PathOf(name);
        GgufWriter.WriteFile(path, metadata, tensors);
        return path;
    }

    public string WriteBytes(string name, byte[] bytes)
    {
        var path = PathOf(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    public static byte[] ToBytes(IReadOnlyList<GgufMetadataEntry> metadata, IReadOnlyList<GgufTensor> tensors)
    {
        using var stream = new MemoryStream();
        GgufWriter.Write(stream, metadata, tensors);
        return stream.ToArray();
    }

    /// <summary>A small but complete llama-like file: metadata of several types and two tensors.</summary>
    public static (ImmutableArray<GgufMetadataEntry> Metadata, ImmutableArray<GgufTensor> Tensors) SampleModel() =>
    (
        [
            new("general.architecture", GgufValue.String("llama")),
            new("general.name", GgufValue.String("tiny")),
            new("llama.context_length", GgufValue.UInt32(128)),
            new("tokenizer.ggml.tokens", GgufValue.Array(ImmutableArray.Create("a", "b", "c"))),
        ],
        [
            GgufTensor.FromSingles("token_embd.weight", [4, 3], [.. Enumerable.Range(0, 12).Select(i => (float)i)], GgmlType.F32),
            GgufTensor.FromSingles("output.weight", [4, 3], [.. Enumerable.Range(0, 12).Select(i => i / 4f)], GgmlType.F16),
        ]
    );

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
