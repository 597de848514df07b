using Harness.Backends.LlamaSharp;
using Harness.Core.Backends;
using Harness.Core.Gguf;

namespace Harness.IntegrationTests.Llama;

[Trait("Category", "Model")]
public sealed class LlamaQuantizerTests
{
    [RequiresSharedModelFact]
    public async Task Quantizing_to_F16_gives_a_smaller_file_that_llama_cpp_loads_and_that_agrees_with_F32()
    {
        var dir = Directory.CreateTempSubdirectory("harness-quant-").FullName;
        try
        {
            var source = SharedModels.Stories260KPath;
            var output = Path.Combine(dir, "stories-f16.gguf");

            var result = await LlamaQuantizer.QuantizeAsync(source, output, "f16", threads: 1, nativeLog: null, CancellationToken.None);

            Assert.Equal("F16", result.Type);
            Assert.True(result.OutputBytes < result.InputBytes, $"{result.OutputBytes} >= {result.InputBytes}");
            Assert.Equal("F16", GgufFacts.Read(output).Quantization);
            var request = LlamaTestModels.Request(maxTokens: 16);
            await using var original = await LlamaTestModels.LoadStoriesAsync();
            await using var quantized = await new LlamaSharpBackend().LoadAsync(LlamaTestModels.Entry(output), output, CancellationToken.None);
            var a = await original.GenerateAsync(request, CancellationToken.None);
            var b = await quantized.GenerateAsync(request, CancellationToken.None);
            Assert.Equal(16, b.GeneratedTokens);
            // Greedy text from a 16-bit copy starts like the original's (the first tokens at least).
            Assert.Equal(a.Text[..Math.Min(3, a.Text.Length)], b.Text[..Math.Min(3, b.Text.Length)]);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [RequiresSharedModelFact]
    public async Task A_type_the_tensor_shapes_cannot_take_is_refused_with_llama_cpp_s_reason()
    {
        // stories260K's rows are not all multiples of Q8_0's 32-element blocks, and Q8_0 has no fallback type.
        var output = Path.Combine(Path.GetTempPath(), $"harness-q8-{Guid.NewGuid():N}.gguf");

        var ex = await Assert.ThrowsAsync<ModelLoadException>(() =>
            LlamaQuantizer.QuantizeAsync(SharedModels.Stories260KPath, output, "Q8_0", 1, null, CancellationToken.None));

        Assert.Contains("no tensor type fallback", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
        Assert.False(File.Exists(output + ".tmp"));
    }

    [Fact]
    public async Task An_unknown_type_is_refused_with_the_known_ones()
    {
        var ex = await Assert.ThrowsAsync<ModelLoadException>(() =>
            LlamaQuantizer.QuantizeAsync("whatever.gguf", "out.gguf", "Q9_9", 1, null, CancellationToken.None));

        Assert.Contains("Q8_0", ex.Message, StringComparison.Ordinal);
    }
}
