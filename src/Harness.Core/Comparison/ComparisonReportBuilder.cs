using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Energy;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

namespace Harness.Core.Comparison;

/// <summary>Builds the comparison section from stored records only. Pure: same inputs, same section.</summary>
public static class ComparisonReportBuilder
{
    /// <summary>Resamples of the paired bootstrap for graded scores; with the fixed seed the interval is reproducible.</summary>
    public const int BootstrapResamples = 10_000;

    public const int BootstrapSeed = 20_260_101;

    /// <summary>Flipped (and text-changed) item ids listed per candidate and suite in report.json; the counts are always whole.</summary>
    public const int FlipListLimit = 100;

    /// <summary>An open suite's primary scores differ (a flip) when they differ by more than this.</summary>
    public const double ScoreTolerance = 1e-9;

    public static ComparisonReport Build(
        ComparisonPlan plan,
        RunManifest manifest,
        IReadOnlyList<ModelSummary> models,
        IReadOnlyList<FixedSuiteReport> fixedSuites,
        IReadOnlyList<ItemRecord> items,
        IReadOnlyList<DriftRecord> drift,
        IReadOnlyList<PerplexityRecord> perplexity,
        IReadOnlyList<DriftAbsence>? driftAbsences = null)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(manifest);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(fixedSuites);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(drift);
        ArgumentNullException.ThrowIfNull(perplexity);

