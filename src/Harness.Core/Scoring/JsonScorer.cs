using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Json.Schema;

namespace Harness.Core.Scoring;

/// <summary>
/// <c>json</c>: the output is JSON that validates against <c>schema</c> (a JSON Schema draft 2020-12 file relative to
/// the suite folder; optional) and, with <c>match_target: true</c>, deep-equals the target parsed as JSON (property
/// order ignored, numbers compared by value). Strict: the whole trimmed output is one JSON value. Flexible: the
/// first balanced <c>{…}</c> in the output that parses.
/// </summary>
public sealed class JsonScorer : IScorer
{
    public const string ScorerName = "json";

    private readonly JsonSchema? schema;
    private readonly bool matchTarget;

    /// <param name="schema">Already validated against the draft 2020-12 meta-schema, or null for "any JSON".</param>
    public JsonScorer(JsonSchema? schema, bool matchTarget)
    {
        this.schema = schema;
        this.matchTarget = matchTarget;
    }

    public string Name => ScorerName;

    public Score Score(ScoringInput input)
    {
        JsonElement? target = null;
        if (matchTarget)
        {
            if (input.Item.Target is null)
            {
                return Scores.NoTarget(Name, input.Item);
            }

            target = TryParse(input.Item.Target.Trim());
            if (target is null)
            {
                return new Score(Name, 0.0, null, 0.0, null, $"target {TextNormalizer.Quote(input.Item.Target)} is not valid JSON");
            }
        }

        var trimmed = input.Output.Trim();
        var strict = TryParse(trimmed);
        var strictProblem = strict is { } strictValue ? Check(strictValue, target) : "output is not a single JSON value";
        var flexibleText = FirstBalancedObject(input.Output);
        var flexible = flexibleText is null ? (JsonElement?)null : TryParse(flexibleText);
        var flexibleProblem = flexible is { } flexibleValue ? Check(flexibleValue, target) : "no JSON object in the output";

        return Scores.Binary(
            Name,
            strictProblem is null,
            strict is null ? null : trimmed,
            flexibleProblem is null,
            flexible is null ? null : flexibleText,
            () => strictProblem!);
    }

    /// <summary>Null when the value passes; else why not.</summary>
    private string? Check(JsonElement value, JsonElement? target)
    {
        if (schema is not null)
        {
            var options = new EvaluationOptions
            {
                EvaluateAs = SpecVersion.Draft202012,
                OutputFormat = OutputFormat.List,
                Culture = CultureInfo.InvariantCulture,
            };
            EvaluationResults results;
            try
            {
                results = schema.Evaluate(value, options);
            }
            catch (Exception ex) when (ex is FormatException or OverflowException)
            {
                // JsonSchema.Net reads numbers as decimal: a model's 40-digit or 1e400 "number" does not fit, and
                // such an answer is wrong, not a reason to stop the run.
                return $"schema: a number in the output cannot be validated ({ex.GetType().Name}: outside the decimal range)";
            }

            if (!results.IsValid)
            {
                return $"schema: {FirstError(results)}";
            }
        }

        if (target is { } expected && !JsonElement.DeepEquals(value, expected))
        {
            return $"JSON differs from the target {TextNormalizer.Quote(expected.GetRawText())}";
        }

        return null;
    }

    internal static string FirstError(EvaluationResults results)
    {
        foreach (var node in results.Details.Prepend(results))
        {
            if (node.Errors is { Count: > 0 } errors)
            {
                var at = node.InstanceLocation.ToString();
                var (keyword, message) = errors.First();
                return $"{(at.Length == 0 ? "root" : at)}: {message} ({keyword})";
            }
        }

        return "the value does not validate";
    }

    private static JsonElement? TryParse(string text)
    {
        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>
    /// The first <c>{…}</c> whose braces balance (braces inside strings ignored) and that parses as JSON; models often
    /// wrap JSON in prose or code fences.
    /// </summary>
    internal static string? FirstBalancedObject(string text)
    {
        for (var start = text.IndexOf('{', StringComparison.Ordinal); start >= 0; start = text.IndexOf('{', start + 1))
        {
            var end = MatchingBrace(text, start);
            if (end < 0)
            {
                continue;
            }

            var candidate = text[start..(end + 1)];
            if (TryParse(candidate) is not null)
            {
                return candidate;
            }
        }

        return null;
    }

    private static int MatchingBrace(string text, int start)
    {
        var depth = 0;
        var inString = false;
        for (var i = start; i < text.Length; i++)
        {
            var c = text[i];
            if (inString)
            {
                if (c == '\\')
                {
                    i++;
                }
                else if (c == '"')
                {
                    inString = false;
                }

                continue;
            }

            switch (c)
            {
                case '"':
                    inString = true;
                    break;
                case '{':
                    depth++;
                    break;
                case '}' when --depth == 0:
                    return i;
            }
        }

        return -1;
    }
}

public sealed class JsonScorerFactory : IScorerFactory
{
    public string Name => JsonScorer.ScorerName;

    public ScorerDescription Description { get; } = new(
        JsonScorer.ScorerName,
        "The output is JSON that validates against `schema` and, with `match_target`, deep-equals the target parsed as "
        + "JSON (property order ignored, numbers compared by value). Strict: the whole trimmed output is one JSON value. "
        + "Flexible: the first balanced `{…}` in the output that parses.",
        [
            new("schema", ScorerArgumentType.Text, "a JSON Schema (draft 2020-12) file, relative to the suite folder; none: any JSON passes the schema check"),
            new("match_target", ScorerArgumentType.Boolean, "also require the output to equal the target parsed as JSON") { Default = "false" },
        ],
        """{"match_target": true}""");

    public IScorer Create(ImmutableSortedDictionary<string, JsonElement> arguments, string suiteDirectory)
    {
        var args = new ScorerArguments(Description, arguments);
        var matchTarget = args.Bool("match_target", defaultValue: false);
        var schemaPath = args.OptionalString("schema");
        return new JsonScorer(schemaPath is null ? null : LoadSchema(args, Path.GetFullPath(schemaPath, Path.GetFullPath(suiteDirectory))), matchTarget);
    }

    private static JsonSchema LoadSchema(ScorerArguments args, string fullPath)
    {
        string text;
        try
        {
            text = File.ReadAllText(fullPath);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw args.Invalid("schema", $"names {fullPath}, which cannot be read: {ex.Message}");
        }

        JsonElement element;
        try
        {
            using var document = JsonDocument.Parse(text);
            element = document.RootElement.Clone();
        }
        catch (JsonException ex)
        {
            throw args.Invalid("schema", $"names {fullPath}, which is not valid JSON: {ex.Message}");
        }

        // Checking against the meta-schema turns a typo such as "type": "strnig" into a load error, not a silent pass.
        var meta = MetaSchemas.Draft202012.Evaluate(element, new EvaluationOptions { OutputFormat = OutputFormat.List, Culture = CultureInfo.InvariantCulture });
        if (!meta.IsValid)
        {
            throw args.Invalid("schema", $"names {fullPath}, which is not a valid JSON Schema (draft 2020-12): {JsonScorer.FirstError(meta)}");
        }

        try
        {
            return JsonSchema.FromText(text);
        }
        catch (JsonException ex)
        {
            throw args.Invalid("schema", $"names {fullPath}, which is not a valid JSON Schema: {ex.Message}");
        }
    }
}
