using System.Runtime.CompilerServices;
using System.Text;
using Harness.Core.Backends;

namespace Harness.Backends.OpenAi;

/// <summary>
/// Reads the <c>data:</c> payloads of a server-sent event stream (the OpenAI streaming format): one payload per event,
/// multi-line data joined with newlines, comments and other fields skipped, ending at <c>[DONE]</c> or the end of the stream.
/// </summary>
internal static class SseReader
{
    public const string Done = "[DONE]";

    /// <exception cref="BackendException">The stream is not an event stream (a line that is neither a field nor a comment).</exception>
    public static async IAsyncEnumerable<string> ReadAsync(Stream stream, string source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false));
        var data = new StringBuilder();
        var hasData = false;
        var lineNumber = 0;
        while (await reader.ReadLineAsync(cancellationToken).ConfigureAwait(false) is { } line)
        {
            lineNumber++;
            if (line.Length == 0)
            {
                if (hasData)
                {
                    var payload = data.ToString();
                    data.Clear();
                    hasData = false;
                    if (payload == Done)
                        yield break;
                    yield return payload;
                }
                continue;
            }
            if (line[0] == ':')
                continue; // a comment (keep-alive)
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
                throw new BackendException($"{source}: malformed event stream: line {lineNumber} is not a 'field: value' line: {ServerClient.Excerpt(line)}");
            var field = line[..colon];
            var value = colon + 1 < line.Length && line[colon + 1] == ' ' ? line[(colon + 2)..] : line[(colon + 1)..];
            if (field == "data")
            {
                if (hasData)
                    data.Append('\n');
                data.Append(value);
                hasData = true;
            }
        }

        // A stream may end without a blank line after its last event.
        if (hasData && data.ToString() != Done)
            yield return data.ToString();
    }
}
