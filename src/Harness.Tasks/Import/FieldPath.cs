using System.Globalization;
using System.Text.Json;

namespace Harness.Tasks.Import;

/// <summary>
/// A dotted path into a record, as <c>--target</c>, <c>--choices</c> and <c>--id</c> name fields: <c>answer</c>,
/// <c>choices.text</c> over an object of lists (HuggingFace's ARC), <c>choices.text</c> over a list of objects (each
/// element's <c>text</c>, in order), <c>choices.0</c> for an element by 0-based index. A property whose own name
/// contains dots (a CSV header <c>a.b</c>) is matched first.
/// </summary>
public static class FieldPath
{
    /// <summary>The value at <paramref name="path"/>, or null when some step of it is missing.</summary>
    public static JsonElement? Resolve(JsonElement record, string path) => Resolve(record, path.Split('.'));

    private static JsonElement? Resolve(JsonElement value, ReadOnlySpan<string> segments)
    {
        if (segments.IsEmpty)
        {
            return value;
        }
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                for (var take = segments.Length; take >= 1; take--)
                {
                    if (value.TryGetProperty(string.Join('.', segments[..take].ToArray()), out var property))
                    {
                        return Resolve(property, segments[take..]);
                    }
                }
                return null;
            case JsonValueKind.Array when int.TryParse(segments[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index):
                return index < value.GetArrayLength() ? Resolve(value[index], segments[1..]) : null;
            case JsonValueKind.Array:
                var mapped = new List<JsonElement>();
                foreach (var element in value.EnumerateArray())
                {
                    if (Resolve(element, segments) is not { } found)
                    {
                        return null;
                    }
                    mapped.Add(found);
                }
                return JsonSerializer.SerializeToElement(mapped);
            default:
                return null;
        }
    }
}
