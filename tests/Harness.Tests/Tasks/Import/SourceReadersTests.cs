using System.Text.Json;
using Harness.Tasks.Import;
using Parquet.Serialization;

namespace Harness.Tests.Tasks.Import;

public sealed class SourceReadersTests
{
    [Fact]
    public async Task Csv_keeps_quoted_commas_quotes_and_newlines_and_locates_each_record_by_its_first_physical_line()
    {
        using var ws = new ImportWorkspace();
        var path = ws.Write("qa.csv", "question,answer\n\"Paris, or \"\"Rome\"\"?\",Paris\n\"two\nlines\",x\nplain,y\n");

        var table = await SourceReaders.ReadAsync(path, CancellationToken.None);

        Assert.Empty(table.Problems);
        Assert.Equal(["2", "3", "5"], table.Rows.Select(r => r.Row));
        Assert.Equal("Paris, or \"Rome\"?", table.Rows[0].Value.GetProperty("question").GetString());
        Assert.Equal("two\nlines", table.Rows[1].Value.GetProperty("question").GetString());
        Assert.Equal("y", table.Rows[2].Value.GetProperty("answer").GetString());
    }

    [Fact]
    public async Task Csv_cells_stay_strings_because_csv_has_no_types()
    {
        using var ws = new ImportWorkspace();
        var path = ws.Write("zip.csv", "zip,n\n007,1.50\n");

        var row = Assert.Single((await SourceReaders.ReadAsync(path, CancellationToken.None)).Rows);

        Assert.Equal("007", row.Value.GetProperty("zip").GetString());
        Assert.Equal("1.50", row.Value.GetProperty("n").GetString());
    }

    [Fact]
    public async Task Tsv_is_read_with_a_tab_separator()
    {
        using var ws = new ImportWorkspace();
        var path = ws.Write("qa.tsv", "q\ta\nx, y\tz\n");

        var row = Assert.Single((await SourceReaders.ReadAsync(path, CancellationToken.None)).Rows);

        Assert.Equal("x, y", row.Value.GetProperty("q").GetString());
    }

