using Harness.Core.Comparison;
using Harness.Core.Energy;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Reports.Html;
using Harness.Tests.Serialization;

namespace Harness.Tests.Comparison;

/// <summary>
/// One model's weights through three runtimes: llama.cpp in process (the base), an OpenAI-compatible server (no file,
/// no next-token distributions) and ONNX Runtime GenAI (a file of the same size here). Built from records, no model.
/// </summary>
public class RuntimeComparisonReportTests
{
    private const string NoDistributions = "f16-server's backend cannot return next-token distributions";

    private static EnergyReading Reading(double joules, EnergyQuality quality = EnergyQuality.Measured) => new(
        quality == EnergyQuality.Measured ? "rapl" : "estimate", quality, "package", EnergyAttribution.Exclusive, TimeSpan.FromSeconds(1),
        joules + 1, 1, joules, quality == EnergyQuality.Measured ? 0.01 : null, null, null, []);

    // arith: all pass items 000-094, except that the server fails 007 (a flip) and ONNX answers 010 as "3.50" (same
    // outcome, other text). stories (open): the server scores s1 at 0.5 instead of 0.6. Latency: server 80 ms, base
    // 100 ms, ONNX 120 ms per item.
    // Size 0: the server is a served entry (backend.kind openai, no local file), which is what has no file size; a 0-byte
    // GGUF would be a file like any other.
    private static RunModel Server(long size)
    {
        var model = SampleRecords.RunModel("f16-server") with { FileSizeBytes = size };
        return size > 0 ? model : model with
        {
            Entry = model.Entry with
            {
                Format = Harness.Core.Models.ModelFormat.Served,
                Source = new Harness.Core.Models.ModelSource(null, null, null),
                Backend = model.Entry.Backend with
                {
                    Kind = Harness.Core.Backends.BackendKind.OpenAi,
                    Server = new Harness.Core.Models.ServerEndpoint(new Uri("http://127.0.0.1:8080/v1"), "f16", null, 1),
                },
            },
            ResolvedPath = "http://127.0.0.1:8080/v1",
            FileSha256 = "",
        };
    }

    private static RunReport Build(long serverSize = 0, EnergyQuality energy = EnergyQuality.Measured)
    {
        var plan = new ComparisonPlan("f16", ["f16-server", "f16-onnx"], 8, "/tasks/reference.txt", new string('e', 64));
        var manifest = SampleRecords.Manifest(
            [SampleRecords.RunModel("f16") with { FileSizeBytes = 4000 }, Server(serverSize),
             SampleRecords.RunModel("f16-onnx") with { FileSizeBytes = 4000 }],
            [SampleRecords.FixedSuite("arith", new Requirement(0.8, 0.95, null, null), itemCount: 100), SampleRecords.OpenSuite("stories")])
            with { Comparison = plan };
        var items = new List<ItemRecord>();
        foreach (var (model, ms) in new[] { ("f16", 100.0), ("f16-server", 80.0), ("f16-onnx", 120.0) })
        {
            for (var i = 0; i < 100; i++)
            {
                var passed = i < 95 && !(model == "f16-server" && i == 7);
                var item = SampleRecords.Item(model, "arith", $"{i:D3}", passed, totalMs: ms);
                item = model == "f16-onnx" && i == 10 ? item with { RawOutput = "3.50" } : item;
                items.Add(model == "f16-server" ? item : item with { Energy = Reading(model == "f16" ? 2.0 : 3.0, energy) });
            }

            for (var i = 0; i < 3; i++)
            {
                var value = model == "f16-server" && i == 1 ? 0.5 : 0.6;
                items.Add(SampleRecords.Item(model, "stories", $"s{i}", passed: true, totalMs: ms, value: value));
            }
        }

        ModelRunRecord[] models =
        [
            SampleRecords.Model("f16", ModelRunStatus.Completed), SampleRecords.Model("f16-server", ModelRunStatus.Completed),
            SampleRecords.Model("f16-onnx", ModelRunStatus.Completed),
        ];
        DriftRecord[] drift = [new("f16", "f16-onnx", "arith", "000", 8, [0f, 0f], [0f, 0f], 2, null, SampleRecords.Epoch)];
        PerplexityRecord[] perplexity =
        [
            new("f16", plan.ReferenceSha256, 10, 100, 100 * Math.Log(2.0), SampleRecords.Epoch),
            new("f16-onnx", plan.ReferenceSha256, 10, 100, 100 * Math.Log(2.0), SampleRecords.Epoch),
        ];
        DriftAbsence[] absences = [new("f16", "f16-server", NoDistributions, SampleRecords.Epoch)];
        return RunReportBuilder.Build(manifest, models, items, drift, perplexity, null, absences);
    }

