using System.Collections.Immutable;
using System.Text;

namespace Harness.Core.Backends;

/// <summary>
/// Accumulates generated token bytes (or a server's streamed text) and watches for stop sequences: one implementation
/// for every backend, so that stop handling cannot differ between runtimes. The text ends where the earliest stop
/// sequence starts.
/// </summary>
/// <remarks>
/// Tokens can end in the middle of a UTF-8 character (byte-fallback vocabularies split emoji and CJK over
/// several tokens), so bytes go through a stateful decoder and only complete characters become text.
/// Each append searches only the tail that a new match could touch, keeping the check linear overall.
/// </remarks>
public sealed class StopSequenceText
{
    private readonly Decoder _decoder = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false).GetDecoder();
    private readonly ImmutableArray<string> _stops;
    private readonly int _longestStop;
    private char[] _chars = new char[256];
    private int _length;

    public StopSequenceText(ImmutableArray<string> stops)
    {
        _stops = stops.IsDefault ? [] : stops.Where(s => s.Length > 0).ToImmutableArray();
        _longestStop = _stops.IsEmpty ? 0 : _stops.Max(s => s.Length);
    }

    /// <summary>Index where the first stop sequence starts, or -1.</summary>
    public int StopIndex { get; private set; } = -1;

    /// <summary>Adds one token's bytes; returns true when a stop sequence is now complete.</summary>
    public bool Append(ReadOnlySpan<byte> bytes) => AppendCore(bytes, flush: false);

    /// <summary>
    /// Adds a piece of text a server streamed; returns true when a stop sequence is now complete. A server is told the
    /// stop sequences too but may hold back a partial match or not stop at all, so what follows a match is ignored.
    /// </summary>
    public bool Append(string piece)
    {
        ArgumentNullException.ThrowIfNull(piece);
        if (StopIndex >= 0)
            return true;
        var previousLength = _length;
        EnsureCapacity(piece.Length);
        piece.CopyTo(0, _chars, _length, piece.Length);
        _length += piece.Length;
        return Search(previousLength);
    }

    /// <summary>The text so far (cut before the stop sequence when one matched), flushing any incomplete character.</summary>
    public string Finish()
    {
        if (StopIndex < 0)
            AppendCore([], flush: true);
        return new string(_chars, 0, StopIndex >= 0 ? StopIndex : _length);
    }

    private bool AppendCore(ReadOnlySpan<byte> bytes, bool flush)
    {
        var previousLength = _length;
        EnsureCapacity(_decoder.GetCharCount(bytes, flush));
        _length += _decoder.GetChars(bytes, _chars.AsSpan(_length), flush);
        return Search(previousLength);
    }

    private void EnsureCapacity(int needed)
    {
        if (_length + needed > _chars.Length)
            Array.Resize(ref _chars, Math.Max(_chars.Length * 2, _length + needed));
    }

    // Looks for a stop sequence touching the characters added after previousLength.
    private bool Search(int previousLength)
    {
        if (_longestStop == 0 || _length == previousLength)
            return false;

        // A match must end inside the new characters, so it starts at most (longest - 1) before them.
        var windowStart = Math.Max(0, previousLength - _longestStop + 1);
        var window = new ReadOnlySpan<char>(_chars, windowStart, _length - windowStart);
        var best = -1;
        foreach (var stop in _stops)
        {
            var at = window.IndexOf(stop.AsSpan(), StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best))
                best = at;
        }
        if (best < 0)
            return false;
        StopIndex = windowStart + best;
        return true;
    }
}
