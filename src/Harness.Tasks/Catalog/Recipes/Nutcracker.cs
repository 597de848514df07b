using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Core.Suites;

namespace Harness.Tasks.Catalog.Recipes;

/// <summary>One multiple-choice row of brucewlee/nutcracker-db (a uniform re-packaging of many benchmarks).</summary>
/// <param name="Index">0-based row index in its file (blank lines not counted), the item id when upstream has none.</param>
/// <param name="Centerpiece">The question or context as nutcracker stores it.</param>
/// <param name="CorrectIndex">The one entry of <c>correct_options_idx</c>.</param>
internal sealed record NutcrackerRow(int Index, string Centerpiece, ImmutableArray<string> Options, int CorrectIndex);

/// <summary>The nutcracker-db repository at the commit every multiple-choice recipe reads, and its row format.</summary>
internal static class Nutcracker
{
    public const string Repository = "brucewlee/nutcracker-db";
    public const string Commit = "95fa9aa468d4d0e179e2e950cc68cd5058463503";
    public const string LocalFolder = "nutcracker-db";

    /// <summary>The packaging's own licence; each task's data keeps the licence of its config.yaml.</summary>
    public const string PackagingLicence = "nutcracker-db packaging Apache-2.0";

    /// <summary>Upstream keeps every task under <c>db/</c>; the shared local copy groups MMLU's subjects under <c>mmlu/</c>.</summary>
    public static SourceFile File(string task, string split, string sha256, string? localGroup = null) =>
        new($"db/{task}/{split}.json", localGroup is null ? $"{task}/{split}.json" : $"{localGroup}/{task}/{split}.json", sha256);

    /// <summary>The JSON-lines rows of one file, each with exactly one correct option.</summary>
    /// <param name="expectedOptions">The number of options every row must have, or null for any number ≥ 2.</param>
    /// <exception cref="InvalidDataException">A row is not valid JSON or lacks the expected shape (file and line named).</exception>
    public static ImmutableArray<NutcrackerRow> ReadRows(IRecipeFiles files, string path, int? expectedOptions)
    {
        string text;
        using (var stream = files.Open(path))
        using (var reader = new StreamReader(stream, new UTF8Encoding(false, throwOnInvalidBytes: true), detectEncodingFromByteOrderMarks: false))
        {
            try
            {
                text = reader.ReadToEnd();
            }
            catch (DecoderFallbackException e)
            {
                throw new InvalidDataException($"{path}: not valid UTF-8 ({e.Message})", e);
            }
        }
        var rows = ImmutableArray.CreateBuilder<NutcrackerRow>();
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Length == 0)
            {
                continue;
            }
            rows.Add(ParseRow(path, i + 1, rows.Count, line, expectedOptions));
        }
        if (rows.Count == 0)
        {
            throw new InvalidDataException($"{path}: no rows");
        }
        return rows.ToImmutable();
    }

    private static NutcrackerRow ParseRow(string path, int line, int index, string json, int? expectedOptions)
    {
        InvalidDataException Bad(string problem) => new($"{path}:{line.ToString(CultureInfo.InvariantCulture)}: {problem}");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw Bad($"invalid JSON: {Harness.Core.Serialization.JsonErrorText.Describe(e, multiLine: true)}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Bad("a row must be a JSON object");
            }
            if (!root.TryGetProperty("centerpiece", out var centerpiece) || centerpiece.ValueKind != JsonValueKind.String)
            {
                throw Bad("\"centerpiece\" must be a string");
            }
            if (!root.TryGetProperty("options", out var options) || options.ValueKind != JsonValueKind.Array
                || options.EnumerateArray().Any(o => o.ValueKind != JsonValueKind.String))
            {
                throw Bad("\"options\" must be an array of strings");
            }
            var optionTexts = options.EnumerateArray().Select(o => o.GetString()!).ToImmutableArray();
            if (expectedOptions is { } n ? optionTexts.Length != n : optionTexts.Length < 2)
            {
                throw Bad($"expected {(expectedOptions is { } m ? m.ToString(CultureInfo.InvariantCulture) : "at least 2")} options, found {optionTexts.Length.ToString(CultureInfo.InvariantCulture)}");
            }
            if (!root.TryGetProperty("correct_options_idx", out var correct) || correct.ValueKind != JsonValueKind.Array
                || correct.GetArrayLength() != 1 || !correct[0].TryGetInt32(out var correctIndex)
                || correctIndex < 0 || correctIndex >= optionTexts.Length)
            {
                throw Bad("\"correct_options_idx\" must hold exactly one index into \"options\"");
            }
            return new NutcrackerRow(index, centerpiece.GetString()!, optionTexts, correctIndex);
        }
    }

    /// <summary>The zero-padded row index, the item id the catalogue uses when upstream has none.</summary>
    public static string RowId(int index) => index.ToString("D4", CultureInfo.InvariantCulture);

    /// <summary>A string field for an item or few-shot example.</summary>
    public static JsonElement Text(string value) => JsonSerializer.SerializeToElement(value);

    /// <summary>An item: fields by name, the target and the choices.</summary>
    public static SuiteItem Item(string id, IEnumerable<(string Name, string Value)> fields, string target, ImmutableArray<string> choices) =>
        new(id, fields.ToImmutableSortedDictionary(f => f.Name, f => Text(f.Value), StringComparer.Ordinal), target, choices);

    /// <summary>
    /// Python's <c>str.strip()</c>, which lm-eval's templates and preprocessing call: it also strips the
    /// information separators U+001C–U+001F, which .NET's <see cref="string.Trim()"/> keeps.
    /// </summary>
    public static string PyStrip(string text)
    {
        var start = 0;
        var end = text.Length;
        while (start < end && IsPythonSpace(text[start]))
        {
            start++;
        }
        while (end > start && IsPythonSpace(text[end - 1]))
        {
            end--;
        }
        return text[start..end];
    }

    private static bool IsPythonSpace(char c) => char.IsWhiteSpace(c) || c is >= '\u001C' and <= '\u001F';

    /// <summary>The choice scorer (lm-eval's acc); acc_norm is recorded by the evaluator for every log-likelihood suite.</summary>
    public static ImmutableArray<ScorerSpec> ChoiceScorer() =>
        [new ScorerSpec("choice", ImmutableSortedDictionary.Create<string, JsonElement>(StringComparer.Ordinal))];
}