        var byKey = items.ToDictionary(i => i.Key);
        var summaries = models.ToDictionary(m => m.ModelId, StringComparer.Ordinal);
        var figures = perplexity
            .Where(p => p.ReferenceSha256 == plan.ReferenceSha256)
            .GroupBy(p => p.ModelId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var basePerplexity = figures.TryGetValue(plan.BaseModelId, out var bp) ? Figure(bp) : null;
        long baseSize = summaries.TryGetValue(plan.BaseModelId, out var baseSummary) ? baseSummary.FileSizeBytes : 0;
        var absent = (driftAbsences ?? [])
            .Where(a => a.BaseModelId == plan.BaseModelId)
            .GroupBy(a => a.CandidateModelId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.Last().Reason, StringComparer.Ordinal);

        var candidates = ImmutableArray.CreateBuilder<CandidateComparison>();
        foreach (var candidateId in plan.CandidateModelIds)
        {
            summaries.TryGetValue(candidateId, out var summary);
            var paired = manifest.Suites
                .Select(s => (Suite: s, Pairs: Pairs(s, plan.BaseModelId, candidateId, byKey)))
                .Where(p => p.Pairs.Count > 0)
                .ToList();
            var quality = paired.Select(p => QualityDelta(p.Suite, p.Pairs)).ToImmutableArray();
            var flips = paired.Select(p => Flips(p.Suite, p.Pairs)).ToImmutableArray();
            var own = drift.Where(d => d.CandidateModelId == candidateId && d.BaseModelId == plan.BaseModelId).ToList();
            var bySuite = own
                .GroupBy(d => d.Suite, StringComparer.Ordinal)
                .Select(g => new SuiteDrift(g.Key, Summarize(g.ToList())!))
                .Where(s => s.Drift is not null)
                .ToImmutableArray();
            var candidatePerplexity = figures.TryGetValue(candidateId, out var cp) ? Figure(cp) : null;
            candidates.Add(new CandidateComparison(
                candidateId,
                summary?.FileSizeBytes ?? 0,
                baseSize > 0 && summary is { Served: false } ? (double)summary.FileSizeBytes / baseSize : null,
                quality,
                Summarize(own),
                bySuite,
                candidatePerplexity,
                basePerplexity is not null && candidatePerplexity is not null ? candidatePerplexity.Perplexity / basePerplexity.Perplexity : null,
                Cost(plan.BaseModelId, candidateId, fixedSuites, summaries, paired.SelectMany(p => p.Pairs).ToList(),
                    manifest.Suites.Where(s => s.Request == RequestKind.Generate).Select(s => s.Name).ToHashSet(StringComparer.Ordinal)),
                flips,
                absent.TryGetValue(candidateId, out var why) ? why : null));
        }

        ImmutableArray<CandidateComparison> adjusted = HolmAcrossTheReport(candidates.ToImmutable());
        // Manifest order, the last tie-break of the ladder as of the Answer.
        var ladderModels = manifest.Models
            .Select(m => m.Entry.Id)
            .Where(id => id == plan.BaseModelId || plan.CandidateModelIds.Contains(id))
            .ToArray();
        var ladders = fixedSuites
            .Select(s => Ladder(s, ladderModels, summaries))
            .ToImmutableArray();
        string ladderOrder = ladders.All(l => l.Order == LadderOrder.FileSize)
            ? "Ladder cost order is file size"
            : ladders.All(l => l.Order == LadderOrder.P95Latency)
                ? "Ladder cost order is p95 latency, then manifest order: the files are the same size or some model has none (a served model), so file size decides nothing"
                : "Ladder cost order is file size where the files differ, else p95 latency, then manifest order (files of the same size, or a model without one)";

        var notes = ImmutableArray.Create(
            string.Create(CultureInfo.InvariantCulture,
                $"Drift is measured on each item's rendered prompt followed by the base's answer, over the base's top {plan.TopK} tokens per position plus one pooled bin for the rest: a lower bound of the full-vocabulary KL, exact when {plan.TopK} covers the vocabulary."),
            "Quality deltas pair items: exact McNemar and Newcombe's paired interval for pass/fail suites, a paired percentile bootstrap for graded scores.",
            string.Create(CultureInfo.InvariantCulture,
                $"Each p is shown raw and Holm-adjusted over the {adjusted.Sum(c => c.Quality.Count(q => q.RawPValue() is not null))} quality tests of this comparison (every candidate × suite): calling a difference real only where the adjusted p is at most 0.05 keeps the chance of any false call among them at most 5%. The intervals are not adjusted; each holds on its own."),
            manifest.Energy is { } energy && energy.Selected.Contains("estimate")
                ? ladderOrder + ". J/item here is estimated from CPU time (no energy meter was usable), so no rung is ranked by joules."
                : ladderOrder + "; J/item beside each rung is measured (see the energy tables for sources and uncertainty).");
        notes = notes.AddRange(adjusted.Where(c => c.NoDrift is not null).Select(c => $"{c.ModelId}: {ComparisonText.NoDriftLine(c.NoDrift!)}."));
        return new ComparisonReport(plan.BaseModelId, plan.TopK, plan.ReferencePath, plan.ReferenceSha256, basePerplexity,
            adjusted, ladders, notes);
    }

    /// <summary>
    /// Holm's adjustment over every quality p of the report: one test per candidate and suite, so with many of them
    /// some would fall under 0.05 by chance alone.
    /// </summary>
    private static ImmutableArray<CandidateComparison> HolmAcrossTheReport(ImmutableArray<CandidateComparison> candidates)
    {
        double[] raw = [.. candidates.SelectMany(c => c.Quality).Select(q => q.RawPValue()).OfType<double>()];
        double[] holm = MultipleComparisons.HolmAdjust(raw);
        int next = 0;
        return [.. candidates.Select(c => c with
        {
            Quality = [.. c.Quality.Select(q => q.RawPValue() is null ? q : q with { AdjustedPValue = holm[next++] })],
        })];
    }

    /// <summary>Drift over all positions of the given records; null when none has a measured position.</summary>
    public static DriftSummary? Summarize(IReadOnlyCollection<DriftRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var measured = records.Where(r => r.Error is null && r.Positions > 0).ToList();
        if (measured.Count == 0)
        {
            return null;
        }

        var kl = measured.SelectMany(r => r.KlDivergence).Select(v => (double)v).ToArray();
        var deltaP = measured.SelectMany(r => r.DeltaP).Select(v => (double)v).ToArray();
        return new DriftSummary(
            measured.Count,
            records.Count(r => r.Error is not null),
            kl.Length,
            kl.Average(),
            Estimators.Quantile(kl, 0.99),
            (double)measured.Sum(r => r.TopTokenAgreements) / kl.Length,
            deltaP.Average(),
            Math.Sqrt(deltaP.Average(d => d * d)));
    }

