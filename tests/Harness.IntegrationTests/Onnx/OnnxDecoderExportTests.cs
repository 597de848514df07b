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

    // Measured 0.29 on logits up to 8.7: the activations' 8-bit rounding, compounded over 3 blocks (the weights are
    // exact: Quantized_weights_dequantize_to_their_f16_source_within_their_rounding).
    private const float Q8Tolerance = 0.5f;

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
    public void Q8_0_model_is_dequantized_exactly_and_stays_within_llama_cpps_q8_activation_rounding() =>
        // llama.cpp multiplies Q8_0 weights with activations quantized to Q8_0 (and keeps K/V in F16); the export
        // dequantizes the weights exactly and computes in F32.
        CheckAgainstLlamaCpp(ModelPath("tiny-multi-s-q8_0.gguf"), f32Attention: false, Q8Tolerance);

    [Theory]
    [InlineData("q8_0", 0.65)]
    [InlineData("q4_0", 1.1)]
    public void Quantized_weights_dequantize_to_their_f16_source_within_their_rounding(string type, double stepsAllowed)
    {
        // The Q8_0/Q4_0 and F16 files were all converted from one F32 model: dequantized, each weight must be within
        // the rounding of its block. Q8_0: half a step, plus the F16 rounding of the block scale and of the F16 copy
        // (2^-11 of up to 127 steps each, 0.06), measured 0.57. Q4_0: a whole step, since the value opposite the
        // block's extreme clips at 7 steps, measured 1.00. A wrong nibble order or sign is off by several steps.
        var quantized = LlamaGguf.Read(ModelPath($"tiny-multi-s-{type}.gguf"));
        var source = LlamaGguf.Read(ModelPath("tiny-multi-s-f16.gguf"));
        var s = quantized.Shape;
        var worstSteps = 0.0;
        foreach (var (name, rows, columns) in new[] { ("blk.0.attn_q.weight", s.EmbeddingLength, s.EmbeddingLength), ("blk.1.ffn_down.weight", s.EmbeddingLength, s.FeedForwardLength), ("blk.2.ffn_up.weight", s.FeedForwardLength, s.EmbeddingLength) })
        {
            var actual = quantized.Read(name, rows, columns);
            var expected = source.Read(name, rows, columns);
            for (var block = 0; block < actual.Length / 32; block++)
            {
                var span = expected.AsSpan(block * 32, 32).ToArray();
                var step = span.Max(Math.Abs) / (type == "q8_0" ? 127.0 : 8.0);
                for (var i = 0; i < 32; i++)
                {
                    var error = Math.Abs(actual[(block * 32) + i] - span[i]);
                    worstSteps = Math.Max(worstSteps, step == 0 ? error : error / step);
                }
            }
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{type}: worst weight error {worstSteps:F3} quantization steps"));
        Assert.InRange(worstSteps, 0, stepsAllowed + 0.01);
    }

    [RequiresSharedModelFact]
    public void Stories260K_a_real_llama2_c_model_with_grouped_query_attention_gives_llama_cpp_logits() =>
        CheckAgainstLlamaCpp(SharedModels.Stories260KPath, f32Attention: true, F32Tolerance, prompt: "Once upon a time, there was a little dog named");

    [Fact]
    public void Left_padded_batch_gives_the_unpadded_logits()
    {
        // ONNX Runtime GenAI left-pads a batch of prompts and hides the padding with attention_mask.
        var gguf = Path.Combine(_folder, "tiny-multi-s-f32.gguf");
        ConvertToF32(ModelPath("tiny-multi-s-f16.gguf"), gguf);
        var export = OnnxDecoderExporter.Export(gguf, Path.Combine(_folder, "padded"), CancellationToken.None);
        using var decoder = new Decoder(Path.Combine(export.Folder, OnnxDecoderExporter.ModelFileName), export.Shape);
        int[] longer = [1, 300, 301, 302, 303], shorter = [1, 310, 311];
        var alone = decoder.Step(shorter, past: null).Logits;
        var batch = decoder.Batch([longer, [2, 2, .. shorter]], [[1, 1, 1, 1, 1], [0, 0, 1, 1, 1]], [[0, 1, 2, 3, 4], [0, 0, 0, 1, 2]]);
        var worst = 0f;
        for (var i = 0; i < shorter.Length; i++)
        {
            worst = Math.Max(worst, MaxDifference([alone[i]], [batch[1][2 + i]], 0));
        }

        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"padded row vs alone: max |difference| {worst:E2}"));
        Assert.True(worst <= F32Tolerance, $"{worst} > {F32Tolerance}");
        Assert.Equal(decoder.Step(longer, past: null).Logits[^1], batch[0][^1], new ToleranceComparer(F32Tolerance));
    }

    [Fact]
    public void Committed_onnx_folder_is_what_forge_onnx_writes_from_its_gguf()
    {
        var committed = Path.Combine(HarnessProcess.RepositoryRoot, "models", "tiny-arith-xs-onnx");
        var result = OnnxDecoderExporter.Export(ModelPath("tiny-arith-xs-f16.gguf"), Path.Combine(_folder, "again"), CancellationToken.None);
        foreach (var file in result.Files)
        {
            Assert.True(File.ReadAllBytes(file).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(committed, Path.GetFileName(file)))),
                $"{Path.GetFileName(file)} differs from models/tiny-arith-xs-onnx: re-export it with harness forge onnx");
        }
    }

    [Fact]
    public async Task Cli_exports_and_refuses_a_gguf_it_cannot_reproduce()
    {
        var root = HarnessProcess.RepositoryRoot;
        var target = Path.Combine(_folder, "cli-onnx");
        var ok = await HarnessProcess.RunAsync(root, TimeSpan.FromMinutes(2), "forge", "onnx", "models/tiny-arith-xs-f16.gguf", "--output", target);
        Assert.True(ok.ExitCode == 0, ok.Error);
        Assert.Contains("llama 2 blocks x 32", ok.Output, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(target, "model.onnx")));

        var bigramCopy = Path.Combine(_folder, "not-llama.gguf");
        GgufTestFiles.CopyWithStringMetadata(ModelPath("tiny-arith-xs-f16.gguf"), bigramCopy, "general.architecture", "gpt2");
        var refused = await HarnessProcess.RunAsync(root, TimeSpan.FromMinutes(2), "forge", "onnx", bigramCopy, "--output", Path.Combine(_folder, "no"));
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("only 'llama' models can be exported", refused.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_folder, "no")));
    }

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

    private void CheckAgainstLlamaCpp(string ggufPath, bool f32Attention, float tolerance, string prompt = Prompt)
    {
        var (tokens, expected) = LlamaCppReference.Run(ggufPath, prompt, f32Attention: f32Attention);
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

        /// <summary>One step over a batch of equally long rows with no past: the logits of each row and position.</summary>
        public float[][][] Batch(int[][] rows, long[][] attentionMask, long[][] positions)
        {
            var (count, length) = (rows.Length, rows[0].Length);
            var inputs = new Dictionary<string, OrtValue>
            {
                ["input_ids"] = OrtValue.CreateTensorValueFromMemory(rows.SelectMany(r => r.Select(t => (long)t)).ToArray(), [count, length]),
                ["attention_mask"] = OrtValue.CreateTensorValueFromMemory(attentionMask.SelectMany(m => m).ToArray(), [count, length]),
                ["position_ids"] = OrtValue.CreateTensorValueFromMemory(positions.SelectMany(p => p).ToArray(), [count, length]),
            };
            for (var b = 0; b < shape.BlockCount; b++)
            {
                long[] empty = [count, shape.HeadCountKv, 0, shape.HeadDimension];
                inputs[LlamaOnnxGraph.Name(LlamaOnnxGraph.PastKeyTemplate, b)] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), empty);
                inputs[LlamaOnnxGraph.Name(LlamaOnnxGraph.PastValueTemplate, b)] = OrtValue.CreateTensorValueFromMemory(Array.Empty<float>(), empty);
            }

            try
            {
                using var runOptions = new RunOptions();
                using var results = _session.Run(runOptions, inputs.Keys.ToArray(), inputs.Values.ToArray(), ["logits"]);
                var logits = results[0].GetTensorDataAsSpan<float>().ToArray();
                var vocabulary = shape.VocabularySize;
                return [.. Enumerable.Range(0, count).Select(r => Enumerable.Range(0, length)
                    .Select(i => logits[(((r * length) + i) * vocabulary)..((((r * length) + i) + 1) * vocabulary)]).ToArray())];
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

    private sealed class ToleranceComparer(float tolerance) : IEqualityComparer<float>
    {
        public bool Equals(float x, float y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(float obj) => 0;
    }

    /// <summary>One layer's keys or values, [batch, kv_heads, positions, head_size].</summary>
    private sealed record Past(float[] Values, long[] Dimensions);
}
