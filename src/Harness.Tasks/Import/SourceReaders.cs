using System.Collections;
using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using System.Text.Json;
using CsvHelper;
using Parquet;
using Parquet.Serialization;

namespace Harness.Tasks.Import;

/// <summary>The records of a file and the problems found reading it (a reader that cannot go on stops at its problem).</summary>
public sealed record SourceTable(ImmutableArray<SourceRow> Rows, ImmutableArray<ImportProblem> Problems);

/// <summary>
/// Reads CSV/TSV (CsvHelper), JSON Lines and JSON (System.Text.Json) and Parquet (Parquet.Net) into JSON objects,
/// one per record, chosen by the file's extension. Every column or property becomes a field: JSON and Parquet keep
/// their types (numbers, booleans, lists, nested objects); CSV has no types, so its cells stay strings.
/// </summary>
public static class SourceReaders
{
    /// <summary>The extensions <see cref="ReadAsync"/> understands.</summary>
    public static ImmutableArray<string> Extensions { get; } = [".csv", ".tsv", ".jsonl", ".ndjson", ".json", ".parquet"];

    /// <exception cref="ImportException">The file is missing or its extension is not one of <see cref="Extensions"/>.</exception>
    public static async Task<SourceTable> ReadAsync(string path, CancellationToken cancellationToken)
    {
        var name = Path.GetFileName(path);
        if (!File.Exists(path))
        {
            throw new ImportException(new ImportProblem(path, "", "file does not exist"));
        }
        var extension = Path.GetExtension(path).ToLowerInvariant();
        return extension switch
        {
            ".csv" => ReadDelimited(path, ','),
            ".tsv" => ReadDelimited(path, '\t'),
            ".jsonl" or ".ndjson" => ReadJsonLines(path),
            ".json" => ReadJson(path),
            ".parquet" => await ReadParquetAsync(path, cancellationToken).ConfigureAwait(false),
            _ => throw new ImportException(new ImportProblem(path, "",
                $"cannot tell the format of '{name}' from its extension (known: {string.Join(", ", Extensions)})")),
        };
    }

    /// <summary>RFC 4180 with a required header row; a row's location is the physical line it starts on.</summary>
    private static SourceTable ReadDelimited(string path, char separator)
    {
        var rows = ImmutableArray.CreateBuilder<SourceRow>();
        var problems = ImmutableArray.CreateBuilder<ImportProblem>();
        var options = new CsvReaderOptions
        {
            Separator = separator,
            HasHeader = true,
            TrackLineNumbers = true,
            DetectSeparatorHint = false,
            MalformedData = CsvMalformedDataHandling.Throw,
            FieldCountMismatch = CsvFieldCountHandling.Allow,
        };
        try
        {
            using var csv = CsvReader.FromFile(path, options);
            var headers = csv.Headers.ToImmutableArray();
            if (headers.IsEmpty)
            {
                problems.Add(new ImportProblem(path, "", "the file is empty (a header row naming the columns is required)"));
                return new SourceTable([], problems.ToImmutable());
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            for (var i = 0; i < headers.Length; i++)
            {
                if (headers[i].Length == 0)
                {
                    problems.Add(new ImportProblem(path, "1", $"header column {i + 1} has no name"));
                }
                else if (!seen.Add(headers[i]))
                {
                    problems.Add(new ImportProblem(path, "1", $"header names column '{headers[i]}' twice"));
                }
            }
            if (problems.Count > 0)
            {
                return new SourceTable([], problems.ToImmutable());
            }
            while (csv.Read())
            {
                var line = csv.LineNumber.ToString(CultureInfo.InvariantCulture);
                if (csv.FieldCount != headers.Length)
                {
                    problems.Add(new ImportProblem(path, line, $"{csv.FieldCount} field(s) where the header has {headers.Length}"));
                    continue;
                }
                var fields = new Dictionary<string, string>(StringComparer.Ordinal);
                for (var i = 0; i < headers.Length; i++)
                {
                    fields[headers[i]] = csv.GetString(i);
                }
                rows.Add(new SourceRow(line, JsonSerializer.SerializeToElement(fields)));
            }
        }
        catch (CsvFormatException e)
        {
            var line = e.LineNumber > 0 ? e.LineNumber.ToString(CultureInfo.InvariantCulture) : "";
            problems.Add(new ImportProblem(path, line, $"malformed CSV: {e.Message}"));
        }
        catch (DecoderFallbackException e)
        {
            problems.Add(new ImportProblem(path, "", $"not UTF-8 text: {e.Message}"));
        }
        return new SourceTable(rows.ToImmutable(), problems.ToImmutable());
    }

    /// <summary>One JSON object per non-blank line; a row's location is its line.</summary>
    private static SourceTable ReadJsonLines(string path)
    {
        var rows = ImmutableArray.CreateBuilder<SourceRow>();
        var problems = ImmutableArray.CreateBuilder<ImportProblem>();
        var text = Decode(path, problems);
        if (text is null)
        {
            return new SourceTable([], problems.ToImmutable());
        }
        var lines = text.Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            var where = (i + 1).ToString(CultureInfo.InvariantCulture);
            try
            {
                rows.Add(new SourceRow(where, JsonDocument.Parse(line).RootElement.Clone()));
            }
            catch (JsonException e)
            {
                problems.Add(new ImportProblem(path, where, $"invalid JSON: {Harness.Core.Serialization.JsonErrorText.Describe(e)}"));
            }
        }
        return new SourceTable(rows.ToImmutable(), problems.ToImmutable());
    }

