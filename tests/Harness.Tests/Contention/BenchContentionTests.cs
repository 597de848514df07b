using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Benchmarks;
using Harness.Core.Runs;
using Harness.Tests.Serialization;

namespace Harness.Tests.Contention;

public sealed class BenchContentionTests
{
    private static readonly HostFacts Host = new("Test CPU", ["avx2"], 2, 24L << 30, "Linux", "x64", ".NET 10.0.0", false, "box");

    private static BenchRow Row(string test, double? other) =>
        new("harness", "m", "Q4_0", 64L << 20, 113_800_000, test, 2, 512, 0, 0, 1, 5, "t/s", 24.5, 3.25, null, null, [24.5], [],
            Contention: other is { } o ? ContentionRecorderTests.Contention(o, 0) : null);

    private static BenchReport Report(params BenchRow[] rows) =>
        new(new DateTimeOffset(2026, 12, 3, 14, 0, 0, TimeSpan.Zero), "harness bench --model-file m.gguf", Host,
            ImmutableSortedDictionary<string, string>.Empty, [.. rows], []);

    [Fact]
    public void Bench_md_gives_each_row_its_other_cpu_share_and_warns_when_a_row_was_busy()
    {
        string markdown;
        using (new CultureScope("de-DE"))
        {
            markdown = BenchWriters.Markdown(Report(Row("tg128", 0.43), Row("pp512", 0.02)));
        }

        var lines = markdown.Split('\n');
        Assert.EndsWith("| TTFT ms | other CPU |", lines[0].TrimEnd(), StringComparison.Ordinal);
        Assert.EndsWith("| tg128 | 24.50 ± 3.25 t/s | - | 43% ⚠ busy |", lines[2].TrimEnd(), StringComparison.Ordinal);
        Assert.EndsWith("| pp512 | 24.50 ± 3.25 t/s | - | 2% |", lines[3].TrimEnd(), StringComparison.Ordinal);
        Assert.Contains("> **Warning: measured on a busy machine.** 1 of 2 rows (⚠ busy): tg128 t=2: other processes used 43% of the CPU.", markdown, StringComparison.Ordinal);
        Assert.Contains("busy above 10% (or 5% stolen)", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public void A_quiet_bench_has_no_warning_and_one_without_samples_no_column()
    {
        Assert.DoesNotContain("Warning", BenchWriters.Markdown(Report(Row("tg128", 0.02))), StringComparison.Ordinal);
        Assert.DoesNotContain("other CPU", BenchWriters.Markdown(Report(Row("tg128", null))), StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_csv_and_json_carry_the_shares_and_the_reason()
    {
        string csv;
        using (new CultureScope("de-DE"))
        {
            csv = BenchWriters.Csv(Report(Row("tg128", 0.43)));
        }

        var lines = csv.TrimEnd().Split(Environment.NewLine);
        Assert.EndsWith(",raw_mean,ratio,other_cpu_share,steal_share,harness_cpu_share,load_1m_max,busy,warnings", lines[0], StringComparison.Ordinal);
        Assert.EndsWith(",,,0.43,0,0.08,2.5,other processes used 43% of the CPU,", lines[1], StringComparison.Ordinal);

        using var json = JsonDocument.Parse(BenchWriters.Json(Report(Row("tg128", 0.43))));
        Assert.Equal(0.43, json.RootElement.GetProperty("rows")[0].GetProperty("contention").GetProperty("otherProcessesShare").GetDouble());
    }
}
