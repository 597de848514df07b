using System.Text.Json;
using Harness.Core.Serialization;

namespace Harness.Tests.Serialization;

public sealed class JsonErrorTextTests
{
    private static JsonException ErrorOf(string json) => Assert.ThrowsAny<JsonException>(() => JsonDocument.Parse(json).Dispose());

    [Fact]
    public void A_jsonl_line_error_drops_the_parsers_zero_based_line_and_names_the_byte_of_the_line()
    {
        var error = ErrorOf("""{"id":"003","prompt":"2+2=","target":"4" """);

        var text = JsonErrorText.Describe(error);

        Assert.DoesNotContain("LineNumber", text, StringComparison.Ordinal);
        Assert.DoesNotContain("BytePositionInLine", text, StringComparison.Ordinal);
        Assert.DoesNotContain("Path: $", text, StringComparison.Ordinal);
        Assert.EndsWith($"(at byte {error.BytePositionInLine + 1} of the line)", text, StringComparison.Ordinal);
        Assert.StartsWith("Expected depth to be zero", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_whole_file_error_names_its_one_based_line_and_byte()
    {
        var error = ErrorOf("[\n  {\"a\": 1},\n  {\"a\": }\n]");

        var text = JsonErrorText.Describe(error, multiLine: true);

        Assert.EndsWith($"(line 3, byte {error.BytePositionInLine + 1})", text, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", text, StringComparison.Ordinal);
    }
}
