using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Harness.Core.Gguf;

namespace Harness.Forge;

/// <summary>llama.cpp's token types (<c>tokenizer.ggml.token_type</c>).</summary>
public enum LlamaTokenType
{
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6,
}

/// <summary>One vocabulary entry as written to the GGUF.</summary>
public sealed record VocabularyToken(string Text, float Score, LlamaTokenType Type);

/// <summary>
/// A character-level SentencePiece (<c>tokenizer.ggml.model = llama</c>) vocabulary: <c>&lt;unk&gt;</c>,
/// <c>&lt;s&gt;</c>, <c>&lt;/s&gt;</c>, the 256 byte-fallback tokens <c>&lt;0x00&gt;</c>..<c>&lt;0xFF&gt;</c>, then one
/// token per character (space written as U+2581 like SentencePiece). No token is longer than one character, so
/// llama.cpp's SPM merge loop never merges and tokenization reduces to: each character to its token, anything
/// else to the byte tokens of its UTF-8 encoding.
/// </summary>
public sealed class CharVocabulary
{
    public const int UnknownId = 0;
    public const int BosId = 1;
    public const int EosId = 2;
    public const int FirstByteId = 3;
    public const int FirstCharacterId = FirstByteId + 256;

    /// <summary>SentencePiece's visible space, which replaces ' ' in token texts.</summary>
    public const char SpaceMarker = '\u2581';

    /// <summary>The 95 printable ASCII characters, space through '~'.</summary>
    public static readonly string PrintableAscii = new([.. Enumerable.Range(32, 95).Select(c => (char)c)]);

    private readonly ImmutableDictionary<Rune, int> _idOfCharacter;

    private CharVocabulary(ImmutableArray<Rune> characters)
    {
        Characters = characters;
        var tokens = ImmutableArray.CreateBuilder<VocabularyToken>(FirstCharacterId + characters.Length);
        tokens.Add(new VocabularyToken("<unk>", 0f, LlamaTokenType.Unknown));
        tokens.Add(new VocabularyToken("<s>", 0f, LlamaTokenType.Control));
        tokens.Add(new VocabularyToken("</s>", 0f, LlamaTokenType.Control));
        for (var b = 0; b < 256; b++)
        {
            tokens.Add(new VocabularyToken(string.Create(CultureInfo.InvariantCulture, $"<0x{b:X2}>"), 0f, LlamaTokenType.Byte));
        }

        // Scores only rank merges in SPM; with single-character pieces there are none, so all scores are 0.
        foreach (var character in characters)
        {
            tokens.Add(new VocabularyToken(TextOf(character), 0f, LlamaTokenType.Normal));
        }

        Tokens = tokens.MoveToImmutable();
        _idOfCharacter = characters.Select((c, i) => KeyValuePair.Create(Escape(c), FirstCharacterId + i)).ToImmutableDictionary();
    }

    /// <summary>The characters with their own token, in code point order (token id = <see cref="FirstCharacterId"/> + index).</summary>
    public ImmutableArray<Rune> Characters { get; }

    public ImmutableArray<VocabularyToken> Tokens { get; }

    public int Count => Tokens.Length;

    /// <summary>A vocabulary for the distinct characters of <paramref name="characters"/>; order and repeats do not matter.</summary>
    /// <exception cref="ArgumentException">Both ' ' and U+2581 (they would share a token), or invalid UTF-16.</exception>
    public static CharVocabulary Create(string characters)
    {
        try
        {
            _ = StrictUtf8.GetByteCount(characters);
        }
        catch (EncoderFallbackException e)
        {
            throw new ArgumentException("The character set is not valid UTF-16.", nameof(characters), e);
        }

        var runes = new SortedSet<Rune>(characters.EnumerateRunes());

        if (runes.Contains(new Rune(' ')) && runes.Contains(new Rune(SpaceMarker)))
        {
            throw new ArgumentException("The character set may not hold both ' ' and U+2581: SentencePiece writes space as U+2581.", nameof(characters));
        }

        return new CharVocabulary([.. runes]);
    }

    /// <summary>The token id of a byte-fallback token.</summary>
    public static int ByteTokenId(byte value) => FirstByteId + value;

    /// <summary>The token of <paramref name="character"/>, or null when it falls back to bytes.</summary>
    public int? IdOf(Rune character) => _idOfCharacter.TryGetValue(Escape(character), out var id) ? id : null;

    /// <summary>
    /// Tokenizes like llama.cpp's SPM tokenizer on this vocabulary with <c>add_space_prefix = false</c> and
    /// special-token parsing off: optional BOS, then per character its token, else its UTF-8 bytes as byte tokens.
    /// Unpaired surrogates become U+FFFD, as they do when .NET encodes the text for llama.cpp.
    /// </summary>
    public ImmutableArray<int> Tokenize(string text, bool addBos)
    {
        var ids = ImmutableArray.CreateBuilder<int>(text.Length + 1);
        if (addBos)
        {
            ids.Add(BosId);
        }

        Span<byte> utf8 = stackalloc byte[4];
        foreach (var rune in text.EnumerateRunes())
        {
            // llama.cpp escapes spaces before the lookup, so an unknown space falls back to U+2581's bytes.
            var escaped = Escape(rune);
            if (_idOfCharacter.TryGetValue(escaped, out var id))
            {
                ids.Add(id);
                continue;
            }

            var length = escaped.EncodeToUtf8(utf8);
            foreach (var b in utf8[..length])
            {
                ids.Add(ByteTokenId(b));
            }
        }

        return ids.ToImmutable();
    }

    /// <summary>The <c>tokenizer.ggml.*</c> metadata llama.cpp needs to load this vocabulary.</summary>
    public ImmutableArray<GgufMetadataEntry> ToMetadata() =>
    [
        new("tokenizer.ggml.model", GgufValue.String("llama")),
        new("tokenizer.ggml.tokens", GgufValue.Array(Tokens.Select(t => t.Text).ToImmutableArray())),
        new("tokenizer.ggml.scores", GgufValue.Array(Tokens.Select(t => t.Score).ToImmutableArray())),
        new("tokenizer.ggml.token_type", GgufValue.Array(Tokens.Select(t => (int)t.Type).ToImmutableArray())),
        new("tokenizer.ggml.bos_token_id", GgufValue.UInt32(BosId)),
        new("tokenizer.ggml.eos_token_id", GgufValue.UInt32(EosId)),
        new("tokenizer.ggml.unknown_token_id", GgufValue.UInt32(UnknownId)),
        new("tokenizer.ggml.add_bos_token", GgufValue.Bool(true)),
        new("tokenizer.ggml.add_eos_token", GgufValue.Bool(false)),
        // SentencePiece's default would prepend U+2581 to every prompt, so "a" and " a" would tokenize alike.
        new("tokenizer.ggml.add_space_prefix", GgufValue.Bool(false)),
    ];

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static Rune Escape(Rune character) => character == new Rune(' ') ? new Rune(SpaceMarker) : character;

    private static string TextOf(Rune character) => Escape(character).ToString();
}
