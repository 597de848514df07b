using System.Collections.Immutable;
using Harness.Core.Gguf;
using Harness.Core.Suites;

namespace Harness.Tests.Gguf;

public sealed class GgufFactsTests : IDisposable
{
    private readonly GgufTestFiles _files = new();

    public void Dispose() => _files.Dispose();

    [Fact]
    public void Facts_come_from_metadata_and_tensor_shapes()
    {
        var (metadata, tensors) = GgufTestFiles.SampleModel();
        var path = _files.Write("facts.gguf",
        [
            .. metadata,
            new("general.file_type", GgufValue.UInt32(15)),
            new("llama.embedding_length", GgufValue.UInt64(4)),
            new("llama.block_count", GgufValue.Int32(1)),
            new("tokenizer.chat_template", GgufValue.String("{{ messages }}")),
        ], tensors);

        var facts = GgufFacts.Read(path);

        Assert.Equal("llama", facts.Architecture);
        Assert.Equal("tiny", facts.Name);
        Assert.Equal(24, facts.ParameterCount);
        Assert.Equal("Q4_K_M", facts.Quantization);
        Assert.Equal(128, facts.ContextLength);
        Assert.Equal(4, facts.EmbeddingLength);
        Assert.Equal(1, facts.BlockCount);
        Assert.Equal(3, facts.VocabularySize);
        Assert.True(facts.HasChatTemplate);
        Assert.Equal(2, facts.TensorCount);
        Assert.Equal(3u, facts.GgufVersion);
        Assert.Equal(new FileInfo(path).Length, facts.FileSizeBytes);
    }

    [Fact]
    public void Without_a_file_type_the_type_holding_most_bytes_names_the_quantization()
    {
        var q8 = new GgufTensor("big", [64], GgmlType.Q8_0, [.. new byte[68]]);
        var f32 = GgufTensor.FromSingles("norm", [8], new float[8], GgmlType.F32);
        var path = _files.Write("guess.gguf", [new("general.architecture", GgufValue.String("llama"))], [f32, q8]);

        var facts = GgufFacts.Read(path);

        Assert.Equal("Q8_0", facts.Quantization);
        Assert.Equal(72, facts.ParameterCount);
        Assert.Null(facts.ContextLength);
        Assert.Null(facts.VocabularySize);
        Assert.False(facts.HasChatTemplate);
    }

    [Theory]
    [InlineData(0, "F32")]
    [InlineData(1, "F16")]
    [InlineData(7, "Q8_0")]
    [InlineData(2, "Q4_0")]
    [InlineData(27, "IQ3_M")]
    [InlineData(32, "BF16")]
    [InlineData(1024 + 15, "Q4_K_M")]
    public void File_types_have_llama_cpp_short_names(int fileType, string expected) =>
        Assert.Equal(expected, LlamaFileType.ShortName(fileType));

    [Fact]
    public void An_unknown_file_type_is_shown_as_such()
    {
        var path = _files.Write("unknown.gguf", [new("general.file_type", GgufValue.UInt32(5))], []);

        Assert.Equal("unknown(5)", GgufFacts.Read(path).Quantization);
    }

    [Fact]
    public void A_key_of_the_wrong_type_is_an_input_file_error()
    {
        var path = _files.Write("wrong.gguf",
        [
            new("general.architecture", GgufValue.String("llama")),
            new("llama.context_length", GgufValue.String("long")),
            new("tokenizer.ggml.tokens", GgufValue.Array(ImmutableArray.Create("a"))),
        ], []);

        var error = Assert.Throws<InputFileException>(() => GgufFacts.Read(path));

        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("llama.context_length", error.Message, StringComparison.Ordinal);
    }
}