    /// <summary>The items of <paramref name="suite"/> recorded for both models, in ordinal id order.</summary>
    private static List<(ItemRecord Base, ItemRecord Candidate)> Pairs(RunSuite suite, string baseId, string candidateId, Dictionary<ItemKey, ItemRecord> items) =>
        items.Values
            .Where(i => i.Key.ModelId == baseId && i.Key.Suite == suite.Name)
            .Select(b => (Base: b, Candidate: items.GetValueOrDefault(b.Key with { ModelId = candidateId })))
            .Where(p => p.Candidate is not null)
            .Select(p => (p.Base, p.Candidate!))
            .OrderBy(p => p.Base.Key.ItemId, StringComparer.Ordinal)
            .ToList();

    private static SuiteQualityDelta QualityDelta(RunSuite suite, List<(ItemRecord Base, ItemRecord Candidate)> pairs)
    {
        if (suite.Kind == SuiteKind.Fixed)
        {
            double confidence = suite.Requirement?.Confidence ?? VerdictCalculator.OpenSuiteConfidence;
            var counts = PairedCounts.From(pairs.Select(p => (VerdictCalculator.IsPass(p.Base), VerdictCalculator.IsPass(p.Candidate))));
            return new SuiteQualityDelta(suite.Name, suite.Kind, pairs.Count, PairedTests.ComparePassRates(counts, confidence), null);
        }

        var comparison = PairedTests.CompareMeans(
            pairs.Select(p => VerdictCalculator.PrimaryValue(p.Base)).ToArray(),
            pairs.Select(p => VerdictCalculator.PrimaryValue(p.Candidate)).ToArray(),
            VerdictCalculator.OpenSuiteConfidence, BootstrapResamples, BootstrapSeed);
        return new SuiteQualityDelta(suite.Name, suite.Kind, pairs.Count, null, comparison);
    }

    /// <summary>
    /// The paired items whose outcome differs (pass against fail; an open suite's primary score beyond
    /// <see cref="ScoreTolerance"/>), and on a generate suite the items with the same outcome whose text differs.
    /// </summary>
    private static SuiteFlips Flips(RunSuite suite, List<(ItemRecord Base, ItemRecord Candidate)> pairs)
    {
        bool Flipped((ItemRecord Base, ItemRecord Candidate) p) => suite.Kind == SuiteKind.Fixed
            ? VerdictCalculator.IsPass(p.Base) != VerdictCalculator.IsPass(p.Candidate)
            : Math.Abs(VerdictCalculator.PrimaryValue(p.Base) - VerdictCalculator.PrimaryValue(p.Candidate)) > ScoreTolerance;

        var flipped = pairs.Where(Flipped).ToList();
        // A log-likelihood item's output is the chosen option: a different choice with the same outcome is no news.
        var textChanged = suite.Request == RequestKind.Generate
            ? pairs.Where(p => !Flipped(p) && !SameText(p.Base, p.Candidate)).ToList()
            : [];
        return new SuiteFlips(
            suite.Name,
            pairs.Count,
            flipped.Count,
            [.. flipped.Take(FlipListLimit).Select(p => new ItemFlip(p.Base.Key.ItemId, Outcome(suite, p.Base), Outcome(suite, p.Candidate)))],
            textChanged.Count,
            [.. textChanged.Take(FlipListLimit).Select(p => p.Base.Key.ItemId)]);
    }

    // Every turn of a multi-turn item, not only the last one that RawOutput holds.
    private static bool SameText(ItemRecord a, ItemRecord b) =>
        string.Equals(a.RawOutput, b.RawOutput, StringComparison.Ordinal)
        && (a.Turns ?? []).Select(t => t.Output).SequenceEqual((b.Turns ?? []).Select(t => t.Output), StringComparer.Ordinal);

