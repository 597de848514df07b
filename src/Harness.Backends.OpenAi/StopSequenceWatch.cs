using System.Collections.Immutable;
using System.Text;

namespace Harness.Backends.OpenAi;

/// <summary>
/// Accumulates streamed text and watches for stop sequences with the llama.cpp backend's rule: the text ends where the
/// earliest stop sequence starts, and each append searches only the tail a new match could touch.
/// </summary>
/// <remarks>
/// The server is told the stop sequences too, but servers differ in how they apply them (llama-server holds back a
/// partial match, others may not stop at all), so the client enforces them: the recorded text is the same whichever
/// server answered.
/// </remarks>
internal sealed class StopSequenceWatch
{
    private readonly ImmutableArray<string> _stops;
    private readonly int _longestStop;
    private readonly StringBuilder _text = new();

    public StopSequenceWatch(ImmutableArray<string> stops)
    {
        _stops = stops.IsDefault ? [] : [.. stops.Where(s => s.Length > 0)];
        _longestStop = _stops.IsEmpty ? 0 : _stops.Max(s => s.Length);
    }

    /// <summary>Index where the first stop sequence starts, or -1.</summary>
    public int StopIndex { get; private set; } = -1;

    /// <summary>Adds a streamed piece of text; returns true when a stop sequence is now complete (later pieces are ignored).</summary>
    public bool Append(string piece)
    {
        if (StopIndex >= 0)
            return true;
        var previousLength = _text.Length;
        _text.Append(piece);
        if (_longestStop == 0 || _text.Length == previousLength)
            return false;

        // A match must end inside the new characters, so it starts at most (longest - 1) before them.
        var windowStart = Math.Max(0, previousLength - _longestStop + 1);
        var window = _text.ToString(windowStart, _text.Length - windowStart);
        var best = -1;
        foreach (var stop in _stops)
        {
            var at = window.IndexOf(stop, StringComparison.Ordinal);
            if (at >= 0 && (best < 0 || at < best))
                best = at;
        }
        if (best < 0)
            return false;
        StopIndex = windowStart + best;
        return true;
    }

    /// <summary>The text so far, cut before the stop sequence when one matched.</summary>
    public string Text => StopIndex >= 0 ? _text.ToString(0, StopIndex) : _text.ToString();
}
