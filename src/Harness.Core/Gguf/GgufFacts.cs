using System.Globalization;
using Harness.Core.Suites;

namespace Harness.Core.Gguf;

/// <summary>What <c>harness models</c> shows about a GGUF file, read from its header alone.</summary>
/// <param name="Architecture"><c>general.architecture</c>, e.g. <c>llama</c>; null when the file lacks it.</param>
/// <param name="ParameterCount">Sum of the element counts of all tensors.</param>
/// <param name="Quantization">Short llama.cpp file-type name (<c>F16</c>, <c>Q4_K_M</c>); from the tensor type holding most bytes when <c>general.file_type</c> is absent.</param>
/// <param name="ContextLength"><c>{arch}.context_length</c>: the training context.</param>
/// <param name="VocabularySize">Length of <c>tokenizer.ggml.tokens</c>.</param>
public sealed record GgufFacts(
    string FilePath,
    long FileSizeBytes,
    uint GgufVersion,
    string? Architecture,
    string? Name,
    long ParameterCount,
    string Quantization,
    long? ContextLength,
    long? EmbeddingLength,
    long? BlockCount,
    int? VocabularySize,
    bool HasChatTemplate,
    int TensorCount)
{
    /// <summary>Reads the facts of <paramref name="path"/> without loading tensor data.</summary>
    /// <exception cref="InputFileException">The file is not a valid GGUF file or a key has the wrong type.</exception>
    public static GgufFacts Read(string path) => From(GgufReader.Read(path));

    public static GgufFacts From(GgufFile file)
    {
        var architecture = file.GetString("general.architecture");
        long? ArchitectureKey(string suffix) => architecture is null ? null : file.GetInteger($"{architecture}.{suffix}");

        var tokens = file.Find("tokenizer.ggml.tokens");
        if (tokens is not null && tokens.ElementType is null)
        {
            throw new InputFileException(file.FilePath, null, $"metadata key 'tokenizer.ggml.tokens' is {tokens.Type}, expected an array");
        }

        return new GgufFacts(
            file.FilePath,
            file.FileSizeBytes,
            file.Version,
            architecture,
            file.GetString("general.name"),
            file.Tensors.Sum(t => t.ElementCount),
            QuantizationOf(file),
            ArchitectureKey("context_length"),
            ArchitectureKey("embedding_length"),
            ArchitectureKey("block_count"),
            tokens?.Count,
            file.Find("tokenizer.chat_template") is not null,
            file.Tensors.Length);
    }

    private static string QuantizationOf(GgufFile file)
    {
        if (file.GetInteger("general.file_type") is { } fileType)
        {
            return LlamaFileType.ShortName(fileType) ?? $"unknown({fileType.ToString(CultureInfo.InvariantCulture)})";
        }

        // Ties go to the lower type id so the answer never depends on tensor order.
        return file.Tensors
            .GroupBy(t => t.Type)
            .Select(g => (Type: g.Key, Bytes: g.Sum(t => t.SizeBytes)))
            .OrderByDescending(g => g.Bytes)
            .ThenBy(g => (int)g.Type)
            .Select(g => g.Type.ToString())
            .FirstOrDefault() ?? "none";
    }
}
