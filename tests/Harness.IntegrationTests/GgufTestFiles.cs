using System.Collections.Immutable;
using Harness.Core.Gguf;

namespace Harness.IntegrationTests;

/// <summary>Derives test GGUF files from a real one through the project's own GGUF reader and writer.</summary>
internal static class GgufTestFiles
{
    /// <summary>Copies <paramref name="source"/> with its metadata changed by <paramref name="edit"/> (tensors untouched).</summary>
    public static void CopyWithMetadata(string source, string destination, Func<ImmutableArray<GgufMetadataEntry>, IEnumerable<GgufMetadataEntry>> edit)
    {
        var file = GgufReader.Read(source);
        GgufWriter.WriteFile(destination, [.. edit(file.Metadata)], Tensors(file, (_, data) => data));
    }

    /// <summary>Copies <paramref name="source"/> with one extra string metadata entry (e.g. a chat template).</summary>
    public static void CopyWithStringMetadata(string source, string destination, string key, string value) =>
        CopyWithMetadata(source, destination, metadata => [.. metadata.Where(m => m.Key != key), new GgufMetadataEntry(key, GgufValue.String(value))]);

    /// <summary>Copies <paramref name="source"/> with every element of the F32 tensor <paramref name="tensorName"/> set to <paramref name="value"/>.</summary>
    public static void CopyWithF32TensorFilled(string source, string destination, string tensorName, float value)
    {
        var file = GgufReader.Read(source);
        var target = file.Tensors.SingleOrDefault(t => t.Name == tensorName)
            ?? throw new InvalidDataException($"Tensor '{tensorName}' not found in '{source}'.");
        if (target.Type != GgmlType.F32)
        {
            throw new InvalidDataException($"Tensor '{tensorName}' in '{source}' is {target.Type}, not F32.");
        }

        GgufWriter.WriteFile(destination, file.Metadata, Tensors(file, (info, data) => info.Name != tensorName
            ? data
            : GgufTensor.FromSingles(info.Name, info.Dimensions, Enumerable.Repeat(value, data.Length / 4).ToArray(), GgmlType.F32).Data));
    }

    private static List<GgufTensor> Tensors(GgufFile file, Func<GgufTensorInfo, ImmutableArray<byte>, ImmutableArray<byte>> data) =>
        [.. file.Tensors.Select(t => new GgufTensor(t.Name, t.Dimensions, t.Type, data(t, GgufReader.ReadTensorBytes(file, t))))];
}
