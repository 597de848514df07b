using System.Collections.Immutable;
using Harness.Core.Comparison;
using Harness.Core.Contention;
using Harness.Core.Energy;
using Harness.Core.Judging;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

namespace Harness.Core.Reports;

/// <summary>Builds a <see cref="RunReport"/> from stored records. Pure: same inputs, same report.</summary>
public static class RunReportBuilder
{
    public static RunReport Build(
        RunManifest manifest,
        IReadOnlyList<ModelRunRecord> models,
        IReadOnlyList<ItemRecord> items,
        IReadOnlyList<DriftRecord>? drift = null,
        IReadOnlyList<PerplexityRecord>? perplexity = null,
        IReadOnlyList<JudgementRecord>? judgements = null,
        IReadOnlyList<DriftAbsence>? driftAbsences = null,
        Sharding.MergeRecord? merge = null)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(items);
        // A judged suite's placeholder scores are replaced by the judge's verdicts before anything is computed.
        (items, var judged) = JudgementOverlay.Apply(manifest.Suites, items, judgements ?? []);

        // The newest record per model wins, as in the store; the caller may pass the full history.
        var newest = models
            .GroupBy(m => m.ModelId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var itemsByModelSuite = items
            .GroupBy(i => (i.Key.ModelId, i.Key.Suite))
            .ToDictionary(g => g.Key, g => (IReadOnlyCollection<ItemRecord>)g.ToArray());
        // Manifest order, so tables read in the order the user listed the models.
        ImmutableArray<string> modelOrder = manifest.Models.Select(m => m.Entry.Id).ToImmutableArray();

        var summaries = manifest.Models
            .Select(m =>
            {
                newest.TryGetValue(m.Entry.Id, out ModelRunRecord? record);
                ModelContention? contention = Busiest(models, m.Entry.Id);
                return new ModelSummary(
                    m.Entry.Id,
                    record?.Status,
                    record?.LoadInfo,
                    record?.PeakResidentMemoryBytes,
                    m.FileSizeBytes,
                    record?.Failure,
                    items.Count(i => i.Key.ModelId == m.Entry.Id),
                    // The newest record with energy facts: a resume's first record has none until its meters open.
                    models.LastOrDefault(r => r.ModelId == m.Entry.Id && r.Energy is not null)?.Energy,
                    contention,
                    manifest.Contention?.Thresholds.Check(contention),
                    m.Served);
            })
            .ToImmutableArray();
        var busyMachines = summaries.ToDictionary(s => s.ModelId, s => s.BusyMachine, StringComparer.Ordinal);

        long? PeakMemory(string modelId) => newest.TryGetValue(modelId, out ModelRunRecord? r) ? r.PeakResidentMemoryBytes : null;

        ImmutableArray<ScorerMetric> Metrics(string suite, double confidence) => ScorerMetrics.Of(
            modelOrder.Where(id => itemsByModelSuite.ContainsKey((id, suite))).Select(id => (id, itemsByModelSuite[(id, suite)])), confidence);

        var fixedSuites = ImmutableArray.CreateBuilder<FixedSuiteReport>();
        var openSuites = ImmutableArray.CreateBuilder<OpenSuiteReport>();
        foreach (RunSuite suite in manifest.Suites)
        {
            if (suite.Kind == SuiteKind.Fixed)
            {
                Requirement requirement = suite.Requirement
                    ?? throw new InvalidOperationException($"run.json: fixed suite '{suite.Name}' has no requirement.");
                var rows = modelOrder
                    .Where(id => itemsByModelSuite.ContainsKey((id, suite.Name)))
                    .Select(id =>
                    {
                        IReadOnlyCollection<ItemRecord> own = itemsByModelSuite[(id, suite.Name)];
                        // A suite that ran until decided is judged by the rule it stopped by, over the order it ran in.
                        FixedSuiteVerdict verdict = manifest.Sequential?.OrderOf(suite.Name) is { } order
                            ? SequentialVerdictCalculator.Decide(id, suite.Name, requirement, order, manifest.Sequential.OrderSeed, own, busyMachines[id])
                            : VerdictCalculator.Decide(id, suite.Name, requirement, own, suite.ItemCount, busyMachines[id]);
                        return new FixedSuiteRow(id, verdict, Summarize(own), PeakMemory(id), EnergySummary.Summarize(own, requirement.Confidence));
                    })
                    .ToImmutableArray();
                fixedSuites.Add(new FixedSuiteReport(suite.Name, suite.Version, requirement, suite.ItemCount, rows, judged.GetValueOrDefault(suite.Name),
                    Metrics(suite.Name, requirement.Confidence)));
            }
            else
            {
                // Ranked only on the whole suite: a model with errored or missing items would rank on a subset.
                var coverages = modelOrder
                    .Where(id => itemsByModelSuite.ContainsKey((id, suite.Name)))
                    .ToDictionary(id => id, id => Coverage.Of(itemsByModelSuite[(id, suite.Name)], suite.ItemCount), StringComparer.Ordinal);
                var suiteItems = items
                    .Where(i => i.Key.Suite == suite.Name && coverages.TryGetValue(i.Key.ModelId, out var c) && c.IsComplete)
                    .ToArray();
                var rows = VerdictCalculator.Rank(suite.Name, suiteItems)
                    .Select(s => new OpenSuiteRow(
                        s.Rank, s.ModelId, s.Score, Summarize(itemsByModelSuite[(s.ModelId, suite.Name)]), PeakMemory(s.ModelId),
                        EnergySummary.Summarize(itemsByModelSuite[(s.ModelId, suite.Name)].ToArray(), VerdictCalculator.OpenSuiteConfidence),
                        coverages[s.ModelId]))
                    .ToImmutableArray();
                ImmutableArray<OpenSuiteExclusion> unranked = [.. coverages
                    .Where(c => !c.Value.IsComplete)
                    .OrderBy(c => modelOrder.IndexOf(c.Key))
                    .Select(c => Exclusion(c.Key, c.Value, itemsByModelSuite[(c.Key, suite.Name)]))];
                openSuites.Add(new OpenSuiteReport(suite.Name, suite.Version, suite.ItemCount, rows, judged.GetValueOrDefault(suite.Name), unranked,
                    Metrics(suite.Name, VerdictCalculator.OpenSuiteConfidence)));
            }
        }

        // Families by the lineage harness quantize records; a family needs two rungs to be a ladder.
        var summaryById = summaries.ToDictionary(m => m.ModelId, StringComparer.Ordinal);
        var families = manifest.Models
            .Where(m => m.Entry.Metadata.ContainsKey("base_model"))
            .GroupBy(m => m.Entry.Metadata["base_model"], StringComparer.Ordinal)
            .Where(g => g.Count() >= 2)
            .Select(g =>
            {
                var ids = g.Select(m => m.Entry.Id).ToArray();
                return new QuantizationFamily(g.Key, [.. fixedSuites
                    .Where(s => s.Rows.Count(r => ids.Contains(r.ModelId)) >= 2)
                    .Select(s => ComparisonReportBuilder.Ladder(s, ids, summaryById))
                    // A suite the whole family fails says nothing about quantization; it stays in the verdict tables.
                    .Where(l => l.Rungs.Any(r => r.Verdict != VerdictKind.Insufficient))]);
            })
            .Where(f => !f.Ladders.IsEmpty)
            .ToImmutableArray();

        var comparison = manifest.Comparison is { } plan
            ? ComparisonReportBuilder.Build(plan, manifest, summaries, fixedSuites, items, drift ?? [], perplexity ?? [], driftAbsences)
            : null;
        // Only the manifest's models: the analysis ranks and pairs what the tables show.
        var analysis = FrontierAnalyzer.Analyze(
            summaries, fixedSuites, openSuites, [.. items.Where(i => modelOrder.Contains(i.Key.ModelId))]);
        // A ladder and the Answer may name different models for a suite; the ladder then says why.
        QuantizationLadder Reconcile(QuantizationLadder ladder) => ladder with
        {
            AnswerNote = LadderNote(ladder, fixedSuites.First(s => s.Suite == ladder.Suite), summaries, analysis),
        };
        families = [.. families.Select(f => f with { Ladders = [.. f.Ladders.Select(Reconcile)] })];
        if (comparison is not null)
        {
            comparison = comparison with { Ladders = [.. comparison.Ladders.Select(Reconcile)] };
        }

        return new RunReport(
            RunReport.CurrentSchemaVersion,
            manifest.RunId,
            manifest.CreatedAt,
            manifest.Host,
            manifest.Versions,
            summaries,
            fixedSuites.ToImmutable(),
            openSuites.ToImmutable(),
            comparison,
            manifest.Energy,
            analysis,
            families.IsEmpty ? null : new QuantizationFamilies(families),
            manifest.Contention,
            merge?.Machines);
    }

