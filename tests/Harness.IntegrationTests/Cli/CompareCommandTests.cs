using System.Text.Json;
using Harness.Core.Comparison;
using Harness.Core.Reports;
using Harness.Core.Serialization;
using Harness.Forge;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.Cli;

/// <summary>The quantize -> compare sequence a user runs, on a model the test writes: real llama.cpp, real workers.</summary>
[Trait("Category", "Model")]
public sealed class CompareCommandTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(6);

    [Fact]
    public async Task Quantize_then_compare_produces_paired_deltas_drift_perplexity_and_the_ladder_and_report_rebuilds_it()
    {
        using var ws = new HarnessProcess.Workspace();
        // tiny-bigram's recipe on the arith suite's own training texts, padded to rows of 96 so that Q8_0 and Q4_0 apply.
        var corpus = Harness.Tasks.TaskWriter.Generators()[0].GenerateTraining(seed: 5, count: 400).Select(e => e.Text).ToArray();
        var fitted = BigramRecipe.Build(corpus, BigramOptions.Default with { Name = "bigram-96" });
        var wide = fitted with { Hyperparameters = fitted.Hyperparameters with { EmbeddingLength = 96, HeadCount = 12, HeadCountKv = 12, FeedForwardLength = 32 } };
        wide.WriteFile(Path.Combine(ws.Root, "models", "bigram-96.gguf"));
        await File.AppendAllTextAsync(Path.Combine(ws.Root, "models.manifest"),
            "  - id: bigram-96\n    path: models/bigram-96.gguf\n    backend: { context_size: 256, threads: 1, chat_template: none }\n");

        var quantize = await HarnessProcess.RunAsync(ws.Root, Timeout, "quantize", "bigram-96", "--types", "Q8_0,Q4_0", "--threads", "1");
        Assert.True(quantize.ExitCode == 0, quantize.Output + quantize.Error);

        var compare = await HarnessProcess.RunAsync(ws.Root, Timeout,
            "compare", "--base", "bigram-96", "--candidates", "bigram-96-q8_0,bigram-96-q4_0", "--suite", "tasks/arith", "--suite", "tasks/sentiment", "--top-k", "16");
        log.WriteLine(compare.Output + compare.Error);
        Assert.True(compare.ExitCode == 0, compare.Output + compare.Error);
        Assert.Contains("ladder arith: smallest sufficient =", compare.Output, StringComparison.Ordinal);
        // The comparison's summary ends the console output: each candidate's drift and its delta per suite.
        Assert.Contains("Comparison against bigram-96", compare.Output, StringComparison.Ordinal);
        Assert.Contains("bigram-96-q4_0:", compare.Output, StringComparison.Ordinal);
        Assert.Contains("mean KL", compare.Output, StringComparison.Ordinal);
        Assert.Contains("McNemar", compare.Output, StringComparison.Ordinal);
        Assert.Contains("Answer", compare.Output, StringComparison.Ordinal);

        var dir = ws.SingleRunDirectory();
        var manifest = await RunManifestFile.ReadAsync(dir, CancellationToken.None);
        Assert.Equal("bigram-96", manifest.Comparison!.BaseModelId);
        Assert.Equal(16, manifest.Comparison.TopK);
        Assert.Equal(Path.Combine(ws.Root, "tasks", ReferenceText.DefaultFileName), manifest.Comparison.ReferencePath);
        Assert.Equal(["bigram-96-q8_0", "bigram-96-q4_0"], manifest.Comparison.CandidateModelIds.AsEnumerable());

        var markdown = await File.ReadAllTextAsync(Path.Combine(dir, "report.md"));
        log.WriteLine(markdown);
        var json = await File.ReadAllBytesAsync(Path.Combine(dir, "report.json"));
        var report = JsonSerializer.Deserialize<RunReport>(json, HarnessJson.Options)!;
        var comparison = report.Comparison!;
        Assert.Equal(2, comparison.Candidates.Length);
        Assert.NotNull(comparison.BasePerplexity);
        foreach (var candidate in comparison.Candidates)
        {
            Assert.Equal(["arith", "sentiment"], candidate.Quality.Select(q => q.Suite));
            Assert.All(candidate.Quality, q => Assert.Equal(200, q.PairedItems));
            Assert.Equal(400, candidate.Drift!.Items);
            Assert.Equal(0, candidate.Drift.FailedItems);
            // A bigram's distributions hardly move under 8 or 4 bits (llama.cpp keeps its output matrix at Q8_0 in
            // both mixes), but near-ties flip: top-1 agreement is low on sentiment text it never saw in training.
            Assert.InRange(candidate.Drift.MeanKlDivergence, 0.0, 0.01);
            Assert.InRange(candidate.Drift.TopTokenAgreement, 0.0, 1.0);
            Assert.InRange(candidate.PerplexityRatio!.Value, 0.95, 1.05);
            Assert.True(candidate.SizeRatio < 1);
            Assert.Null(candidate.NoDrift);
            // Flips are the discordant items of the paired test, listed; the new cost ratios come from the same items.
            foreach (var quality in candidate.Quality.Where(q => q.PassRate is not null))
            {
                var flips = candidate.Flips.Single(f => f.Suite == quality.Suite);
                Assert.Equal(quality.PassRate!.Counts.OnlyBasePassed + quality.PassRate.Counts.OnlyCandidatePassed, flips.Flipped);
                Assert.Equal(Math.Min(flips.Flipped, ComparisonReportBuilder.FlipListLimit), flips.Items.Length);
            }

            Assert.NotNull(candidate.Cost.TimeToFirstTokenRatio);
            Assert.NotNull(candidate.Cost.PromptSpeedRatio);
        }

        Assert.Contains("cost vs base: p50 latency", compare.Output, StringComparison.Ordinal);

        // Fewer bits never drift less.
        var (q8, q4) = (comparison.Candidates[0], comparison.Candidates[1]);
        Assert.True(q8.Drift!.MeanKlDivergence <= q4.Drift!.MeanKlDivergence, $"KL q8 {q8.Drift.MeanKlDivergence} vs q4 {q4.Drift.MeanKlDivergence}");
        Assert.True(q8.SizeRatio > q4.SizeRatio);
        Assert.Equal(["arith", "sentiment"], comparison.Ladders.Select(l => l.Suite));
        Assert.All(comparison.Ladders, l => Assert.Equal(["bigram-96-q4_0", "bigram-96-q8_0", "bigram-96"], l.Rungs.Select(r => r.ModelId)));

        Assert.Contains("## Comparison against bigram-96", markdown, StringComparison.Ordinal);
        Assert.Contains("### Ladder: arith", markdown, StringComparison.Ordinal);

        // report.html holds the same comparison: the table of deltas and drift, and its chart.
        var html = await File.ReadAllTextAsync(Path.Combine(dir, "report.html"));
        var start = html.IndexOf("<section class=\"comparison\"", StringComparison.Ordinal);
        Assert.True(start > 0, "report.html has no comparison section");
        var section = html[start..html.IndexOf("</section>", start, StringComparison.Ordinal)];
        Assert.Contains("aria-label=\"Quality change of each candidate against bigram-96", section, StringComparison.Ordinal);
        foreach (var candidate in comparison.Candidates)
        {
            foreach (var quality in candidate.Quality)
            {
                Assert.Contains($"<tr><td>{candidate.ModelId}</td><td class=\"num\">", section, StringComparison.Ordinal);
                Assert.Contains($"<td>{quality.Suite}</td><td class=\"num\">200</td><td class=\"num\">{System.Net.WebUtility.HtmlEncode(ComparisonText.Delta(quality))}</td>", section, StringComparison.Ordinal);
            }
        }

        File.Delete(Path.Combine(dir, "report.json"));
        var rebuilt = await HarnessProcess.RunAsync(ws.Root, Timeout, "report", dir);
        Assert.True(rebuilt.ExitCode == 0, rebuilt.Output + rebuilt.Error);
        Assert.Equal(json, await File.ReadAllBytesAsync(Path.Combine(dir, "report.json")));
    }

    [Fact]
    public async Task Compare_refuses_a_base_that_is_also_a_candidate_and_an_unknown_model()
    {
        using var ws = new HarnessProcess.Workspace();

        var same = await HarnessProcess.RunAsync(ws.Root, Timeout, "compare", "--base", "tiny-bigram", "--candidates", "tiny-bigram");
        Assert.NotEqual(0, same.ExitCode);
        Assert.Contains("cannot also be a candidate", same.Output + same.Error, StringComparison.Ordinal);

        var unknown = await HarnessProcess.RunAsync(ws.Root, Timeout, "compare", "--base", "tiny-bigram", "--candidates", "nope");
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("no model with id 'nope'", unknown.Output + unknown.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(ws.Results) && Directory.GetDirectories(ws.Results).Length > 0);
    }
}