    private static CandidateComparison Candidate(RunReport report, string id) => report.Comparison!.Candidates.Single(c => c.ModelId == id);

    [Fact]
    public async Task A_candidate_without_token_distributions_keeps_quality_flips_and_ratios_and_says_why_drift_is_missing()
    {
        var report = Build();
        var server = Candidate(report, "f16-server");

        Assert.Equal(NoDistributions, server.NoDrift);
        Assert.Null(server.Drift);
        Assert.Null(server.PerplexityRatio);
        Assert.Equal(["arith", "stories"], server.Quality.Select(q => q.Suite));
        Assert.Equal(1, server.Quality[0].PassRate!.Counts.OnlyBasePassed);
        Assert.Equal(0.8, server.Cost.TimeToFirstTokenRatio!.Value, 9);
        Assert.Equal(1.25, server.Cost.PromptSpeedRatio!.Value, 9);
        Assert.Equal(0.8, server.Cost.LatencyRatio!.Value, 9);
        Assert.Null(server.SizeRatio);
        Assert.Null(Candidate(report, "f16-onnx").NoDrift);

        string markdown, html;
        using (new CultureScope("de-DE"))
        {
            markdown = MarkdownReportWriter.Render(report);
            using var stream = new MemoryStream();
            await new HtmlReportWriter().WriteAsync(report, stream, CancellationToken.None);
            html = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        }

        Assert.Contains("f16-server: no drift or perplexity: " + NoDistributions, markdown, StringComparison.Ordinal);
        Assert.Contains("f16-server: no drift or perplexity: f16-server", html, StringComparison.Ordinal);
        Assert.Contains("backend cannot return next-token distributions; its quality deltas, flips and cost ratios stand.", html, StringComparison.Ordinal);
        Assert.Contains("1 flipped (007)", html, StringComparison.Ordinal);
        Assert.Contains("| 0.80 | 0.80 | 1.25 |", markdown, StringComparison.Ordinal);
        var summary = string.Join("\n", ComparisonText.SummaryLines(report.Comparison!));
        Assert.Contains("f16-server: no file · no drift or perplexity: " + NoDistributions, summary, StringComparison.Ordinal);
        Assert.Contains("cost vs base: p50 latency 0.80× · TTFT 0.80× · prompt tok/s 1.25×", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Every_flip_is_listed_per_candidate_and_suite_with_both_outcomes_and_text_changes_are_counted_apart()
    {
        var report = Build();
        var server = Candidate(report, "f16-server").Flips;
        var onnx = Candidate(report, "f16-onnx").Flips;

        var arith = server.Single(f => f.Suite == "arith");
        Assert.Equal(1, arith.Flipped);
        Assert.Equal(new ItemFlip("007", "pass", "fail"), Assert.Single(arith.Items));
        Assert.Equal(0, arith.TextChanged);
        var stories = server.Single(f => f.Suite == "stories");
        Assert.Equal(new ItemFlip("s1", "0.6000", "0.5000"), Assert.Single(stories.Items));

        var onnxArith = onnx.Single(f => f.Suite == "arith");
        Assert.Equal(0, onnxArith.Flipped);
        Assert.Equal(1, onnxArith.TextChanged);
        Assert.Equal("010", Assert.Single(onnxArith.TextChangedItemIds));
        // A log-likelihood suite's output is the chosen option: no text-change count there.
        Assert.Equal(0, onnx.Single(f => f.Suite == "stories").TextChanged);

        var markdown = MarkdownReportWriter.Render(report);
        Assert.Contains("| f16-server | arith | 100 | 1 | 0 | 1 flipped (007) |", markdown, StringComparison.Ordinal);
        Assert.Contains("| f16-onnx | arith | 100 | 0 | 1 | 1 with the same outcome but other text (010) |", markdown, StringComparison.Ordinal);
        var summary = string.Join("\n", ComparisonText.SummaryLines(report.Comparison!));
        Assert.Contains("n 100; 1 flipped (007)", summary, StringComparison.Ordinal);

        using var stream = new MemoryStream();
        await new JsonReportWriter().WriteAsync(report, stream, CancellationToken.None);
        var json = System.Text.Encoding.UTF8.GetString(stream.ToArray());
        Assert.Contains("\"baseOutcome\": \"pass\"", json, StringComparison.Ordinal);
        Assert.Contains("\"candidateOutcome\": \"fail\"", json, StringComparison.Ordinal);
        Assert.Contains("\"textChangedItemIds\": [", json, StringComparison.Ordinal);
        Assert.Contains("\"noDrift\": \"" + NoDistributions, json, StringComparison.Ordinal);
    }

    [Fact]
    public void Only_the_first_ids_are_listed_while_the_count_stays_whole()
    {
        var items = new List<ItemRecord>();
        for (var i = 0; i < 150; i++)
        {
            items.Add(SampleRecords.Item("a", "arith", $"{i:D3}", passed: true));
            items.Add(SampleRecords.Item("b", "arith", $"{i:D3}", passed: false));
        }

        var plan = new ComparisonPlan("a", ["b"], 8, "/ref.txt", "sha");
        var manifest = SampleRecords.Manifest([SampleRecords.RunModel("a"), SampleRecords.RunModel("b")],
            [SampleRecords.FixedSuite("arith", new Requirement(0.8, 0.95, null, null), itemCount: 150)]) with { Comparison = plan };
        var flips = Assert.Single(Assert.Single(RunReportBuilder.Build(manifest, [], items).Comparison!.Candidates).Flips);

        Assert.Equal(150, flips.Flipped);
        Assert.Equal(ComparisonReportBuilder.FlipListLimit, flips.Items.Length);
        Assert.Equal("000", flips.Items[0].ItemId);
        Assert.StartsWith("150 flipped (000, 001, 002, 003, 004, 005, 006, 007, 008, 009, … 140 more)", ComparisonText.Flips(flips), StringComparison.Ordinal);
    }

    [Fact]
    public void Measured_energy_fills_joules_per_item_and_an_estimate_never_does()
    {
        var measured = Build();
        var onnx = Candidate(measured, "f16-onnx").Cost;
        Assert.Equal(2.0, onnx.JoulesPerItemBase!.Value, 9);
        Assert.Equal(3.0, onnx.JoulesPerItemCandidate!.Value, 9);
        Assert.Equal(1.5, onnx.JoulesPerItemRatio!.Value, 9);
        Assert.False(onnx.EnergyEstimated);
        // The server's work is not in any reading here: no figure, no ratio.
        Assert.Null(Candidate(measured, "f16-server").Cost.JoulesPerItemCandidate);
        Assert.Null(Candidate(measured, "f16-server").Cost.JoulesPerItemRatio);

        var estimated = Build(energy: EnergyQuality.Estimated);
        var cost = Candidate(estimated, "f16-onnx").Cost;
        Assert.Null(cost.JoulesPerItemBase);
        Assert.Null(cost.JoulesPerItemCandidate);
        Assert.Null(cost.JoulesPerItemRatio);
        Assert.True(cost.EnergyEstimated);
        var markdown = MarkdownReportWriter.Render(estimated);
        Assert.Contains("| estimated only (≈, see the energy tables) (base estimated only (≈, see the energy tables)) |", markdown, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]    // a served model has no file
    [InlineData(4000)] // every runtime's file is the same size
    public void Equal_or_unknown_sizes_order_the_ladder_by_p95_latency_and_never_claim_the_smallest_file_decides(long serverSize)
    {
        var report = Build(serverSize);
        var ladder = Assert.Single(report.Comparison!.Ladders);

        Assert.Equal(LadderOrder.P95Latency, ladder.Order);
        Assert.Equal(["f16-server", "f16", "f16-onnx"], ladder.Rungs.Select(r => r.ModelId));
        Assert.Equal("f16-server", ladder.CheapestSufficientModelId);
        // The Answer follows the same rule, so the ladder needs no note.
        var cheapest = report.Analysis!.Cheapest.Single(c => c.Suite == "arith");
        Assert.Equal("f16-server", cheapest.ModelId);
        Assert.Equal(Harness.Core.Reports.CostDecider.P95Latency, cheapest.DecidedBy);
        Assert.DoesNotContain("smallest file decides", cheapest.Decision, StringComparison.Ordinal);
        Assert.Null(ladder.AnswerNote);

        var markdown = MarkdownReportWriter.Render(report);
        Assert.DoesNotContain("Smallest sufficient", markdown, StringComparison.Ordinal);
        Assert.DoesNotContain("smallest file decides", markdown, StringComparison.Ordinal);
        Assert.Contains("First sufficient by p95 latency (the files are the same size or some model has none, so file size decides nothing): **f16-server**.", markdown, StringComparison.Ordinal);
        Assert.Contains("Ladder cost order is p95 latency, then manifest order", markdown, StringComparison.Ordinal);
        Assert.Contains("ladder arith: first sufficient by p95 latency", string.Join("\n", ComparisonText.SummaryLines(report.Comparison!)), StringComparison.Ordinal);
    }
}
