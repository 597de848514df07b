using System.Collections.Immutable;
using Harness.Cli.Benchmarking;
using Harness.Core.Benchmarks;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Forge;

namespace Harness.Tests.Benchmarks;

public sealed class BenchOutputTests
{
    private static readonly HostFacts Host = new("Test CPU", ["avx2", "fma"], 2, 24L << 30, "Linux", "x64", ".NET 10.0.0", false, "box");

    private static BenchRow Row(string engine, string test, double mean, double sd, int parallel = 1, double? ttft = null) =>
        new(engine, "m", engine == "raw" ? "" : "Q4_0", 64L << 20, 113_800_000, test, 2, 512, 0, 0, parallel, 5,
            test.StartsWith("mc", StringComparison.Ordinal) ? "items/s" : "t/s", mean, sd, ttft, ttft is null ? null : 1.5, [mean], []);

    private static BenchReport Report(ImmutableArray<BenchRow> rows, ImmutableArray<BenchRow> reference) =>
        new(new DateTimeOffset(2026, 12, 3, 14, 0, 0, TimeSpan.Zero), "harness bench --model-file m.gguf", Host,
            ImmutableSortedDictionary<string, string>.Empty.Add("llama.cpp", "c0c7e14"), rows, reference);

    [Fact]
    public void Mean_and_sample_standard_deviation_match_a_worked_example()
    {
        // Mean 5; squared deviations sum to 32; sample variance 32/7.
        var (mean, sd) = BenchStatistics.MeanAndSd([2, 4, 4, 4, 5, 5, 7, 9]);

        Assert.Equal(5.0, mean, 12);
        Assert.Equal(Math.Sqrt(32.0 / 7.0), sd, 12);
        Assert.Equal((3.0, 0.0), BenchStatistics.MeanAndSd([3]));
        Assert.Throws<ArgumentException>(() => BenchStatistics.MeanAndSd([]));
    }

