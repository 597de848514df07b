using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Harness.Core.Serialization;

/// <summary>
/// A JSON parse error as one short sentence for a <c>file:line: problem</c> message. System.Text.Json appends
/// " Path: $ | LineNumber: 0 | BytePositionInLine: 40." with zero-based positions counted within the text it was given:
/// for a JSONL line that is always "LineNumber: 0", which contradicts the file's line number the caller already shows.
/// </summary>
public static partial class JsonErrorText
{
    /// <param name="exception">The parser's error.</param>
    /// <param name="multiLine">True when the parsed text was a whole file (then its line is worth naming); false for
    /// one line of a JSONL file, whose line number the caller prints.</param>
    public static string Describe(JsonException exception, bool multiLine = false)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var text = PositionSuffix().Replace(exception.Message, "").TrimEnd();
        if (exception.BytePositionInLine is not { } column)
        {
            return text;
        }

        return multiLine && exception.LineNumber is { } line
            ? string.Create(CultureInfo.InvariantCulture, $"{text} (line {line + 1}, byte {column + 1})")
            : string.Create(CultureInfo.InvariantCulture, $"{text} (at byte {column + 1} of the line)");
    }

    [GeneratedRegex(@"\s*(Path: [^|]*\|\s*)?LineNumber: \d+ \| BytePositionInLine: \d+\.?$")]
    private static partial Regex PositionSuffix();
}
