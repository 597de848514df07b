using System.Collections.Immutable;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Tasks.Import;

/// <summary>
/// What <c>harness tasks import</c> was asked for. Every value that changes scores ends up in suite.yaml; the CLI
/// fills its defaults in before building this, so nothing here is a hidden default.
/// </summary>
/// <param name="TargetPath">Field holding the answer: its text, or with <paramref name="TargetIn"/> a label, or with
/// <paramref name="TargetIsIndex"/> a 0-based index into the choices.</param>
/// <param name="ChoicesPath">Field holding the list of candidate answers; required for <see cref="RequestKind.LogLikelihood"/>.</param>
/// <param name="TargetIn">A list parallel to the choices (e.g. <c>choices.label</c>) in which the target's value is looked up.</param>
/// <param name="ChoicePrefix">Put before every choice (and so the target) when the choices are continuations
/// (<see cref="RequestKind.LogLikelihood"/>): lm-eval's target_delimiter, usually <c>" "</c>; written into items.jsonl.</param>
/// <param name="IdPath">Field holding each item's id; null: a hash of the record, so reordering the file keeps ids.</param>
/// <param name="Requirement">Null for <see cref="SuiteKind.Open"/>.</param>
/// <param name="Generation">Null for <see cref="RequestKind.LogLikelihood"/>.</param>
public sealed record ImportOptions(
    string SourcePath,
    string Name,
    SuiteKind Kind,
    RequestKind Request,
    string Template,
    string? System,
    string TargetPath,
    string? ChoicesPath,
    string? TargetIn,
    bool TargetIsIndex,
    string ChoicePrefix,
    string? IdPath,
    ImmutableArray<ScorerSpec> Scorers,
    Requirement? Requirement,
    GenerationSettings? Generation,
    string TasksDirectory,
    bool Force);

/// <summary>The suite folder written and its item count.</summary>
public sealed record ImportResult(string Directory, int Items);

/// <summary>
/// Turns a CSV/TSV, JSONL, JSON or Parquet file into a suite folder (suite.yaml with a Liquid prompt, items.jsonl).
/// All or nothing: every bad row is reported as <c>file:row: problem</c>, and the folder is written beside
/// <c>tasks/&lt;name&gt;</c>, loaded back with <see cref="SuiteLoader"/>, and only then renamed into place.
/// </summary>
public static partial class SuiteImporter
{
    /// <summary>Item keys of items.jsonl; a source field of the same name is kept as <c>source_&lt;name&gt;</c>.</summary>
    public static ImmutableArray<string> ReservedNames { get; } = ["id", "target", "choices"];

    /// <summary>Prefix of a source field renamed because its name is reserved.</summary>
    public const string RenamedPrefix = "source_";

