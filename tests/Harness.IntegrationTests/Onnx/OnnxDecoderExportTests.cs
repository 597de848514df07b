using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Gguf;
using Harness.Forge;
using Harness.Forge.Onnx;
using Harness.IntegrationTests.Cli;
using Microsoft.ML.OnnxRuntime;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.Onnx;

/// <summary>
/// A forged llama GGUF exported by <see cref="OnnxDecoderExporter"/> and run by plain ONNX Runtime gives llama.cpp's
/// logits on the same token ids: the whole prompt in one step, and the prompt followed by single-token steps that feed
/// each step's <c>present.*</c> back as the next <c>past_key_values.*</c>.
/// </summary>
[Trait("Category", "Model")]
public sealed class OnnxDecoderExportTests(ITestOutputHelper output) : IDisposable
{
    private const string Prompt = "Q: 12+34=? A: 46\nsum 7";

    // Measured on this machine (largest |difference| over all positions and vocabulary): see docs/forge.md.
    private const float F32Tolerance = 1e-4f;

    // llama.cpp multiplies F16 weights with activations rounded to F16 and keeps its KV cache in F16 by default.
    private const float F16Tolerance = 2e-2f;

    private readonly string _folder = Directory.CreateTempSubdirectory("harness-onnx-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void Trained_model_at_f32_gives_llama_cpp_logits_in_one_step_and_with_the_kv_cache()
    {
        var gguf = Path.Combine(_folder, "tiny-multi-s-f32.gguf");
        ConvertToF32(ModelPath("tiny-multi-s-f16.gguf"), gguf);
        CheckAgainstLlamaCpp(gguf, f32Attention: true, F32Tolerance);
    }

    [Fact]
    public void Grouped_query_attention_model_gives_llama_cpp_logits()
    {
        // 4 query heads share 2 key/value heads: checks which query head reads which key/value head.
        var shape = new LlamaHyperparameters(ContextLength: 64, EmbeddingLength: 32, BlockCount: 2, FeedForwardLength: 48,
            HeadCount: 4, HeadCountKv: 2, RmsNormEpsilon: 1e-5f, RopeFreqBase: 10000f);
        var gguf = Path.Combine(_folder, "gqa-f32.gguf");
        WriteRandomLlama(gguf, shape, seed: 7);
        CheckAgainstLlamaCpp(gguf, f32Attention: true, F32Tolerance);
    }

    [Fact]
    public void Shipped_f16_model_gives_llama_cpp_logits_within_its_f16_rounding() =>
        CheckAgainstLlamaCpp(ModelPath("tiny-multi-s-f16.gguf"), f32Attention: false, F16Tolerance);

    [Fact]
    public void Export_writes_the_genai_folder()
    {
        var result = OnnxDecoderExporter.Export(ModelPath("tiny-arith-xs-f16.gguf"), Path.Combine(_folder, "onnx"), CancellationToken.None);
        Assert.Equal(
            ["genai_config.json", "model.onnx", "tokenizer.json", "tokenizer_config.json"],
            Directory.GetFiles(result.Folder).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var session = new InferenceSession(Path.Combine(result.Folder, "model.onnx"));
        Assert.Equal(3 + (2 * result.Shape.BlockCount), session.InputMetadata.Count);
        Assert.Equal(1 + (2 * result.Shape.BlockCount), session.OutputMetadata.Count);
        Assert.Equal([-1, -1, result.Shape.VocabularySize], session.OutputMetadata["logits"].Dimensions);
    }

    private void CheckAgainstLlamaCpp(string ggufPath, bool f32Attention, float tolerance)
    {
        var (tokens, expected) = LlamaCppReference.Run(ggufPath, Prompt, f32Attention: f32Attention);
        var export = OnnxDecoderExporter.Export(ggufPath, Path.Combine(_folder, Path.GetFileNameWithoutExtension(ggufPath)), CancellationToken.None);
        using var decoder = new Decoder(Path.Combine(export.Folder, OnnxDecoderExporter.ModelFileName), export.Shape);

        var oneStep = decoder.Step(tokens, past: null);
        var worstOneStep = MaxDifference(expected, oneStep.Logits, 0);

        // Prompt without its last 3 tokens, then those 3 one at a time through the KV cache.
        var split = tokens.Length - 3;
        var step = decoder.Step(tokens[..split], past: null);
        var worstCached = MaxDifference(expected, step.Logits, 0);
        for (var i = split; i < tokens.Length; i++)
        {
            step = decoder.Step([tokens[i]], step.Present, positionOffset: i);
            worstCached = Math.Max(worstCached, MaxDifference(expected, step.Logits, i));
            Assert.Equal(i + 1, step.Present[0].Dimensions[2]);
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Path.GetFileName(ggufPath)}: {tokens.Length} tokens, max |onnx - llama.cpp| logit: one step {worstOneStep:E2}, with KV cache {worstCached:E2} (tolerance {tolerance:E0})"));
        Assert.True(worstOneStep <= tolerance, $"one step: {worstOneStep} > {tolerance}");
        Assert.True(worstCached <= tolerance, $"KV cache: {worstCached} > {tolerance}");
        for (var i = 0; i < tokens.Length; i++)
        {
            Assert.Equal(ArgMax(expected[i]), ArgMax(oneStep.Logits[i]));
        }
    }

    private static float MaxDifference(float[][] expected, float[][] actual, int firstPosition)
    {
        var worst = 0f;
        for (var i = 0; i < actual.Length; i++)
        {
            Assert.Equal(expected[firstPosition + i].Length, actual[i].Length);
            for (var j = 0; j < actual[i].Length; j++)
            {
                worst = Math.Max(worst, Math.Abs(expected[firstPosition + i][j] - actual[i][j]));
            }
        }

        return worst;
    }

    private static int ArgMax(float[] values) => Array.IndexOf(values, values.Max());

    private static string ModelPath(string fileName) => Path.Combine(HarnessProcess.RepositoryRoot, "models", fileName);

    private static void ConvertToF32(string source, string destination)
    {
        var file = GgufReader.Read(source);
        var tensors = file.Tensors.Select(t => t.Type == GgmlType.F32
            ? new GgufTensor(t.Name, t.Dimensions, t.Type, GgufReader.ReadTensorBytes(file, t))
            : GgufTensor.FromSingles(t.Name, t.Dimensions, GgufReader.ReadTensorSingles(file, t).AsSpan(), GgmlType.F32));
        var metadata = file.Metadata.Select(m => m.Key == "general.file_type" ? new GgufMetadataEntry(m.Key, GgufValue.UInt32((uint)LlamaFileType.AllF32)) : m);
        GgufWriter.WriteFile(destination, [.. metadata], [.. tensors]);
    }

    private static void WriteRandomLlama(string path, LlamaHyperparameters shape, int seed)
    {
        var random = new Random(seed);
        var vocabulary = CharVocabulary.Create(CharVocabulary.PrintableAscii + "\n");
        int embd = shape.EmbeddingLength, kv = shape.HeadDimension * shape.HeadCountKv, ff = shape.FeedForwardLength;
        ImmutableArray<float> Values(int count, float center, float width) =>
            [.. Enumerable.Range(0, count).Select(_ => center + ((random.NextSingle() * 2 - 1) * width))];
        var blocks = Enumerable.Range(0, shape.BlockCount).Select(_ => new LlamaBlockWeights(
            Values(embd, 1, 0.3f), Values(embd * embd, 0, 0.3f), Values(kv * embd, 0, 0.3f), Values(kv * embd, 0, 0.3f), Values(embd * embd, 0, 0.2f),
            Values(embd, 1, 0.3f), Values(ff * embd, 0, 0.2f), Values(ff * embd, 0, 0.2f), Values(embd * ff, 0, 0.2f)));
        var weights = new LlamaModelWeights(Values(vocabulary.Count * embd, 0, 1f), [.. blocks], Values(embd, 1, 0.3f), Values(vocabulary.Count * embd, 0, 0.2f));
        LlamaGgufWriter.WriteFile(path, "gqa-test", shape, vocabulary, weights, GgmlType.F32, []);
    }

    /// <summary>A hand-written generation loop over the exported graph, as ONNX Runtime GenAI runs it (batch 1, no padding).</summary>
    private sealed class Decoder(string modelPath, LlamaShape shape) : IDisposable
    {
        private readonly InferenceSession _session = new(modelPath);

        public (float[][] Logits, ImmutableArray<Past> Present) Step(int[] tokens, ImmutableArray<Past>? past, int positionOffset = 0)
        {
            var pastLength = past is { } p ? (int)p[0].Dimensions[2] : 0;
            var total = pastLength + tokens.Length;
            var inputs = new Dictionary<string, OrtValue>
            {
                ["input_ids"] = OrtValue.CreateTensorValueFromMemory(tokens.Select(t => (long)t).ToArray(), [1, tokens.Length]),
                ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(Enumerable.Repeat(1L, total).ToArray(), [1, total]),
                ["position_ids"] = OrtValue.CreateTensorValueFromMemory(Enumerable.Range(positionOffset, tokens.Length).Select(i => (long)i).ToArray(), [1, tokens.Length]),
            };
            for (var b = 0; b < shape.BlockCount; b++)
            {
                var empty = new Past([], [1, shape.HeadCountKv, 0, shape.HeadDimension]);
                var key = past?[2 * b] ?? empty;
                var value = past?[(2 * b) + 1] ?? empty;
                inputs[LlamaOnnxGraph.Name(LlamaOnnxGraph.PastKeyTemplate, b)] = OrtValue.CreateTensorValueFromMemory(key.Values, key.Dimensions);
                inputs[LlamaOnnxGraph.Name(LlamaOnnxGraph.PastValueTemplate, b)] = OrtValue.CreateTensorValueFromMemory(value.Values, value.Dimensions);
            }

            var outputNames = _session.OutputNames.ToArray();
            try
            {
                using var runOptions = new RunOptions();
                using var results = _session.Run(runOptions, inputs.Keys.ToArray(), inputs.Values.ToArray(), outputNames);
                var logits = results[0].GetTensorDataAsSpan<float>().ToArray();
                var vocabulary = shape.VocabularySize;
                var rows = Enumerable.Range(0, tokens.Length).Select(i => logits[(i * vocabulary)..((i + 1) * vocabulary)]).ToArray();
                var present = Enumerable.Range(1, outputNames.Length - 1)
                    .Select(i => new Past(results[i].GetTensorDataAsSpan<float>().ToArray(), results[i].GetTensorTypeAndShape().Shape))
                    .ToImmutableArray();
                Assert.Equal("logits", outputNames[0]);
                return (rows, present);
            }
            finally
            {
                foreach (var value in inputs.Values)
                {
                    value.Dispose();
                }
            }
        }

        public void Dispose() => _session.Dispose();
    }

    /// <summary>One layer's keys or values, [batch, kv_heads, positions, head_size].</summary>
    private sealed record Past(float[] Values, long[] Dimensions);
}
