using System.Collections.Immutable;
using Harness.Core.Gguf;

namespace Harness.Tests.Gguf;

public sealed class QuantizedTensorsTests
{
    private static GgufTensorInfo Tensor(string name, GgmlType type, params long[] dimensions) => new(name, [.. dimensions], type, 0);

    private static GgufFile File(params GgufTensorInfo[] tensors) => new("q.gguf", 0, 3, [], [.. tensors], 32, 0);

    private static GgufTensorInfo[] Layer(long width, GgmlType matrices) =>
    [
        Tensor("token_embd.weight", matrices, width, 100),
        Tensor("blk.0.attn_norm.weight", GgmlType.F32, width),
        Tensor("blk.0.attn_q.weight", matrices, width, width),
        Tensor("blk.0.ffn_down.weight", matrices, width, width),
        Tensor("output_norm.weight", GgmlType.F32, width),
    ];

    [Fact]
    public void Histogram_counts_tensors_per_type_in_type_id_order()
    {
        var file = File([.. Layer(64, GgmlType.Q8_0), Tensor("output.weight", GgmlType.Q6_K, 256, 100)]);

        Assert.Equal("F32:2 Q8_0:3 Q6_K:1", QuantizedTensors.Histogram(file));
    }

    [Fact]
    public void K_quant_on_rows_of_64_reports_every_matrix_but_the_output_as_fallen_back_as_llama_cpp_counts()
    {
        // llama.cpp's mix gives output.weight Q8_0 directly when its rows do not fit a K-quant: not a fallback in its log.
        var fallback = QuantizedTensors.FindFallback(File([.. Layer(64, GgmlType.Q5_0), Tensor("output.weight", GgmlType.Q8_0, 64, 100)]), GgmlType.Q4_K);

        Assert.NotNull(fallback);
        Assert.Equal("3 of 4 weight matrices to Q5_0 (rows of 64 not divisible by 256)", fallback.Summary);
        Assert.Equal("3/4 weight matrices: row size 64 not a multiple of 256", fallback.MetadataValue);
    }

    [Fact]
    public void With_tied_embeddings_the_token_embedding_is_the_output_matrix_and_no_fallback()
    {
        var tied = File(
            Tensor("token_embd.weight", GgmlType.Q8_0, 64, 100),
            Tensor("blk.0.attn_q.weight", GgmlType.Q5_0, 64, 64),
            Tensor("output_norm.weight", GgmlType.F32, 64));

        var fallback = QuantizedTensors.FindFallback(tied, GgmlType.Q4_K)!;

        Assert.Equal(1, fallback.FellBack);
        Assert.Equal(2, fallback.WeightCount);
    }

    [Fact]
    public void Some_matrices_falling_back_to_different_types_are_each_counted()
    {
        var file = File(
            Tensor("token_embd.weight", GgmlType.Q4_K, 256, 100),
            Tensor("blk.0.attn_v.weight", GgmlType.Q8_0, 96, 96),
            Tensor("blk.0.ffn_down.weight", GgmlType.F16, 8, 96),
            Tensor("output.weight", GgmlType.Q6_K, 256, 100));

        var fallback = QuantizedTensors.FindFallback(file, GgmlType.Q4_K)!;

        Assert.Equal(2, fallback.FellBack);
        Assert.Equal(4, fallback.WeightCount);
        Assert.Equal("2 of 4 weight matrices to F16 (1), Q8_0 (1) (rows of 8, 96 not divisible by 256)", fallback.Summary);
        Assert.Equal("2/4 weight matrices: row sizes 8, 96 not multiples of 256", fallback.MetadataValue);
    }

    [Fact]
    public void A_mix_that_gives_some_matrices_a_larger_type_on_purpose_is_no_fallback()
    {
        var file = File([.. Layer(256, GgmlType.Q4_K), Tensor("blk.0.attn_v.weight", GgmlType.Q6_K, 256, 256), Tensor("output.weight", GgmlType.Q6_K, 256, 100)]);

        Assert.Null(QuantizedTensors.FindFallback(file, GgmlType.Q4_K));
        Assert.Null(QuantizedTensors.FindFallback(File(Layer(72, GgmlType.F16)), GgmlType.F16));
    }

    [Theory]
    [InlineData("blk.0.attn_q.weight", 2, true)]
    [InlineData("blk.0.attn_norm.weight", 1, false)]
    [InlineData("blk.0.ffn_norm.weight", 2, false)]
    [InlineData("rope_freqs", 2, false)]
    [InlineData("blk.0.attn_q.bias", 1, false)]
    public void Only_matrices_named_weight_that_are_not_norms_are_quantized(string name, int dimensions, bool quantized)
    {
        Assert.Equal(quantized, QuantizedTensors.IsQuantizedWeight(Tensor(name, GgmlType.F16, [.. Enumerable.Repeat(32L, dimensions)])));
    }

    [Theory]
    [InlineData("Q4_K_M", GgmlType.Q4_K)]
    [InlineData("q5_k_m", GgmlType.Q5_K)]
    [InlineData("Q3_K_M", GgmlType.Q3_K)]
    [InlineData("Q2_K", GgmlType.Q2_K)]
    [InlineData("Q6_K", GgmlType.Q6_K)]
    [InlineData("Q8_0", GgmlType.Q8_0)]
    [InlineData("BF16", GgmlType.BF16)]
    public void A_file_type_names_the_tensor_type_most_matrices_get(string fileType, GgmlType expected)
    {
        Assert.Equal(expected, LlamaFileType.NamedTensorType(fileType));
    }
}
