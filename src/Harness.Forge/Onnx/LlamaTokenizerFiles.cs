using System.Collections.Immutable;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Harness.Forge.Onnx;

/// <summary>
/// The Hugging Face tokenizer files (<c>tokenizer.json</c>, <c>tokenizer_config.json</c>) of a GGUF's SentencePiece
/// vocabulary, in the llama layout that onnxruntime-extensions (ONNX Runtime GenAI's tokenizer) reads as an SPM
/// model: a BPE model with <c>byte_fallback</c>, the byte tokens <c>&lt;0xNN&gt;</c>, merges derived from the piece
/// scores, and a decoder that turns U+2581 back into spaces. Whether a space is prepended follows the GGUF's
/// <c>add_space_prefix</c> (false for the forged models): extensions decides it from the decoder's <c>Strip</c> step,
/// Hugging Face from the normalizer's <c>Prepend</c>, so both are written or neither.
/// </summary>
public static class LlamaTokenizerFiles
{
    private const string SpaceMarker = "\u2581";

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        // Token texts hold '<', '>' and U+2581: keep them readable rather than \u-escaped.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static string TokenizerJson(SpmVocabulary vocabulary)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var tokens = vocabulary.Tokens;
        var vocab = new JsonObject();
        for (var id = 0; id < tokens.Length; id++)
        {
            if (vocab.ContainsKey(tokens[id].Text))
            {
                throw new ArgumentException($"Token '{tokens[id].Text}' appears twice in the vocabulary (ids {vocab[tokens[id].Text]} and {id}).", nameof(vocabulary));
            }

            vocab[tokens[id].Text] = id;
        }

        var merges = new JsonArray();
        foreach (var (left, right) in Merges(tokens))
        {
            merges.Add(new JsonArray(left, right));
        }

        var addedTokens = new JsonArray();
        for (var id = 0; id < tokens.Length; id++)
        {
            if (tokens[id].Type is LlamaTokenType.Control or LlamaTokenType.Unknown or LlamaTokenType.UserDefined)
            {
                addedTokens.Add(new JsonObject
                {
                    ["id"] = id,
                    ["content"] = tokens[id].Text,
                    ["single_word"] = false,
                    ["lstrip"] = false,
                    ["rstrip"] = false,
                    ["normalized"] = false,
                    ["special"] = tokens[id].Type != LlamaTokenType.UserDefined,
                });
            }
        }

