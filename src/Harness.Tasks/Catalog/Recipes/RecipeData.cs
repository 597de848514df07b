using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>Reading upstream files and building suite values the same way in every generation recipe.</summary>
internal static class RecipeData
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The file's bytes as UTF-8 text.</summary>
    /// <exception cref="InvalidDataException">The bytes are not UTF-8 (the message names the file).</exception>
    public static string ReadText(IRecipeFiles files, string path)
    {
        using var stream = files.Open(path);
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return Decode(buffer.ToArray(), path);
    }

    public static string Decode(byte[] bytes, string path)
    {
        try
        {
            return StrictUtf8.GetString(bytes);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"{path}: not UTF-8 text ({e.Message})", e);
        }
    }

    public static string Sha256Hex(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));

    /// <summary>JSON lines: one object per non-empty line, with the 1-based line number.</summary>
    public static IEnumerable<(int Line, JsonElement Row)> JsonLines(string text, string path)
    {
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }

            JsonElement row;
            try
            {
                using var document = JsonDocument.Parse(line);
                row = document.RootElement.Clone();
            }
            catch (JsonException e)
            {
                throw new InvalidDataException($"{path}:{i + 1}: invalid JSON ({Harness.Core.Serialization.JsonErrorText.Describe(e)})", e);
            }

            if (row.ValueKind != JsonValueKind.Object)
            {
                throw new InvalidDataException($"{path}:{i + 1}: a row must be a JSON object, not {row.ValueKind}");
            }

            yield return (i + 1, row);
        }
    }

    /// <summary>The string property <paramref name="name"/> of a row.</summary>
    /// <exception cref="InvalidDataException">Missing or not a string; <paramref name="where"/> names file and row.</exception>
    public static string RequiredString(JsonElement row, string name, string where) =>
        row.ValueKind == JsonValueKind.Object && row.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw new InvalidDataException($"{where}: missing string field '{name}'");

    /// <summary>Zero-padded 0-based row index, as wide as the largest index (lead's id rule for rows without ids).</summary>
    public static string RowId(int index, int count) =>
        index.ToString("D" + Math.Max(4, (count - 1).ToString(CultureInfo.InvariantCulture).Length).ToString(CultureInfo.InvariantCulture), CultureInfo.InvariantCulture);

    public static JsonElement JsonOf(string value) => JsonSerializer.SerializeToElement(value);

    public static JsonElement JsonOf(int value) => JsonSerializer.SerializeToElement(value);

    public static JsonElement JsonOf(bool value) => JsonSerializer.SerializeToElement(value);

    public static ImmutableSortedDictionary<string, JsonElement> Fields(params (string Name, JsonElement Value)[] fields) =>
        fields.ToImmutableSortedDictionary(f => f.Name, f => f.Value, StringComparer.Ordinal);

    public static ScorerSpec Scorer(string name, params (string Name, JsonElement Value)[] arguments) =>
        new(name, Fields(arguments));

    public static JsonElement JsonList(params string[] values) => JsonSerializer.SerializeToElement(values);

    public static ImmutableSortedDictionary<string, string> NoExtraFiles =>
        ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal);

    /// <summary>Python's <c>str.strip()</c>: .NET's whitespace plus the separators U+001C..U+001F.</summary>
    public static string PythonStrip(string text)
    {
        static bool IsSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001c' and <= '\u001f';
        var start = 0;
        var end = text.Length;
        while (start < end && IsSpace(text[start]))
        {
            start++;
        }

        while (end > start && IsSpace(text[end - 1]))
        {
            end--;
        }

        return text[start..end];
    }
}