    private static string Outcome(RunSuite suite, ItemRecord item)
    {
        if (item.Status == ItemStatus.Failed)
        {
            return "error: " + (item.Failure is { } kind ? JsonNamingPolicy(kind) : "failed");
        }

        return suite.Kind == SuiteKind.Fixed
            ? item.Passed ? "pass" : "fail"
            : VerdictCalculator.PrimaryValue(item).ToString("0.0000", CultureInfo.InvariantCulture);
    }

    // The failure kind as report.json spells it (camelCase), so the two read the same.
    private static string JsonNamingPolicy(ItemFailureKind kind) => System.Text.Json.JsonNamingPolicy.CamelCase.ConvertName(kind.ToString());

    private static CostDelta Cost(
        string baseId, string candidateId, IReadOnlyList<FixedSuiteReport> fixedSuites, Dictionary<string, ModelSummary> models,
        List<(ItemRecord Base, ItemRecord Candidate)> pairs, HashSet<string> generateSuites)
    {
        // Latency and speed across every fixed suite's rows: the same items for both models.
        var baseRows = fixedSuites.SelectMany(s => s.Rows).Where(r => r.ModelId == baseId).ToList();
        var candidateRows = fixedSuites.SelectMany(s => s.Rows).Where(r => r.ModelId == candidateId).ToList();
        TimeSpan? MedianOfP50(List<FixedSuiteRow> rows)
        {
            var values = rows.Select(r => r.Performance.P50Latency).OfType<TimeSpan>().ToArray();
            return values.Length == 0 ? null : Estimators.Quantile(values, 0.5);
        }

        double? MeanSpeed(List<FixedSuiteRow> rows)
        {
            var values = rows.Select(r => r.Performance.MeanGenerationTokensPerSecond).OfType<double>().ToArray();
            return values.Length == 0 ? null : values.Average();
        }

        var baseLatency = MedianOfP50(baseRows);
        var candidateLatency = MedianOfP50(candidateRows);
        var baseSpeed = MeanSpeed(baseRows);
        var candidateSpeed = MeanSpeed(candidateRows);

        // Time to first token and prompt speed over the items both answered, every suite: the same items on both sides.
        var answered = pairs.Where(p => p.Base.Status == ItemStatus.Scored && p.Candidate.Status == ItemStatus.Scored).ToList();
        TimeSpan? MedianTtft(Func<(ItemRecord Base, ItemRecord Candidate), ItemRecord> side)
        {
            // A log-likelihood item generates nothing, so its first-token time is not one.
            var values = answered.Where(p => generateSuites.Contains(p.Base.Key.Suite)).Select(side)
                .Select(i => i.Metrics.Timings.TimeToFirstToken).Where(t => t > TimeSpan.Zero).ToArray();
            return values.Length == 0 ? null : Estimators.Quantile(values, 0.5);
        }

        double? MeanPromptSpeed(Func<(ItemRecord Base, ItemRecord Candidate), ItemRecord> side)
        {
            var values = answered.Select(side).Where(i => i.Metrics.Timings.PromptEvaluation > TimeSpan.Zero)
                .Select(i => i.Metrics.PromptTokensPerSecond).ToArray();
            return values.Length == 0 ? null : values.Average();
        }

        var baseTtft = MedianTtft(p => p.Base);
        var candidateTtft = MedianTtft(p => p.Candidate);
        var basePrompt = MeanPromptSpeed(p => p.Base);
        var candidatePrompt = MeanPromptSpeed(p => p.Candidate);

        // Energy as the energy tables read it (measured wins over estimated); only a meter's figure fills these fields.
        var baseEnergy = EnergySummary.Summarize([.. pairs.Select(p => p.Base)], VerdictCalculator.OpenSuiteConfidence);
        var candidateEnergy = EnergySummary.Summarize([.. pairs.Select(p => p.Candidate)], VerdictCalculator.OpenSuiteConfidence);
        double? baseJoules = baseEnergy is { Quality: EnergyQuality.Measured } b ? b.JoulesPerItem.Mean : null;
        double? candidateJoules = candidateEnergy is { Quality: EnergyQuality.Measured } c2 ? c2.JoulesPerItem.Mean : null;
        return new CostDelta(
            baseLatency,
            candidateLatency,
            baseLatency > TimeSpan.Zero && candidateLatency is { } c ? c / baseLatency.Value : null,
            baseSpeed,
            candidateSpeed,
            baseSpeed > 0 && candidateSpeed is { } s ? s / baseSpeed.Value : null,
            models.GetValueOrDefault(baseId)?.PeakResidentMemoryBytes,
            models.GetValueOrDefault(candidateId)?.PeakResidentMemoryBytes,
            baseJoules,
            candidateJoules,
            baseTtft,
            candidateTtft,
            baseTtft > TimeSpan.Zero && candidateTtft is { } t ? t / baseTtft.Value : null,
            basePrompt,
            candidatePrompt,
            basePrompt > 0 && candidatePrompt is { } pr ? pr / basePrompt.Value : null,
            baseJoules > 0 && candidateJoules is { } j ? j / baseJoules.Value : null,
            baseEnergy?.Quality == EnergyQuality.Estimated || candidateEnergy?.Quality == EnergyQuality.Estimated);
    }