    [GeneratedRegex("^[a-z0-9-]+$", RegexOptions.CultureInvariant)]
    private static partial Regex NameRegex();

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false);

    /// <summary>Reads, converts, validates and writes; see the type's remarks.</summary>
    /// <param name="scorerFactories">Used to check the scorer names and arguments before anything is written.</param>
    /// <exception cref="ImportException">Any problem with the options, the file or a row; nothing is written.</exception>
    public static async Task<ImportResult> ImportAsync(ImportOptions options, IEnumerable<IScorerFactory> scorerFactories, CancellationToken cancellationToken)
    {
        var destination = Path.GetFullPath(Path.Combine(options.TasksDirectory, options.Name));
        CheckOptions(options, destination);
        var table = await SourceReaders.ReadAsync(options.SourcePath, cancellationToken).ConfigureAwait(false);
        var problems = table.Problems.ToBuilder();
        var items = Convert(options, table.Rows, problems);
        if (problems.Count == 0 && items.IsEmpty)
        {
            problems.Add(new ImportProblem(options.SourcePath, "", "the file holds no records"));
        }
        if (problems.Count > 0)
        {
            throw new ImportException(problems.ToImmutable());
        }
        var definition = Definition(options);
        var sourceSha256 = System.Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(options.SourcePath)));
        var header = $"Imported by `harness tasks import` from {Path.GetFileName(options.SourcePath)} (sha256 {sourceSha256}).\n"
            + "Edit freely (bump version when items, prompt or scoring change); docs/suite-format.md explains every key.";
        var files = ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, byte[]>
        {
            [SuiteLoader.SuiteFileName] = Utf8.GetBytes(SuiteYamlWriter.Write(definition, header)),
            [SuiteLoader.ItemsFileName] = Utf8.GetBytes(TaskWriter.ItemsJsonl(items)),
        });
        SuiteFolder.WriteAtomically(destination, files, options.Force, scorerFactories, options.SourcePath);
        return new ImportResult(destination, items.Length);
    }

    private static void CheckOptions(ImportOptions o, string destination)
    {
        var problems = new List<string>();
        if (!NameRegex().IsMatch(o.Name))
        {
            problems.Add($"--name '{o.Name}' must match [a-z0-9-]+ (it names the folder tasks/<name>)");
        }
        if (o.Request == RequestKind.LogLikelihood && o.ChoicesPath is null)
        {
            problems.Add("--request loglikelihood needs --choices (the candidates whose log-likelihoods are compared)");
        }
        if ((o.TargetIn is not null || o.TargetIsIndex) && o.ChoicesPath is null)
        {
            problems.Add("--target-in and --target-index need --choices");
        }
        if (o.TargetIn is not null && o.TargetIsIndex)
        {
            problems.Add("use --target-in or --target-index, not both");
        }
        if (o.ChoicePrefix.Length > 0 && o.Request != RequestKind.LogLikelihood)
        {
            problems.Add("--choice-prefix applies to --request loglikelihood only (its choices are continuations of the prompt)");
        }
        if (o.Scorers.IsDefaultOrEmpty)
        {
            problems.Add("at least one --scorer is needed");
        }
        if ((o.Kind == SuiteKind.Fixed) != (o.Requirement is not null))
        {
            problems.Add(o.Kind == SuiteKind.Fixed ? "a fixed suite needs a requirement" : "an open suite has no requirement");
        }
        if ((o.Request == RequestKind.Generate) != (o.Generation is not null))
        {
            problems.Add(o.Request == RequestKind.Generate ? "request generate needs generation settings" : "request loglikelihood has no generation settings");
        }
        if (PromptRenderer.TemplateProblem(Prompt(o)) is { } templateProblem)
        {
            problems.Add($"--template: {templateProblem}");
        }
        if (Directory.Exists(destination) && !o.Force)
        {
            problems.Add($"{destination} already exists (pass --force to replace it)");
        }
        if (problems.Count > 0)
        {
            throw new ImportException([.. problems.Select(p => new ImportProblem(o.SourcePath, "", p))]);
        }
    }

    private static PromptTemplate Prompt(ImportOptions o) => new(o.Template, o.System, [], "\n") { Engine = PromptEngine.Liquid };

    private static SuiteDefinition Definition(ImportOptions o) => new(
        o.Name,
        1,
        o.Kind,
        $"Imported from {Path.GetFileName(o.SourcePath)}",
        o.Request,
        Prompt(o),
        o.Generation,
        o.Scorers,
        o.Requirement,
        ImmutableSortedDictionary<string, string>.Empty.WithComparers(StringComparer.Ordinal));

    private static ImmutableArray<SuiteItem> Convert(ImportOptions o, ImmutableArray<SourceRow> rows, ImmutableArray<ImportProblem>.Builder problems)
    {
        var prompt = Prompt(o);
        var items = ImmutableArray.CreateBuilder<SuiteItem>();
        var rowOfId = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var row in rows)
        {
            var rowProblems = new List<string>();
            var item = ConvertRow(o, prompt, row, rowProblems);
            foreach (var problem in rowProblems)
            {
                problems.Add(new ImportProblem(o.SourcePath, row.Row, problem));
            }
            if (item is null)
            {
                continue;
            }
            if (rowOfId.TryGetValue(item.Id, out var first))
            {
                problems.Add(new ImportProblem(o.SourcePath, row.Row, o.IdPath is null
                    ? $"duplicate record: the same fields as {o.SourcePath}:{first} (id '{item.Id}' is a hash of the record; pass --id to name a field)"
                    : $"duplicate id '{item.Id}' (also at {o.SourcePath}:{first})"));
                continue;
            }
            rowOfId[item.Id] = row.Row;
            items.Add(item);
        }
        return items.ToImmutable();
    }

    private static SuiteItem? ConvertRow(ImportOptions o, PromptTemplate prompt, SourceRow row, List<string> problems)
    {
        if (row.Value.ValueKind != JsonValueKind.Object)
        {
            problems.Add($"a record must be a JSON object, not {row.Value.ValueKind}");
            return null;
        }
        var id = o.IdPath is null ? StableId(row.Value) : Id(row.Value, o.IdPath, problems);
        var target = Target(o, row.Value, out var choices, problems);
        var fields = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in row.Value.EnumerateObject())
        {
            var name = ReservedNames.Contains(property.Name) ? RenamedPrefix + property.Name : property.Name;
            if (!fields.TryAdd(name, property.Value))
            {
                problems.Add($"field '{property.Name}' is kept as '{name}', which the record already has");
            }
        }
        if (id is null || target is null || problems.Count > 0)
        {
            return null;
        }
        var item = new SuiteItem(id, fields.ToImmutable(), target, choices);
        try
        {
            PromptRenderer.RenderTemplate(prompt, item);
        }
        catch (ArgumentException e)
        {
            problems.Add($"the template fails on this record: {(e.InnerException ?? e).Message}");
            return null;
        }
        return item;
    }

    private static string? Id(JsonElement record, string path, List<string> problems)
    {
        if (FieldPath.Resolve(record, path) is not { } value)
        {
            problems.Add($"missing id field '{path}'");
            return null;
        }
        var id = value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.Number => value.GetRawText(),
            _ => null,
        };
        if (string.IsNullOrEmpty(id))
        {
            problems.Add($"id field '{path}' must be a non-empty string or a number, not {Describe(value)}");
            return null;
        }
        return id;
    }

    /// <summary>
    /// The target's text, and the choices when <see cref="ImportOptions.ChoicesPath"/> is set: the target must be one
    /// of them (as text, as a label in <see cref="ImportOptions.TargetIn"/>, or as an index).
    /// </summary>
    private static string? Target(ImportOptions o, JsonElement record, out ImmutableArray<string> choices, List<string> problems)
    {
        choices = [];
        if (FieldPath.Resolve(record, o.TargetPath) is not { } targetValue)
        {
            problems.Add($"missing target field '{o.TargetPath}'");
            return null;
        }
        var target = ScalarText(targetValue);
        if (target is null)
        {
            problems.Add($"target field '{o.TargetPath}' must be a string, number or boolean, not {Describe(targetValue)}");
            return null;
        }
        if (o.ChoicesPath is null)
        {
            return target;
        }
        if (TextList(record, o.ChoicesPath, "choices", problems) is not { } list)
        {
            return null;
        }
        choices = [.. list.Select(c => o.ChoicePrefix + c)];
        if (o.TargetIsIndex)
        {
            if (!int.TryParse(target, NumberStyles.None, CultureInfo.InvariantCulture, out var index) || index >= list.Length)
            {
                problems.Add($"target '{target}' is not a 0-based index into the {list.Length} choices of '{o.ChoicesPath}'");
                return null;
            }
            return choices[index];
        }
        if (o.TargetIn is not null)
        {
            if (TextList(record, o.TargetIn, "labels", problems) is not { } labels)
            {
                return null;
            }
            if (labels.Length != list.Length)
            {
                problems.Add($"'{o.TargetIn}' has {labels.Length} entries but the choices '{o.ChoicesPath}' have {list.Length}");
                return null;
            }
            var at = labels.IndexOf(target);
            if (at < 0)
            {
                problems.Add($"target '{target}' is not among {o.TargetIn} [{string.Join(", ", labels)}]");
                return null;
            }
            return choices[at];
        }
        if (!list.Contains(target))
        {
            problems.Add($"target '{target}' is not among the choices of '{o.ChoicesPath}' (use --target-in <labels> or --target-index when it names one)");
            return null;
        }
        return o.ChoicePrefix + target;
    }

    /// <summary>A list of distinct, non-empty strings or numbers (as text).</summary>
    private static ImmutableArray<string>? TextList(JsonElement record, string path, string what, List<string> problems)
    {
        if (FieldPath.Resolve(record, path) is not { } value)
        {
            problems.Add($"missing {what} field '{path}'");
            return null;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            problems.Add($"{what} field '{path}' must be a list, not {Describe(value)}");
            return null;
        }
        var texts = value.EnumerateArray().Select(ScalarText).ToList();
        if (texts.Count == 0 || texts.Any(string.IsNullOrEmpty))
        {
            problems.Add($"{what} field '{path}' must be a non-empty list of non-empty strings or numbers");
            return null;
        }
        if (texts.Distinct(StringComparer.Ordinal).Count() != texts.Count)
        {
            problems.Add($"{what} field '{path}' has a duplicate entry");
            return null;
        }
        return [.. texts!];
    }

    private static string? ScalarText(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => null,
    };

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Array => "a list",
        JsonValueKind.Object => "an object",
        JsonValueKind.Null => "null",
        var kind => kind.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// First 16 hex digits of the sha256 of the record's canonical JSON (keys sorted, no whitespace): the id survives
    /// reordering the file and changes when the record does.
    /// </summary>
    public static string StableId(JsonElement record)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            WriteCanonical(writer, record);
        }
        return System.Convert.ToHexStringLower(SHA256.HashData(buffer.ToArray()))[..16];
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonElement value)
    {
        switch (value.ValueKind)
        {
            case JsonValueKind.Object:
                writer.WriteStartObject();
                foreach (var property in value.EnumerateObject().OrderBy(p => p.Name, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(property.Name);
                    WriteCanonical(writer, property.Value);
                }
                writer.WriteEndObject();
                break;
            case JsonValueKind.Array:
                writer.WriteStartArray();
                foreach (var element in value.EnumerateArray())
                {
                    WriteCanonical(writer, element);
                }
                writer.WriteEndArray();
                break;
            default:
                value.WriteTo(writer);
                break;
        }
    }
}