    private static string? LadderNote(
        QuantizationLadder ladder, FixedSuiteReport suite, IReadOnlyList<ModelSummary> models, FrontierAnalysis analysis)
    {
        string? answer = analysis.Cheapest.FirstOrDefault(c => c.Suite == ladder.Suite)?.ModelId;
        if (answer is null || ladder.CheapestSufficientModelId is not { } smallest || answer == smallest)
        {
            return null;
        }

        string where = ladder.Rungs.Any(r => r.ModelId == answer) ? "" : " (not in this ladder)";
        string why = FrontierAnalyzer.Explain(suite, models, answer, smallest) is { } explained
            ? explained.Decision
            : "it comes first by the cheapest-sufficient rule";
        return $"The Answer names {answer}{where} for {ladder.Suite}, not {smallest}: {why}.";
    }

    // A resumed model's items ran in several invocations, each with its own window: the busiest one speaks for all,
    // since its items sit among the others in every percentile.
    private static ModelContention? Busiest(IReadOnlyList<ModelRunRecord> models, string modelId) =>
        models
            .Where(r => r.ModelId == modelId && r.Contention is not null)
            .Select(r => r.Contention!)
            .Reverse() // the newest first among equals
            .OrderByDescending(c => Math.Max(c.OtherProcessesShare ?? 0, c.StealShare ?? 0))
            .FirstOrDefault();
    private static OpenSuiteExclusion Exclusion(string modelId, Coverage coverage, IReadOnlyCollection<ItemRecord> items)
    {
        double[] answers = [.. items.Where(Coverage.IsAnswer).Select(VerdictCalculator.PrimaryValue)];
        var reasons = VerdictCalculator.ErrorReasons(coverage).ToBuilder();
        if (coverage.Missing > 0)
        {
            reasons.Add(ReportText.Inv(
                $"{coverage.Missing} of {coverage.Total} items were never recorded (crashed, cancelled or not reached): `harness run --resume` evaluates them"));
        }

        return new OpenSuiteExclusion(
            modelId, coverage,
            answers.Length == 0 ? null : Estimators.MeanWithTInterval(answers, VerdictCalculator.OpenSuiteConfidence, 0, 1),
            reasons.ToImmutable());
    }

