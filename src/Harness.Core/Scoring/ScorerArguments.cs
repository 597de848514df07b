using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Harness.Core.Scoring;

/// <summary>
/// Typed, validated access to a scorer's arguments. Unknown names are rejected up front so a typo in a suite
/// (<c>tolerence</c>) fails at load instead of silently using the default.
/// </summary>
internal sealed class ScorerArguments
{
    private readonly string scorer;
    private readonly ImmutableSortedDictionary<string, JsonElement> arguments;

    public ScorerArguments(string scorer, ImmutableSortedDictionary<string, JsonElement> arguments, params string[] known)
    {
        this.scorer = scorer;
        this.arguments = arguments;
        foreach (var name in arguments.Keys)
        {
            if (Array.IndexOf(known, name) < 0)
            {
                var expected = known.Length == 0 ? "it takes no arguments" : $"known arguments: {string.Join(", ", known)}";
                throw new ArgumentException($"scorer '{scorer}': unknown argument '{name}'; {expected}", name);
            }
        }
    }

    public bool Has(string name) => arguments.ContainsKey(name);

    public string? OptionalString(string name)
    {
        if (!arguments.TryGetValue(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return value.ValueKind == JsonValueKind.String
            ? value.GetString()!
            : throw Invalid(name, $"must be a string, got {Describe(value)}");
    }

    public string RequiredString(string name) =>
        OptionalString(name) is { Length: > 0 } text ? text : throw Invalid(name, "is required and must be a non-empty string");

    public bool Bool(string name, bool defaultValue)
    {
        if (!arguments.TryGetValue(name, out var value))
        {
            return defaultValue;
        }

        return value.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw Invalid(name, $"must be true or false, got {Describe(value)}"),
        };
    }

    public double NonNegativeNumber(string name, double defaultValue)
    {
        if (!arguments.TryGetValue(name, out var value))
        {
            return defaultValue;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetDouble(out var number) || !double.IsFinite(number) || number < 0)
        {
            throw Invalid(name, $"must be a number zero or greater, got {Describe(value)}");
        }

        return number;
    }

    public ImmutableArray<string> StringList(string name, ImmutableArray<string> defaultValue)
    {
        if (!arguments.TryGetValue(name, out var value))
        {
            return defaultValue;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            throw Invalid(name, $"must be a list of strings, got {Describe(value)}");
        }

        var items = ImmutableArray.CreateBuilder<string>();
        foreach (var element in value.EnumerateArray())
        {
            items.Add(element.ValueKind == JsonValueKind.String
                ? element.GetString()!
                : throw Invalid(name, $"must be a list of strings, got an element {Describe(element)}"));
        }

        return items.ToImmutable();
    }

    /// <summary>The raw value, for arguments whose type decides their meaning (a regex group by number or by name).</summary>
    public JsonElement? Raw(string name) => arguments.TryGetValue(name, out var value) ? value : null;

    public ArgumentException Invalid(string name, string problem) =>
        new($"scorer '{scorer}': argument '{name}' {problem}", name);

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"\"{value.GetString()}\"",
        JsonValueKind.Number => value.GetRawText(),
        _ => value.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
    };
}
