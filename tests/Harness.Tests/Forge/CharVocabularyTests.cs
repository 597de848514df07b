using System.Text;
using Harness.Core.Gguf;
using Harness.Forge;

namespace Harness.Tests.Forge;

public sealed class CharVocabularyTests
{
    private static readonly CharVocabulary Vocabulary = CharVocabulary.Create("ba c");

    [Fact]
    public void Layout_is_specials_then_bytes_then_characters_in_code_point_order()
    {
        Assert.Equal(3 + 256 + 4, Vocabulary.Count);
        Assert.Equal(new VocabularyToken("<unk>", 0f, LlamaTokenType.Unknown), Vocabulary.Tokens[0]);
        Assert.Equal(new VocabularyToken("<s>", 0f, LlamaTokenType.Control), Vocabulary.Tokens[1]);
        Assert.Equal(new VocabularyToken("</s>", 0f, LlamaTokenType.Control), Vocabulary.Tokens[2]);
        Assert.Equal("<0x00>", Vocabulary.Tokens[3].Text);
        Assert.Equal("<0x0A>", Vocabulary.Tokens[CharVocabulary.ByteTokenId(10)].Text);
        Assert.Equal(LlamaTokenType.Byte, Vocabulary.Tokens[258].Type);
        Assert.Equal(["▁", "a", "b", "c"], Vocabulary.Tokens.Skip(259).Select(t => t.Text));
        Assert.All(Vocabulary.Tokens.Skip(259), t => Assert.Equal(LlamaTokenType.Normal, t.Type));
    }

    [Fact]
    public void Tokenize_maps_characters_spaces_and_falls_back_to_utf8_bytes()
    {
        var (space, a, b, c) = (259, 260, 261, 262);

        Assert.Equal([CharVocabulary.BosId, a, space, b], Vocabulary.Tokenize("a b", addBos: true).ToArray());
        Assert.Equal([c, CharVocabulary.ByteTokenId(0x0A), a], Vocabulary.Tokenize("c\na", addBos: false).ToArray());
        Assert.Equal([CharVocabulary.ByteTokenId(0xC3), CharVocabulary.ByteTokenId(0xA9)], Vocabulary.Tokenize("é", addBos: false).ToArray());
        Assert.Equal([space], Vocabulary.Tokenize("\u2581", addBos: false).ToArray());
        Assert.Equal([CharVocabulary.BosId], Vocabulary.Tokenize("", addBos: true).ToArray());
        Assert.Equal("<s>".EnumerateRunes().Select(r => Vocabulary.IdOf(r) ?? CharVocabulary.ByteTokenId((byte)r.Value)),
            Vocabulary.Tokenize("<s>", addBos: false));
    }

    [Fact]
    public void Without_a_space_token_a_space_becomes_the_bytes_of_the_visible_space()
    {
        var noSpace = CharVocabulary.Create("ab");
        var expected = Encoding.UTF8.GetBytes("\u2581").Select(CharVocabulary.ByteTokenId);

        Assert.Equal(expected, noSpace.Tokenize(" ", addBos: false));
    }

    [Fact]
    public void Metadata_declares_an_spm_vocabulary_without_space_prefix()
    {
        var metadata = Vocabulary.ToMetadata().ToDictionary(e => e.Key, e => e.Value);

        Assert.Equal("llama", metadata["tokenizer.ggml.model"].AsString());
        Assert.Equal(Vocabulary.Count, metadata["tokenizer.ggml.tokens"].Count);
        Assert.Equal(Vocabulary.Count, metadata["tokenizer.ggml.scores"].AsArray<float>().Length);
        Assert.Equal(6, metadata["tokenizer.ggml.token_type"].AsArray<int>()[100]);
        Assert.Equal(1, metadata["tokenizer.ggml.bos_token_id"].AsInt64());
        Assert.Equal(2, metadata["tokenizer.ggml.eos_token_id"].AsInt64());
        Assert.Equal(0, metadata["tokenizer.ggml.unknown_token_id"].AsInt64());
        Assert.True(metadata["tokenizer.ggml.add_bos_token"].AsBool());
        Assert.False(metadata["tokenizer.ggml.add_eos_token"].AsBool());
        Assert.False(metadata["tokenizer.ggml.add_space_prefix"].AsBool());
        Assert.Equal(GgufValueType.String, metadata["tokenizer.ggml.tokens"].ElementType);
    }

    [Fact]
    public void Space_and_the_visible_space_cannot_both_be_characters() =>
        Assert.Throws<ArgumentException>(() => CharVocabulary.Create(" \u2581"));

    [Fact]
    public void Printable_ascii_has_95_characters() =>
        Assert.Equal(3 + 256 + 95, CharVocabulary.Create(CharVocabulary.PrintableAscii).Count);
}
