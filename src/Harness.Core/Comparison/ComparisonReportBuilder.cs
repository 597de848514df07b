using System.Collections.Immutable;
using System.Globalization;
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

    public static ComparisonReport Build(
        ComparisonPlan plan,
        RunManifest manifest,
        IReadOnlyList<ModelSummary> models,
        IReadOnlyList<FixedSuiteReport> fixedSuites,
        IReadOnlyList<ItemRecord> items,
        IReadOnlyList<DriftRecord> drift,
        IReadOnlyList<PerplexityRecord> perplexity)
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

        var candidates = ImmutableArray.CreateBuilder<CandidateComparison>();
        foreach (var candidateId in plan.CandidateModelIds)
        {
            summaries.TryGetValue(candidateId, out var summary);
            var quality = manifest.Suites
                .Select(s => QualityDelta(s, plan.BaseModelId, candidateId, byKey))
                .Where(q => q is not null)
                .Select(q => q!)
                .ToImmutableArray();
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
                Cost(plan.BaseModelId, candidateId, fixedSuites, summaries)));
        }

        ImmutableArray<CandidateComparison> adjusted = HolmAcrossTheReport(candidates.ToImmutable());
        var ladderModels = new[] { plan.BaseModelId }.Concat(plan.CandidateModelIds).ToArray();
        var ladders = fixedSuites
            .Select(s => Ladder(s, ladderModels, summaries))
            .ToImmutableArray();

        var notes = ImmutableArray.Create(
            string.Create(CultureInfo.InvariantCulture,
                $"Drift is measured on each item's rendered prompt followed by the base's answer, over the base's top {plan.TopK} tokens per position plus one pooled bin for the rest: a lower bound of the full-vocabulary KL, exact when {plan.TopK} covers the vocabulary."),
            "Quality deltas pair items: exact McNemar and Newcombe's paired interval for pass/fail suites, a paired percentile bootstrap for graded scores.",
            string.Create(CultureInfo.InvariantCulture,
                $"Each p is shown raw and Holm-adjusted over the {adjusted.Sum(c => c.Quality.Count(q => q.RawPValue() is not null))} quality tests of this comparison (every candidate × suite): calling a difference real only where the adjusted p is at most 0.05 keeps the chance of any false call among them at most 5%. The intervals are not adjusted; each holds on its own."),
            manifest.Energy is { } energy && energy.Selected.Contains("estimate")
                ? "Ladder cost order is file size. J/item here is estimated from CPU time (no energy meter was usable), so no rung is ranked by joules."
                : "Ladder cost order is file size; J/item beside each rung is measured (see the energy tables for sources and uncertainty).");
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

    private static SuiteQualityDelta? QualityDelta(RunSuite suite, string baseId, string candidateId, Dictionary<ItemKey, ItemRecord> items)
    {
        var pairs = items.Values
            .Where(i => i.Key.ModelId == baseId && i.Key.Suite == suite.Name)
            .Select(b => (Base: b, Candidate: items.GetValueOrDefault(b.Key with { ModelId = candidateId })))
            .Where(p => p.Candidate is not null)
            .OrderBy(p => p.Base.Key.ItemId, StringComparer.Ordinal)
            .ToList();
        if (pairs.Count == 0)
        {
            return null;
        }

        if (suite.Kind == SuiteKind.Fixed)
        {
            double confidence = suite.Requirement?.Confidence ?? VerdictCalculator.OpenSuiteConfidence;
            var counts = PairedCounts.From(pairs.Select(p => (VerdictCalculator.IsPass(p.Base), VerdictCalculator.IsPass(p.Candidate!))));
            return new SuiteQualityDelta(suite.Name, suite.Kind, pairs.Count, PairedTests.ComparePassRates(counts, confidence), null);
        }

        var comparison = PairedTests.CompareMeans(
            pairs.Select(p => VerdictCalculator.PrimaryValue(p.Base)).ToArray(),
            pairs.Select(p => VerdictCalculator.PrimaryValue(p.Candidate!)).ToArray(),
            VerdictCalculator.OpenSuiteConfidence, BootstrapResamples, BootstrapSeed);
        return new SuiteQualityDelta(suite.Name, suite.Kind, pairs.Count, null, comparison);
    }

    private static CostDelta Cost(string baseId, string candidateId, IReadOnlyList<FixedSuiteReport> fixedSuites, Dictionary<string, ModelSummary> models)
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
        return new CostDelta(
            baseLatency,
            candidateLatency,
            baseLatency > TimeSpan.Zero && candidateLatency is { } c ? c / baseLatency.Value : null,
            baseSpeed,
            candidateSpeed,
            baseSpeed > 0 && candidateSpeed is { } s ? s / baseSpeed.Value : null,
            models.GetValueOrDefault(baseId)?.PeakResidentMemoryBytes,
            models.GetValueOrDefault(candidateId)?.PeakResidentMemoryBytes,
            null,
            null);
    }

    /// <summary>The rungs of <paramref name="modelIds"/> on one fixed suite, smallest file first, with the smallest sufficient one.</summary>
    internal static QuantizationLadder Ladder(FixedSuiteReport suite, string[] modelIds, Dictionary<string, ModelSummary> models)
    {
        // A served model has no file size, so no place on a ladder of sizes.
        var rungs = suite.Rows
            .Where(r => modelIds.Contains(r.ModelId) && models.GetValueOrDefault(r.ModelId)?.Served != true)
            .Select(r =>
            {
                var summary = models.GetValueOrDefault(r.ModelId);
                long size = summary?.FileSizeBytes ?? 0;
                return new LadderRung(
                    r.ModelId,
                    size,
                    BitsPerParameter(summary),
                    r.Verdict.Kind,
                    r.Verdict.PassRate?.Rate,
                    r.Verdict.PassRate?.Interval,
                    r.Verdict.JoulesPerItem);
            })
            .OrderBy(r => r.FileSizeBytes)
            .ThenBy(r => r.ModelId, StringComparer.Ordinal)
            .ToImmutableArray();
        var cheapest = rungs.FirstOrDefault(r => r.Verdict == VerdictKind.Sufficient)?.ModelId;
        return new QuantizationLadder(suite.Suite, suite.Requirement, rungs, cheapest);
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
