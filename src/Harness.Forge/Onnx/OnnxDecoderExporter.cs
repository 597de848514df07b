using System.Collections.Immutable;
using System.Text.Json;
using System.Text.Json.Nodes;
using Harness.Core.Serialization;

namespace Harness.Forge.Onnx;

/// <summary>What <see cref="OnnxDecoderExporter.Export"/> wrote.</summary>
/// <param name="Files">Full paths of the files written, in the order written (model.onnx last, so a folder with a
/// model.onnx is complete).</param>
public sealed record OnnxExportResult(string Folder, ImmutableArray<string> Files, LlamaShape Shape, string SourceTensorTypes, long ModelBytes);

/// <summary>
/// Exports a llama GGUF to a folder that ONNX Runtime GenAI loads as a <c>decoder</c> model of type <c>llama</c>:
/// <c>model.onnx</c> (<see cref="LlamaOnnxGraph"/>, weights as F32 initializers), <c>genai_config.json</c> and the
/// tokenizer files (<see cref="LlamaTokenizerFiles"/>). The weights are the GGUF's own (dequantized when quantized),
/// so llama.cpp and ONNX Runtime can be compared on the same model.
/// </summary>
public static class OnnxDecoderExporter
{
    public const string ModelFileName = "model.onnx";
    public const string GenAiConfigFileName = "genai_config.json";
    public const string TokenizerFileName = "tokenizer.json";
    public const string TokenizerConfigFileName = "tokenizer_config.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    /// <exception cref="Harness.Core.Suites.InputFileException">A GGUF the exporter cannot reproduce (the message says why).</exception>
    public static OnnxExportResult Export(string ggufPath, string outputFolder, CancellationToken cancellationToken)
    {
        var gguf = LlamaGguf.Read(ggufPath);
        var model = LlamaOnnxGraph.Build(gguf, ProducerVersion, cancellationToken);
        var bytes = OnnxProtoWriter.ToBytes(model);
        cancellationToken.ThrowIfCancellationRequested();

        var folder = Path.GetFullPath(outputFolder);
        Directory.CreateDirectory(folder);
        var files = ImmutableArray.CreateBuilder<string>();
        void Write(string name, string text)
        {
            var path = Path.Combine(folder, name);
            AtomicFile.WriteAllText(path, text + "\n");
            files.Add(path);
        }

        Write(GenAiConfigFileName, GenAiConfig(gguf.Shape, gguf.Vocabulary));
        Write(TokenizerFileName, LlamaTokenizerFiles.TokenizerJson(gguf.Vocabulary));
        Write(TokenizerConfigFileName, LlamaTokenizerFiles.TokenizerConfigJson(gguf.Vocabulary, gguf.Shape.ContextLength));
        var modelPath = Path.Combine(folder, ModelFileName);
        AtomicFile.WriteAllBytes(modelPath, bytes);
        files.Add(modelPath);
        return new OnnxExportResult(folder, files.ToImmutable(), gguf.Shape, gguf.TensorTypes, bytes.LongLength);
    }

    /// <summary>
    /// ONNX Runtime GenAI's configuration (its src/config.cpp reads these keys; an unknown key is an error there).
    /// Search defaults are greedy with max_length = the context, and the KV cache is not a shared buffer: the graph
    /// concatenates past and present, so each step's present is one position longer than its past.
    /// </summary>
    public static string GenAiConfig(LlamaShape shape, SpmVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(vocabulary);
        var root = new JsonObject
        {
            ["model"] = new JsonObject
            {
                ["bos_token_id"] = vocabulary.BosId,
                ["context_length"] = shape.ContextLength,
                ["decoder"] = new JsonObject
                {
                    ["session_options"] = new JsonObject { ["log_id"] = "onnxruntime-genai", ["provider_options"] = new JsonArray() },
                    ["filename"] = ModelFileName,
                    ["head_size"] = shape.HeadDimension,
                    ["hidden_size"] = shape.EmbeddingLength,
                    ["inputs"] = new JsonObject
                    {
                        ["input_ids"] = LlamaOnnxGraph.InputIds,
                        ["attention_mask"] = LlamaOnnxGraph.AttentionMask,
                        ["position_ids"] = LlamaOnnxGraph.PositionIds,
                        ["past_key_names"] = LlamaOnnxGraph.PastKeyTemplate,
                        ["past_value_names"] = LlamaOnnxGraph.PastValueTemplate,
                    },
                    ["outputs"] = new JsonObject
                    {
                        ["logits"] = LlamaOnnxGraph.Logits,
                        ["present_key_names"] = LlamaOnnxGraph.PresentKeyTemplate,
                        ["present_value_names"] = LlamaOnnxGraph.PresentValueTemplate,
                    },
                    ["num_attention_heads"] = shape.HeadCount,
                    ["num_hidden_layers"] = shape.BlockCount,
                    ["num_key_value_heads"] = shape.HeadCountKv,
                },
                ["eos_token_id"] = vocabulary.EosId,
                // GenAI pads batched prompts with this id; the attention mask hides it, so EOS serves when the GGUF names none.
                ["pad_token_id"] = vocabulary.PaddingId ?? vocabulary.EosId,
                ["type"] = "llama",
                ["vocab_size"] = shape.VocabularySize,
            },
            ["search"] = new JsonObject
            {
                ["diversity_penalty"] = 0.0,
                ["do_sample"] = false,
                ["early_stopping"] = true,
                ["length_penalty"] = 1.0,
                ["max_length"] = shape.ContextLength,
                ["min_length"] = 0,
                ["no_repeat_ngram_size"] = 0,
                ["num_beams"] = 1,
                ["num_return_sequences"] = 1,
                ["past_present_share_buffer"] = false,
                ["repetition_penalty"] = 1.0,
                ["temperature"] = 1.0,
                ["top_k"] = 1,
                ["top_p"] = 1.0,
            },
        };
        return root.ToJsonString(Indented);
    }

    // The assembly version, not the informational one: that carries the commit hash, and the same GGUF must give the
    // same bytes from any build.
    private static string ProducerVersion => typeof(OnnxDecoderExporter).Assembly.GetName().Version?.ToString() ?? "unknown";
}
