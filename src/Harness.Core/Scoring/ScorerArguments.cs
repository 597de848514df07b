using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;

namespace Harness.Core.Scoring;

/// <summary>
/// Typed, validated access to a scorer's arguments, checked against the scorer's <see cref="ScorerDescription"/>:
/// unknown names are rejected up front so a typo in a suite (<c>tolerence</c>) fails at load instead of silently
/// using the default, and so are missing required arguments, values of the wrong shape and values not allowed.
/// Every problem is a <see cref="ScorerArgumentException"/> whose message reads once, prefix included.
/// </summary>
public sealed class ScorerArguments
{
    private readonly string scorer;
    private readonly ImmutableSortedDictionary<string, JsonElement> arguments;

    /// <exception cref="ScorerArgumentException">An argument the description does not name, a required one missing,
    /// or a value of the wrong type or not among the allowed values.</exception>
    public ScorerArguments(ScorerDescription description, ImmutableSortedDictionary<string, JsonElement> arguments)
    {
        scorer = description.Name;
        this.arguments = arguments;
        foreach (var name in arguments.Keys)
        {
            if (!description.Arguments.Any(a => a.Name == name))
            {
                var expected = description.Arguments.IsDefaultOrEmpty
                    ? "it takes no arguments"
                    : $"known: {string.Join(", ", description.Arguments.Select(a => a.Summary))}";
                throw new ScorerArgumentException(scorer, name, $"unknown argument '{name}'; {expected}");
            }
        }

        foreach (var argument in description.Arguments)
        {
            Check(argument);
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

    public ScorerArgumentException Invalid(string name, string problem) =>
        new(scorer, name, $"argument '{name}' {problem}");

    // Only the shape and allowed values: ranges and cross-argument rules stay with the scorer that knows them.
    private void Check(ScorerArgument argument)
    {
        if (!arguments.TryGetValue(argument.Name, out var value))
        {
            if (argument.Required)
            {
                throw Invalid(argument.Name, argument.Type == ScorerArgumentType.Text ? "is required and must be a non-empty string" : "is required");
            }

            return;
        }

        ImmutableArray<string>? allowed = argument.AllowedValues.IsDefaultOrEmpty ? null : argument.AllowedValues;
        switch (argument.Type)
        {
            case ScorerArgumentType.Text:
                if (OptionalString(argument.Name) is { } text && allowed is not null && !allowed.Value.Contains(text))
                {
                    throw Invalid(argument.Name, $"must be {Alternatives(allowed.Value)}, got \"{text}\"");
                }

                break;
            case ScorerArgumentType.Boolean:
                _ = Bool(argument.Name, defaultValue: false);
                break;
            case ScorerArgumentType.TextList:
                foreach (var item in StringList(argument.Name, []))
                {
                    if (allowed is not null && !allowed.Value.Contains(item))
                    {
                        throw Invalid(argument.Name, $"has unknown {Singular(argument.AllowedValuesLabel)} '{item}'; known {argument.AllowedValuesLabel}: {string.Join(", ", allowed.Value)}");
                    }
                }

                break;
            case ScorerArgumentType.Number:
            case ScorerArgumentType.WholeNumber:
            case ScorerArgumentType.WholeNumberOrText:
            case ScorerArgumentType.WholeNumberPair:
            default:
                break;
        }
    }

    private static string Alternatives(ImmutableArray<string> values) =>
        values.Length == 1 ? $"\"{values[0]}\"" : $"{string.Join(", ", values[..^1].Select(v => $"\"{v}\""))} or \"{values[^1]}\"";

    private static string Singular(string label) => label == "one of" ? "value" : label.TrimEnd('s');

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => $"\"{value.GetString()}\"",
        JsonValueKind.Number => value.GetRawText(),
        _ => value.ValueKind.ToString().ToLower(CultureInfo.InvariantCulture),
    };
}