    /// <summary>
    /// An array of records, or an object with exactly one property that is such an array (as <c>{"data": [...]}</c>
    /// exports are written); a row's location is its 0-based index.
    /// </summary>
    private static SourceTable ReadJson(string path)
    {
        var problems = ImmutableArray.CreateBuilder<ImportProblem>();
        var text = Decode(path, problems);
        if (text is null)
        {
            return new SourceTable([], problems.ToImmutable());
        }
        JsonElement root;
        try
        {
            root = JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException e)
        {
            // The reader counts lines from 0.
            var line = e.LineNumber is { } l ? (l + 1).ToString(CultureInfo.InvariantCulture) : "";
            return new SourceTable([], [new ImportProblem(path, line, $"invalid JSON: {Harness.Core.Serialization.JsonErrorText.Describe(e)}")]);
        }
        var prefix = "";
        if (root.ValueKind == JsonValueKind.Object)
        {
            var arrays = root.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Array).ToList();
            if (arrays.Count != 1 || root.EnumerateObject().Count() != 1)
            {
                return new SourceTable([], [new ImportProblem(path, "",
                    "a JSON file must hold an array of records, or an object whose only property is that array")]);
            }
            prefix = arrays[0].Name;
            root = arrays[0].Value;
        }
        if (root.ValueKind != JsonValueKind.Array)
        {
            return new SourceTable([], [new ImportProblem(path, "", $"a JSON file must hold an array of records, not {root.ValueKind}")]);
        }
        var rows = root.EnumerateArray()
            .Select((value, i) => new SourceRow(string.Create(CultureInfo.InvariantCulture, $"{prefix}[{i}]"), value))
            .ToImmutableArray();
        return new SourceTable(rows, problems.ToImmutable());
    }

    /// <summary>Every row group in order; lists become arrays and structs objects. A row's location is its 0-based index.</summary>
    private static async Task<SourceTable> ReadParquetAsync(string path, CancellationToken cancellationToken)
    {
        // Strings arrive as ReadOnlyMemory<char> (WriteValue takes them); ParquetOptions.PreferUntypedString is
        // process-wide static state, so it is left alone.
        var options = new ParquetOptions();
        DeserializationResult<Dictionary<string, object>> table;
        try
        {
            await using var stream = File.OpenRead(path);
            table = await ParquetSerializer.DeserializeUntypedAsync(stream, options, cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            return new SourceTable([], [new ImportProblem(path, "", $"not a readable Parquet file: {e.Message}")]);
        }
        var columns = table.Schema.Fields.Select(f => f.Name).ToImmutableArray();
        var rows = ImmutableArray.CreateBuilder<SourceRow>();
        var problems = ImmutableArray.CreateBuilder<ImportProblem>();
        for (var i = 0; i < table.Data.Count; i++)
        {
            var where = string.Create(CultureInfo.InvariantCulture, $"row {i}");
            try
            {
                using var buffer = new MemoryStream();
                using (var writer = new Utf8JsonWriter(buffer))
                {
                    writer.WriteStartObject();
                    foreach (var column in columns)
                    {
                        writer.WritePropertyName(column);
                        // Parquet.Net leaves a null column out of the row's dictionary.
                        WriteValue(writer, table.Data[i].GetValueOrDefault(column));
                    }
                    writer.WriteEndObject();
                }
                rows.Add(new SourceRow(where, JsonDocument.Parse(buffer.ToArray()).RootElement.Clone()));
            }
            catch (NotSupportedException e)
            {
                problems.Add(new ImportProblem(path, where, e.Message));
            }
        }
        return new SourceTable(rows.ToImmutable(), problems.ToImmutable());
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value)
    {
        switch (value)
        {
            case null: writer.WriteNullValue(); break;
            case string s: writer.WriteStringValue(s); break;
            case ReadOnlyMemory<char> chars: writer.WriteStringValue(chars.Span); break;
            case bool b: writer.WriteBooleanValue(b); break;
            case sbyte or byte or short or ushort or int or uint or long:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture)); break;
            case ulong u: writer.WriteNumberValue(u); break;
            case decimal m: writer.WriteNumberValue(m); break;
            case float f when float.IsFinite(f): writer.WriteNumberValue(f); break;
            case double d when double.IsFinite(d): writer.WriteNumberValue(d); break;
            case float or double: throw new NotSupportedException($"the value {Convert.ToString(value, CultureInfo.InvariantCulture)} has no JSON form");
            case DateTime t: writer.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture)); break;
            case DateTimeOffset t: writer.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture)); break;
            case DateOnly t: writer.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture)); break;
            case TimeOnly t: writer.WriteStringValue(t.ToString("O", CultureInfo.InvariantCulture)); break;
            case TimeSpan t: writer.WriteStringValue(t.ToString("c", CultureInfo.InvariantCulture)); break;
            case Guid g: writer.WriteStringValue(g.ToString("D")); break;
            case byte[] bytes: writer.WriteBase64StringValue(bytes); break;
            case ReadOnlyMemory<byte> bytes: writer.WriteBase64StringValue(bytes.Span); break;
            case IDictionary<string, object> map:
                writer.WriteStartObject();
                foreach (var (key, item) in map)
                {
                    writer.WritePropertyName(key);
                    WriteValue(writer, item);
                }
                writer.WriteEndObject();
                break;
            case IDictionary map:
                writer.WriteStartObject();
                foreach (DictionaryEntry entry in map)
                {
                    writer.WritePropertyName(Convert.ToString(entry.Key, CultureInfo.InvariantCulture) ?? "");
                    WriteValue(writer, entry.Value);
                }
                writer.WriteEndObject();
                break;
            case IEnumerable list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteValue(writer, item);
                }
                writer.WriteEndArray();
                break;
            default:
                throw new NotSupportedException($"a value of type {value.GetType().Name} has no JSON form");
        }
    }

    /// <summary>Strict UTF-8 with an optional byte-order mark, as items.jsonl is read.</summary>
    private static string? Decode(string path, ImmutableArray<ImportProblem>.Builder problems)
    {
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(File.ReadAllBytes(path));
            return text.StartsWith('\uFEFF') ? text[1..] : text;
        }
        catch (DecoderFallbackException e)
        {
            problems.Add(new ImportProblem(path, "", $"not UTF-8 text: {e.Message}"));
            return null;
        }
    }
}