    [Fact]
    public async Task Csv_bad_quoting_is_reported_at_its_physical_line()
    {
        using var ws = new ImportWorkspace();
        var path = ws.Write("bad.csv", "q,a\n\"multi\nline\",1\n\"bad\"x,2\n");

        var table = await SourceReaders.ReadAsync(path, CancellationToken.None);

        var problem = Assert.Single(table.Problems);
        Assert.StartsWith(path + ":4: malformed CSV", problem.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Csv_row_with_the_wrong_number_of_fields_and_a_duplicate_header_are_errors()
    {
        using var ws = new ImportWorkspace();
        var ragged = ws.Write("ragged.csv", "q,a\n1,2\n3\n");
        var twice = ws.Write("twice.csv", "q,q\n1,2\n");

        Assert.Equal($"{ragged}:3: 1 field(s) where the header has 2", Assert.Single((await SourceReaders.ReadAsync(ragged, CancellationToken.None)).Problems).ToString());
        Assert.Equal($"{twice}:1: header names column 'q' twice", Assert.Single((await SourceReaders.ReadAsync(twice, CancellationToken.None)).Problems).ToString());
    }

    [Fact]
    public async Task Jsonl_keeps_types_and_nesting_skips_blank_lines_and_reports_a_bad_line_by_number()
    {
        using var ws = new ImportWorkspace();
        var path = ws.Write("d.jsonl", "{\"n\":1.5,\"tags\":[\"a\",\"b\"],\"o\":{\"x\":true}}\n\n{oops\n");

        var table = await SourceReaders.ReadAsync(path, CancellationToken.None);

        var row = Assert.Single(table.Rows);
        Assert.Equal("1", row.Row);
        Assert.Equal(JsonValueKind.Number, row.Value.GetProperty("n").ValueKind);
        Assert.Equal(JsonValueKind.Array, row.Value.GetProperty("tags").ValueKind);
        Assert.True(row.Value.GetProperty("o").GetProperty("x").GetBoolean());
        Assert.StartsWith(path + ":3: invalid JSON", Assert.Single(table.Problems).ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_is_an_array_or_an_object_with_one_array_property_and_rows_are_located_by_index()
    {
        using var ws = new ImportWorkspace();
        var array = ws.Write("a.json", "[{\"q\":1},{\"q\":2}]");
        var wrapped = ws.Write("w.json", "{\"data\":[{\"q\":1},{\"q\":2}]}");
        var neither = ws.Write("n.json", "{\"a\":[],\"b\":[]}");

        Assert.Equal(["[0]", "[1]"], (await SourceReaders.ReadAsync(array, CancellationToken.None)).Rows.Select(r => r.Row));
        Assert.Equal(["data[0]", "data[1]"], (await SourceReaders.ReadAsync(wrapped, CancellationToken.None)).Rows.Select(r => r.Row));
        Assert.Contains("an object whose only property is that array", Assert.Single((await SourceReaders.ReadAsync(neither, CancellationToken.None)).Problems).Problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Parquet_written_by_parquet_net_keeps_numbers_lists_and_nested_objects()
    {
        using var ws = new ImportWorkspace();
        var path = Path.Combine(ws.Root, "arc.parquet");
        await ParquetSerializer.SerializeAsync(ArcRow.Sample, path);

        var table = await SourceReaders.ReadAsync(path, CancellationToken.None);

        Assert.Empty(table.Problems);
        Assert.Equal(["row 0", "row 1"], table.Rows.Select(r => r.Row));
        var first = table.Rows[0].Value;
        Assert.Equal("q1", first.GetProperty("Id").GetString());
        Assert.Equal(3, first.GetProperty("Grade").GetInt32());
        Assert.Equal(0.25, first.GetProperty("Weight").GetDouble());
        Assert.Equal(["red", "blue"], first.GetProperty("Choices").GetProperty("Text").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(["A", "B"], first.GetProperty("Choices").GetProperty("Label").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal(JsonValueKind.Null, table.Rows[1].Value.GetProperty("Note").ValueKind);
    }

    [Fact]
    public async Task An_unknown_extension_or_a_missing_file_is_refused_by_name()
    {
        using var ws = new ImportWorkspace();
        var xlsx = ws.Write("d.xlsx", "x");

        var unknown = await Assert.ThrowsAsync<ImportException>(() => SourceReaders.ReadAsync(xlsx, CancellationToken.None));
        var missing = await Assert.ThrowsAsync<ImportException>(() => SourceReaders.ReadAsync(Path.Combine(ws.Root, "none.csv"), CancellationToken.None));

        Assert.Contains("cannot tell the format of 'd.xlsx'", unknown.Message, StringComparison.Ordinal);
        Assert.EndsWith("none.csv: file does not exist", missing.Message, StringComparison.Ordinal);
    }
}

/// <summary>An ARC-like record as HuggingFace stores it: choices as an object of parallel lists.</summary>
public sealed class ArcRow
{
    public string Id { get; set; } = "";
    public string Question { get; set; } = "";
    public int Grade { get; set; }
    public double Weight { get; set; }
    public string? Note { get; set; }
    public ArcChoices Choices { get; set; } = new();
    public string AnswerKey { get; set; } = "";

    public static List<ArcRow> Sample { get; } =
    [
        new() { Id = "q1", Question = "Sky colour?", Grade = 3, Weight = 0.25, Note = "easy", Choices = new() { Text = ["red", "blue"], Label = ["A", "B"] }, AnswerKey = "B" },
        new() { Id = "q2", Question = "Grass colour?", Grade = 4, Weight = 1, Note = null, Choices = new() { Text = ["green", "pink", "grey"], Label = ["A", "B", "C"] }, AnswerKey = "A" },
    ];
}

public sealed class ArcChoices
{
    public List<string> Text { get; set; } = [];
    public List<string> Label { get; set; } = [];
}
