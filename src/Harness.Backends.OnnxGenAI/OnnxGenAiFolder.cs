using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Backends;
using Harness.Core.Models;

namespace Harness.Backends.OnnxGenAI;

/// <summary>
/// What an ONNX Runtime GenAI model folder holds, read from its <c>genai_config.json</c> before GenAI sees it, so that a
/// wrong path or a missing file is named in our words (GenAI says only "Error opening ...").
/// </summary>
/// <param name="Folder">Absolute path of the folder.</param>
/// <param name="ModelType">GenAI's <c>model.type</c> (e.g. <c>llama</c>).</param>
/// <param name="ContextLength">GenAI's <c>model.context_length</c>: the most tokens a sequence may hold.</param>
/// <param name="DecoderFile">The decoder graph, <c>model.decoder.filename</c>.</param>
/// <param name="SizeBytes">Every file in the folder, recursively (the model's weights may sit in external data files).</param>
/// <param name="ChatTemplate">The Jinja chat template of <c>tokenizer_config.json</c>, or null when the folder has none.</param>
/// <param name="VocabularySize">GenAI's <c>model.vocab_size</c>: the width of a logits row.</param>
/// <param name="AddBos">tokenizer_config.json's <c>add_bos_token</c>; null when it does not say.</param>
/// <param name="LogitsOutput">The decoder's logits output (<c>model.decoder.outputs.logits</c>, GenAI's default <c>logits</c>).</param>
internal sealed record OnnxGenAiFolder(
    string Folder, string ModelType, int ContextLength, int VocabularySize, string DecoderFile, long SizeBytes, string? ChatTemplate, bool? AddBos, string LogitsOutput)
{
    public const string ConfigFileName = "genai_config.json";
    public const string TokenizerConfigFileName = "tokenizer_config.json";

    /// <exception cref="ModelLoadException">Not a folder, no <c>genai_config.json</c>, unreadable or incomplete config, or
    /// no decoder file.</exception>
    public static OnnxGenAiFolder Inspect(ModelEntry model, string path)
    {
        var folder = Path.GetFullPath(path);
        if (File.Exists(folder))
        {
            throw new ModelLoadException(
                $"Model '{model.Id}': '{folder}' is a file; an onnx model's path is the folder that holds {ConfigFileName}, the model and its tokenizer.");
        }
        if (!Directory.Exists(folder))
            throw new ModelLoadException($"Model '{model.Id}': model folder not found: '{folder}'.");

        var configPath = Path.Combine(folder, ConfigFileName);
        if (!File.Exists(configPath))
        {
            throw new ModelLoadException(
                $"Model '{model.Id}': the folder '{folder}' has no {ConfigFileName}, so it is not an ONNX Runtime GenAI model folder.");
        }

        string type, decoderFile, logitsOutput;
        int contextLength, vocabularySize;
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(configPath));
            var modelNode = Property(document.RootElement, "model", configPath);
            type = Property(modelNode, "type", configPath).GetString() ?? "";
            contextLength = Property(modelNode, "context_length", configPath).GetInt32();
            vocabularySize = Property(modelNode, "vocab_size", configPath).GetInt32();
            var decoder = Property(modelNode, "decoder", configPath);
            decoderFile = Property(decoder, "filename", configPath).GetString() ?? "";
            logitsOutput = decoder.TryGetProperty("outputs", out var outputs) && outputs.ValueKind == JsonValueKind.Object
                && outputs.TryGetProperty("logits", out var logits) && logits.GetString() is { Length: > 0 } name
                    ? name
                    : "logits";
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or IOException or UnauthorizedAccessException)
        {
            throw new ModelLoadException($"Model '{model.Id}': cannot read '{configPath}': {ex.Message}", ex);
        }

        if (contextLength < 1)
            throw new ModelLoadException($"Model '{model.Id}': '{configPath}' gives model.context_length {contextLength}; it must be at least 1.");
        if (vocabularySize < 1)
            throw new ModelLoadException($"Model '{model.Id}': '{configPath}' gives model.vocab_size {vocabularySize}; it must be at least 1.");
        if (decoderFile.Length == 0 || !File.Exists(Path.Combine(folder, decoderFile)))
        {
            throw new ModelLoadException(
                $"Model '{model.Id}': the decoder '{decoderFile}' that '{configPath}' names (model.decoder.filename) is not in '{folder}'.");
        }

        var (chatTemplate, addBos) = ReadTokenizerConfig(folder);
        return new OnnxGenAiFolder(folder, type, contextLength, vocabularySize, decoderFile, FolderSize(folder), chatTemplate, addBos, logitsOutput);
    }

    private static JsonElement Property(JsonElement element, string name, string configPath) =>
        element.ValueKind == JsonValueKind.Object && element.TryGetProperty(name, out var value)
            ? value
            : throw new FormatException($"'{name}' is missing (GenAI needs model.type, model.context_length, model.vocab_size and model.decoder.filename)");

    private static long FolderSize(string folder) =>
        new DirectoryInfo(folder).EnumerateFiles("*", SearchOption.AllDirectories).Sum(f => f.Length);

    /// <summary>
    /// The chat template GenAI's tokenizer applies by default and whether a BOS token starts every text, as Hugging Face's
    /// tokenizer_config.json gives them.
    /// </summary>
    private static (string? ChatTemplate, bool? AddBos) ReadTokenizerConfig(string folder)
    {
        var path = Path.Combine(folder, TokenizerConfigFileName);
        if (!File.Exists(path))
            return (null, null);
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(path));
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
                return (null, null);
            var template = root.TryGetProperty("chat_template", out var t) && t.ValueKind == JsonValueKind.String && t.GetString() is { Length: > 0 } text
                ? text
                : null;
            bool? addBos = root.TryGetProperty("add_bos_token", out var b) && b.ValueKind is JsonValueKind.True or JsonValueKind.False
                ? b.GetBoolean()
                : null;
            return (template, addBos);
        }
        catch (JsonException)
        {
            // GenAI reads this file too and reports a broken one when the tokenizer loads.
            return (null, null);
        }
    }

    /// <summary>Facts recorded with every load.</summary>
    public ImmutableSortedDictionary<string, string> Describe() =>
        ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, string>
        {
            ["model_type"] = ModelType,
            ["decoder_file"] = DecoderFile,
            ["context_length_trained"] = ContextLength.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["vocab_size"] = VocabularySize.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });
}