    [Fact]
    public void Markdown_puts_the_raw_reference_and_the_ratio_beside_each_matching_row_and_ends_with_the_fingerprint()
    {
        var report = Report(
            [Row("harness", "pp512", 300, 3, ttft: 1700), Row("harness", "tg128", 95, 1), Row("harness", "tg128", 380, 4, parallel: 4)],
            [Row("raw", "pp512", 312.5, 2), Row("raw", "tg128", 100, 1)]);

        var lines = BenchWriters.Markdown(report).Split('\n');

        Assert.StartsWith("| model | quant | size | params | threads | n_batch | parallel | depth | gpu layers | test | result | TTFT ms | raw C | ratio |", lines[0], StringComparison.Ordinal);
        Assert.Equal("| m | Q4_0 | 64.00 MiB | 113.8 M | 2 | 512 | 1 | 0 | 0 | pp512 | 300.00 ± 3.00 t/s | 1700.0 ± 1.5 | 312.50 ± 2.00 | 0.960x |", lines[2]);
        Assert.EndsWith("| tg128 | 95.00 ± 1.00 t/s | - | 100.00 ± 1.00 | 0.950x |", lines[3], StringComparison.Ordinal);
        // No raw row at 4 parallel sequences: no ratio rather than a wrong one.
        Assert.EndsWith("| tg128 | 380.00 ± 4.00 t/s | - | - | - |", lines[4], StringComparison.Ordinal);
        var text = string.Join('\n', lines);
        Assert.Contains("Machine: Test CPU, 2 logical cores, 24.0 GiB; Linux (x64); .NET 10.0.0; CPU features: avx2 fma.", text, StringComparison.Ordinal);
        Assert.Contains("Libraries: llama.cpp=c0c7e14.", text, StringComparison.Ordinal);
        Assert.Contains("`harness bench --model-file m.gguf`", text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_single_repetition_prints_n_1_instead_of_a_zero_spread_and_its_warnings_go_into_every_file()
    {
        var single = Row("harness", "pp512", 300, 0, ttft: 1700) with
        {
            Repetitions = 1, WarmupValues = [1.5], Warnings = ["one repetition (n=1): no spread to judge the figure by; use -r 3 or more"],
        };
        var report = Report([single], []);

        var markdown = BenchWriters.Markdown(report);

        Assert.Contains("| pp512 | 300.00 t/s (n=1) ⚠ | 1700.0 |", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("± 0.00", markdown, StringComparison.Ordinal);
        Assert.Contains("> - m pp512 t=2 p=1 d=0: one repetition (n=1)", markdown, StringComparison.Ordinal);
        Assert.EndsWith(",one repetition (n=1): no spread to judge the figure by; use -r 3 or more", BenchWriters.Csv(report).Split(Environment.NewLine)[1], StringComparison.Ordinal);
        using var json = System.Text.Json.JsonDocument.Parse(BenchWriters.Json(report));
        var row = json.RootElement.GetProperty("rows")[0];
        Assert.Equal("one repetition (n=1): no spread to judge the figure by; use -r 3 or more", row.GetProperty("warnings")[0].GetString());
        Assert.Equal(1.5, row.GetProperty("warmupValues")[0].GetDouble());
    }

    [Fact]
    public void Csv_has_one_line_per_row_of_both_engines_with_the_ratio_on_harness_rows()
    {
        var report = Report([Row("harness", "pp512", 300, 3)], [Row("raw", "pp512", 312.5, 2)]);

        var lines = BenchWriters.Csv(report).TrimEnd().Split(Environment.NewLine);

        Assert.Equal(3, lines.Length);
        Assert.StartsWith("engine,model,quantization,", lines[0], StringComparison.Ordinal);
        Assert.Equal("harness,m,Q4_0,67108864,113800000,pp512,2,512,0,0,1,5,t/s,300,3,,,,,312.5,0.96,,,,,,", lines[1]);
        Assert.StartsWith("raw,m,,", lines[2], StringComparison.Ordinal);
        Assert.EndsWith(",,", lines[2], StringComparison.Ordinal);
    }

    [Fact]
    public void Raw_program_lines_become_rows_named_like_the_harness_tests()
    {
        string[] lines =
        [
            """
            {"engine":"raw","model":"m","test":"pp","prompt":512,"gen":0,"threads":2,"batch":512,"parallel":1,"depth":0,"reps":5,"pp_tps_mean":280.5,"pp_tps_sd":1.2,"tg_tps_mean":0,"tg_tps_sd":0,"pg_tps_mean":280.5,"pg_tps_sd":1.2,"ttft_ms_mean":1826.7,"ttft_ms_sd":7.9,"n_ctx":512}
            """,
            """
            {"engine":"raw","model":"m","test":"tg","prompt":0,"gen":128,"threads":2,"batch":512,"parallel":4,"depth":0,"reps":5,"pp_tps_mean":0,"pp_tps_sd":0,"tg_tps_mean":117.6,"tg_tps_sd":1.5,"pg_tps_mean":117.6,"pg_tps_sd":1.5,"ttft_ms_mean":0,"ttft_ms_sd":0,"n_ctx":2048}
            """,
            """
            {"engine":"raw","model":"m","test":"mc-reuse","items":64,"threads":2,"batch":512,"parallel":4,"depth":0,"reps":5,"items_per_s_mean":11.7,"items_per_s_sd":0.05,"checksum":-1641.6}
            """,
        ];

        var rows = lines.Select((line, i) => BenchPlan.ParseRawLine(line, "raw.jsonl", i + 1)).ToList();

        Assert.Equal(["pp512", "tg128", "mc-reuse"], rows.Select(r => r.Test));
        Assert.Equal((280.5, 1826.7), (rows[0].Mean, rows[0].TimeToFirstTokenMs!.Value));
        Assert.Equal((4, 117.6, "t/s"), (rows[1].Parallel, rows[1].Mean, rows[1].Unit));
        Assert.Equal(("items/s", 11.7), (rows[2].Unit, rows[2].Mean));
        Assert.All(rows, r => Assert.Equal("raw", r.Engine));
    }

    [Fact]
    public void A_reference_line_that_is_not_a_raw_row_names_the_file_and_line()
    {
        string[] lines = ["{\"engine\":\"raw\",\"model\":\"m\",\"test\":\"pp\",\"prompt\":1,\"threads\":2,\"batch\":1,\"parallel\":1,\"depth\":0,\"reps\":1,\"pp_tps_mean\":1,\"pp_tps_sd\":0,\"ttft_ms_mean\":1,\"ttft_ms_sd\":0}", "not json"];

        Assert.Equal("pp1", BenchPlan.ParseRawLine(lines[0], "raw.jsonl", 1).Test);
        var error = Assert.Throws<InputFileException>(() => BenchPlan.ParseRawLine(lines[1], "raw.jsonl", 2));

        Assert.Equal(2, error.Line);
        Assert.Contains("raw.jsonl:2: not a row of the raw C-API benchmark", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("512", true, new[] { 512 })]
    [InlineData("1, 4,8,4", true, new[] { 1, 4, 8 })]
    [InlineData("0", true, new[] { 0 })]
    [InlineData("-1", false, new int[0])]
    [InlineData("two", false, new int[0])]
    [InlineData("", false, new int[0])]
    public void Sweep_lists_are_distinct_non_negative_integers(string text, bool ok, int[] expected)
    {
        Assert.Equal(ok, BenchPlan.TryParseList(text, 0, out var values));
        Assert.Equal(expected, values);
    }

    [Fact]
    public void The_bench_model_counts_113_million_parameters()
    {
        var recipe = RandomWeightsRecipe.Bench113M;

        // 12 blocks of (4 x 768^2 attention + 3 x 768 x 3072 feed-forward + 2 x 768 norms), embeddings and output of
        // the 96-character vocabulary plus 259 byte and control tokens, and the final norm.
        Assert.Equal(12L * (4 * 768 * 768 + 3 * 768 * 3072 + 2 * 768) + 2L * 355 * 768 + 768, recipe.ParameterCount);
        Assert.InRange(recipe.ParameterCount, 100_000_000, 120_000_000);
    }

    [Fact]
    public void Multiple_choice_items_for_the_raw_program_escape_tabs_newlines_and_backslashes()
    {
        var suite = Fakes.TestSuites.Choice(2) with { Prompt = new PromptTemplate("a\\b\t{{a}}\nis", null, [], "\n") };

        var text = BenchRunner.MultipleChoiceItems(suite, 1);

        Assert.Equal("a\\\\b\\t0\\nis\t even\t odd\n", text);
    }
}