    /// <summary>Latency percentiles and mean rates over scored items; rates only from items whose phase took time.</summary>
    public static PerformanceSummary Summarize(IReadOnlyCollection<ItemRecord> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        ItemRecord[] scored = items.Where(i => i.Status == ItemStatus.Scored).ToArray();
        if (scored.Length == 0)
        {
            return new PerformanceSummary(null, null, null, null, null);
        }

        TimeSpan[] totals = scored.Select(i => i.Metrics.Timings.Total).ToArray();
        double[] generation = scored
            .Where(i => i.Metrics.Timings.Generation > TimeSpan.Zero)
            .Select(i => i.Metrics.GenerationTokensPerSecond)
            .ToArray();
        double[] prompt = scored
            .Where(i => i.Metrics.Timings.PromptEvaluation > TimeSpan.Zero)
            .Select(i => i.Metrics.PromptTokensPerSecond)
            .ToArray();
        double meanTtftTicks = scored.Average(i => (double)i.Metrics.Timings.TimeToFirstToken.Ticks);

        return new PerformanceSummary(
            Estimators.Quantile(totals, 0.50),
            Estimators.Quantile(totals, 0.95),
            generation.Length == 0 ? null : generation.Average(),
            prompt.Length == 0 ? null : prompt.Average(),
            TimeSpan.FromTicks((long)Math.Round(meanTtftTicks, MidpointRounding.AwayFromZero)));
    }
}