    /// <summary>
    /// The rungs of <paramref name="modelIds"/> (in manifest order) on one fixed suite in cost order, with the first
    /// sufficient one. The order is the Answer's without energy: smallest file, then p95 latency, then manifest order;
    /// where the files are all the same size or some model has none (a served model), file size decides nothing and
    /// the ladder says it is ordered by p95 latency.
    /// </summary>
    internal static QuantizationLadder Ladder(FixedSuiteReport suite, string[] modelIds, Dictionary<string, ModelSummary> models)
    {
        // A served model has no file size (0 here): the ladder then orders by p95 latency, never by a size it lacks.
        var rungs = suite.Rows
            .Where(r => modelIds.Contains(r.ModelId))
            .Select(r =>
            {
                var summary = models.GetValueOrDefault(r.ModelId);
                long size = summary?.LocalFileSizeBytes ?? 0;
                return new LadderRung(
                    r.ModelId,
                    size,
                    BitsPerParameter(summary),
                    r.Verdict.Kind,
                    r.Verdict.PassRate?.Rate,
                    r.Verdict.PassRate?.Interval,
                    r.Verdict.JoulesPerItem,
                    r.Performance.P95Latency);
            })
            .ToList();
        var order = rungs.All(r => r.FileSizeBytes > 0) && rungs.Select(r => r.FileSizeBytes).Distinct().Count() > 1
            ? LadderOrder.FileSize
            : LadderOrder.P95Latency;
        ImmutableArray<LadderRung> sorted = [.. rungs
            .OrderBy(r => order == LadderOrder.FileSize ? r.FileSizeBytes : 0)
            .ThenBy(r => r.P95Latency ?? TimeSpan.MaxValue)
            .ThenBy(r => Array.IndexOf(modelIds, r.ModelId))];
        var cheapest = sorted.FirstOrDefault(r => r.Verdict == VerdictKind.Sufficient)?.ModelId;
        return new QuantizationLadder(suite.Suite, suite.Requirement, sorted, cheapest, Order: order);
    }

    private static double? BitsPerParameter(ModelSummary? summary)
    {
        if (summary?.LoadInfo?.EffectiveSettings.TryGetValue("model_parameters", out var text) == true
            && long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parameters) && parameters > 0)
        {
            return summary.FileSizeBytes * 8.0 / parameters;
        }

        return null;
    }

    private static PerplexityFigure Figure(PerplexityRecord record) => new(record.Perplexity, record.PredictedTokens, record.Documents);
}