        var normalizers = new JsonArray();
        var decoders = new JsonArray
        {
            new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = SpaceMarker }, ["content"] = " " },
            new JsonObject { ["type"] = "ByteFallback" },
            new JsonObject { ["type"] = "Fuse" },
        };
        if (vocabulary.AddSpacePrefix)
        {
            normalizers.Add(new JsonObject { ["type"] = "Prepend", ["prepend"] = SpaceMarker });
            decoders.Add(new JsonObject { ["type"] = "Strip", ["content"] = " ", ["start"] = 1, ["stop"] = 0 });
        }

        normalizers.Add(new JsonObject { ["type"] = "Replace", ["pattern"] = new JsonObject { ["String"] = " " }, ["content"] = SpaceMarker });

        var bos = tokens[vocabulary.BosId].Text;
        var eos = tokens[vocabulary.EosId].Text;
        var single = new JsonArray();
        var pair = new JsonArray();
        if (vocabulary.AddBos)
        {
            single.Add(Special(bos, 0));
            pair.Add(Special(bos, 0));
        }

        single.Add(Sequence("A", 0));
        pair.Add(Sequence("A", 0));
        if (vocabulary.AddEos)
        {
            single.Add(Special(eos, 0));
            pair.Add(Special(eos, 0));
        }

        if (vocabulary.AddBos)
        {
            pair.Add(Special(bos, 1));
        }

        pair.Add(Sequence("B", 1));
        if (vocabulary.AddEos)
        {
            pair.Add(Special(eos, 1));
        }

        var specialTokens = new JsonObject();
        foreach (var id in new[] { vocabulary.BosId, vocabulary.EosId }.Distinct())
        {
            specialTokens[tokens[id].Text] = new JsonObject { ["id"] = tokens[id].Text, ["ids"] = new JsonArray(id), ["tokens"] = new JsonArray(tokens[id].Text) };
        }

        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = addedTokens,
            ["normalizer"] = new JsonObject { ["type"] = "Sequence", ["normalizers"] = normalizers },
            ["pre_tokenizer"] = null,
            ["post_processor"] = new JsonObject { ["type"] = "TemplateProcessing", ["single"] = single, ["pair"] = pair, ["special_tokens"] = specialTokens },
            ["decoder"] = new JsonObject { ["type"] = "Sequence", ["decoders"] = decoders },
            ["model"] = new JsonObject
            {
                ["type"] = "BPE",
                ["dropout"] = null,
                ["unk_token"] = tokens[vocabulary.UnknownId].Text,
                ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null,
                ["fuse_unk"] = true,
                ["byte_fallback"] = true,
                ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = merges,
            },
        };
        return root.ToJsonString(Indented);

        static JsonObject Special(string id, int typeId) => new() { ["SpecialToken"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
        static JsonObject Sequence(string id, int typeId) => new() { ["Sequence"] = new JsonObject { ["id"] = id, ["type_id"] = typeId } };
    }

    public static string TokenizerConfigJson(SpmVocabulary vocabulary, int contextLength)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        var tokens = vocabulary.Tokens;
        var decoder = new JsonObject();
        for (var id = 0; id < tokens.Length; id++)
        {
            if (tokens[id].Type is LlamaTokenType.Control or LlamaTokenType.Unknown or LlamaTokenType.UserDefined)
            {
                decoder[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
                {
                    ["content"] = tokens[id].Text,
                    ["lstrip"] = false,
                    ["normalized"] = false,
                    ["rstrip"] = false,
                    ["single_word"] = false,
                    ["special"] = tokens[id].Type != LlamaTokenType.UserDefined,
                };
            }
        }

        var root = new JsonObject
        {
            ["tokenizer_class"] = "LlamaTokenizer",
            ["add_bos_token"] = vocabulary.AddBos,
            ["add_eos_token"] = vocabulary.AddEos,
            ["add_prefix_space"] = vocabulary.AddSpacePrefix,
            ["legacy"] = false,
            ["bos_token"] = tokens[vocabulary.BosId].Text,
            ["eos_token"] = tokens[vocabulary.EosId].Text,
            ["unk_token"] = tokens[vocabulary.UnknownId].Text,
            ["pad_token"] = vocabulary.PaddingId is { } pad ? tokens[pad].Text : null,
            ["clean_up_tokenization_spaces"] = false,
            ["model_max_length"] = contextLength,
            ["added_tokens_decoder"] = decoder,
        };
        return root.ToJsonString(Indented);
    }

    /// <summary>
    /// BPE merges that reproduce SentencePiece's BPE on this vocabulary, derived as Hugging Face's LlamaConverter
    /// derives them: every split of a piece into two pieces that are both in the vocabulary is a merge, ranked by the
    /// merged piece's score (highest first; SentencePiece merges the best-scoring adjacent pair first), ties in
    /// vocabulary order. A character-level vocabulary has no piece longer than one character, hence no merges.
    /// </summary>
    public static ImmutableArray<(string Left, string Right)> Merges(ImmutableArray<VocabularyToken> tokens)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var id = 0; id < tokens.Length; id++)
        {
            ids.TryAdd(tokens[id].Text, id);
        }

        var candidates = new List<(string Left, string Right, float Score, int Id, int LeftId, int RightId)>();
        for (var id = 0; id < tokens.Length; id++)
        {
            if (tokens[id].Type is not (LlamaTokenType.Normal or LlamaTokenType.UserDefined))
            {
                continue;
            }

            var text = tokens[id].Text;
            // Split only between whole code points: a surrogate pair is one character to SentencePiece.
            for (var at = 1; at < text.Length; at++)
            {
                if (char.IsLowSurrogate(text[at]))
                {
                    continue;
                }

                var (left, right) = (text[..at], text[at..]);
                if (ids.TryGetValue(left, out var leftId) && ids.TryGetValue(right, out var rightId))
                {
                    candidates.Add((left, right, tokens[id].Score, id, leftId, rightId));
                }
            }
        }

        return [.. candidates
            .OrderByDescending(c => c.Score)
            .ThenBy(c => c.Id)
            .ThenBy(c => c.LeftId)
            .ThenBy(c => c.RightId)
            .Select(c => (c.Left, c.Right))];
    }
}
