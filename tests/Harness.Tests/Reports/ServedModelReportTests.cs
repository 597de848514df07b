using Harness.Core.Backends;
using Harness.Core.Models;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Tests.Serialization;

namespace Harness.Tests.Reports;

/// <summary>A served model has no local file: its size is shown as "served" and never decides "smallest file".</summary>
public sealed class ServedModelReportTests
{
    private static RunModel Served(string id)
    {
        var model = SampleRecords.RunModel(id);
        return model with
        {
            Entry = model.Entry with
            {
                Format = ModelFormat.Served,
                Source = new ModelSource(null, null, null),
                Backend = model.Entry.Backend with
                {
                    Kind = BackendKind.OpenAi,
                    Server = new ServerEndpoint(new Uri("http://127.0.0.1:8080/v1"), "m", null, 1),
                },
            },
            ResolvedPath = "http://127.0.0.1:8080/v1",
            FileSha256 = "",
            FileSizeBytes = 0,
        };
    }

    // 20 items of arith (bar 50%), every one passed: both models are sufficient; no energy, so energy cannot rank.
    private static RunReport Report(double servedP95Ms, double fileP95Ms)
    {
        RunManifest manifest = SampleRecords.Manifest(
            [Served("server"), SampleRecords.RunModel("local") with { FileSizeBytes = 1_000 }],
            [SampleRecords.FixedSuite("arith", new Requirement(0.5, 0.95, null, null), 20)]);
        var items = new[] { ("server", servedP95Ms), ("local", fileP95Ms) }.SelectMany(m => Enumerable.Range(0, 20)
            .Select(i => SampleRecords.Item(m.Item1, "arith", $"q{i:D2}", true, totalMs: m.Item2))).ToArray();
        return RunReportBuilder.Build(manifest, [], items);
    }

    [Fact]
    public void A_served_model_never_wins_by_a_zero_byte_file_and_lowest_p95_decides_instead()
    {
        RunReport report = Report(servedP95Ms: 200, fileP95Ms: 100);

        CheapestSufficient cheapest = Assert.Single(report.Analysis!.Cheapest);
        Assert.Equal(("local", CostDecider.P95Latency), (cheapest.ModelId, cheapest.DecidedBy));
        Assert.Equal("energy cannot separate them (J/item was not measured) and a served model has no file size; lowest p95 latency decides", cheapest.Decision);
        Assert.Null(cheapest.RunnerUp!.FileSizeBytes);
        Assert.EndsWith("· served (no local file)", AnswerText.Figures(cheapest.RunnerUp), StringComparison.Ordinal);
    }

    [Fact]
    public void The_faster_served_model_wins_on_latency_and_the_model_table_says_served_not_0_B()
    {
        RunReport report = Report(servedP95Ms: 50, fileP95Ms: 100);

        Assert.Equal("server", Assert.Single(report.Analysis!.Cheapest).ModelId);
        Assert.Equal((long?)null, report.Models.Single(m => m.ModelId == "server").LocalFileSizeBytes);
        string md = MarkdownReportWriter.Render(report);
        Assert.Contains("| server | ", md, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"(?<![\d.])0 B", md);
        Assert.Matches(@"\| server \| [^|]+ \| served \|", md);
    }
}
