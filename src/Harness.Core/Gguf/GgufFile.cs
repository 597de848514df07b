using System.Collections.Immutable;
using Harness.Core.Suites;

namespace Harness.Core.Gguf;

/// <summary>One metadata key/value pair, in file order.</summary>
public sealed record GgufMetadataEntry(string Key, GgufValue Value);

/// <summary>A tensor as the header describes it; the data stays on disk.</summary>
/// <param name="Dimensions">ggml order: <c>Dimensions[0]</c> is the contiguous (row) dimension.</param>
/// <param name="OffsetBytes">Offset of the data from <see cref="GgufFile.DataOffsetBytes"/>.</param>
public sealed record GgufTensorInfo(string Name, ImmutableArray<long> Dimensions, GgmlType Type, long OffsetBytes)
{
    public long ElementCount => Dimensions.Aggregate(1L, (product, dimension) => checked(product * dimension));

    public long SizeBytes => Dimensions.IsEmpty ? 0 : GgmlTypeInfo.SizeBytes(Type, ElementCount);
}

/// <summary>The header of a GGUF file: version, metadata and tensor table. Never holds tensor data.</summary>
/// <param name="Alignment">Data alignment in bytes (<c>general.alignment</c>, default 32).</param>
/// <param name="DataOffsetBytes">Absolute file offset where tensor data starts.</param>
public sealed record GgufFile(
    string FilePath,
    long FileSizeBytes,
    uint Version,
    ImmutableArray<GgufMetadataEntry> Metadata,
    ImmutableArray<GgufTensorInfo> Tensors,
    int Alignment,
    long DataOffsetBytes)
{
    /// <summary>The alignment llama.cpp assumes when <c>general.alignment</c> is absent.</summary>
    public const int DefaultAlignment = 32;

    /// <summary>The value of <paramref name="key"/>, or null when absent.</summary>
    public GgufValue? Find(string key)
    {
        foreach (var entry in Metadata)
        {
            if (entry.Key == key)
            {
                return entry.Value;
            }
        }

        return null;
    }

    /// <summary>A string value, or null when absent.</summary>
    /// <exception cref="InputFileException">Present with another type.</exception>
    public string? GetString(string key) => Find(key) switch
    {
        null => null,
        var value when value.Type == GgufValueType.String => value.AsString(),
        var value => throw WrongType(key, value, "String"),
    };

    /// <summary>An integer value of any width, or null when absent.</summary>
    /// <exception cref="InputFileException">Present with a non-integer type, or too large.</exception>
    public long? GetInteger(string key) => Find(key) switch
    {
        null => null,
        var value => Convert(key, value, "an integer", v => v.AsInt64()),
    };

    /// <summary>A numeric value of any type, or null when absent.</summary>
    /// <exception cref="InputFileException">Present with a non-numeric type.</exception>
    public double? GetNumber(string key) => Find(key) switch
    {
        null => null,
        var value => Convert(key, value, "a number", v => v.AsDouble()),
    };

    /// <summary>A bool value, or null when absent.</summary>
    /// <exception cref="InputFileException">Present with another type.</exception>
    public bool? GetBool(string key) => Find(key) switch
    {
        null => null,
        var value when value.Type == GgufValueType.Bool => value.AsBool(),
        var value => throw WrongType(key, value, "Bool"),
    };

    private T Convert<T>(string key, GgufValue value, string expected, Func<GgufValue, T> read)
    {
        try
        {
            return read(value);
        }
        catch (InvalidOperationException)
        {
            throw WrongType(key, value, expected);
        }
    }

    private InputFileException WrongType(string key, GgufValue value, string expected) =>
        new(FilePath, null, $"metadata key '{key}' is {value.Type}{(value.ElementType is { } e ? $" of {e}" : "")}, expected {expected}");
}
