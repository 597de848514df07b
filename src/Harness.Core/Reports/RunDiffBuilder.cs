using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Energy;
using Harness.Core.Judging;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

namespace Harness.Core.Reports;

/// <summary>Builds a <see cref="RunDiff"/> from two runs' manifests and items. Pure: same inputs, same diff.</summary>
public static class RunDiffBuilder
{
    public const int BootstrapResamples = 10_000;
    public const int BootstrapSeed = 20_260_101;
    public const int FlipListLimit = 20;

    /// <param name="judgementsA">Run A's judge verdicts; its judged suites' placeholder scores are replaced by them
    /// (<see cref="JudgementOverlay"/>), exactly as in run A's own report. Null: none.</param>
    /// <param name="judgementsB">The same for run B.</param>
    public static RunDiff Build(
        RunManifest manifestA,
        IReadOnlyList<ItemRecord> itemsA,
        RunManifest manifestB,
        IReadOnlyList<ItemRecord> itemsB,
        IReadOnlyList<JudgementRecord>? judgementsA = null,
        IReadOnlyList<JudgementRecord>? judgementsB = null)
    {
        ArgumentNullException.ThrowIfNull(manifestA);
        ArgumentNullException.ThrowIfNull(itemsA);
        ArgumentNullException.ThrowIfNull(manifestB);
        ArgumentNullException.ThrowIfNull(itemsB);
        // Each run's items read with its own judge's verdicts, as its single-run report does.
        (itemsA, _) = JudgementOverlay.Apply(manifestA.Suites, itemsA, judgementsA ?? []);
        (itemsB, _) = JudgementOverlay.Apply(manifestB.Suites, itemsB, judgementsB ?? []);

        var byKeyA = Index(itemsA);
        var byKeyB = Index(itemsB);
        var onlyA = byKeyA.Keys.Where(k => !byKeyB.ContainsKey(k)).ToList();
        var onlyB = byKeyB.Keys.Where(k => !byKeyA.ContainsKey(k)).ToList();
        var unpaired = onlyA.Select(k => (k.ModelId, k.Suite, A: 1, B: 0))
            .Concat(onlyB.Select(k => (k.ModelId, k.Suite, A: 0, B: 1)))
            .GroupBy(u => (u.ModelId, u.Suite))
            .Select(g => new UnpairedItems(g.Key.ModelId, g.Key.Suite, g.Sum(u => u.A), g.Sum(u => u.B)))
            .OrderBy(u => u.ModelId, StringComparer.Ordinal)
            .ThenBy(u => u.Suite, StringComparer.Ordinal)
            .ToImmutableArray();

        var pairsByGroup = byKeyA
            .Where(a => byKeyB.ContainsKey(a.Key))
            .Select(a => (A: a.Value, B: byKeyB[a.Key]))
            .GroupBy(p => (p.A.Key.ModelId, p.A.Key.Suite))
            .ToDictionary(g => g.Key, g => g.OrderBy(p => p.A.Key.ItemId, StringComparer.Ordinal).ToList());

        // Run B's manifest order (the newer run, usually), then run A's for anything B did not plan.
        var modelOrder = manifestB.Models.Select(m => m.Entry.Id).Concat(manifestA.Models.Select(m => m.Entry.Id)).Distinct(StringComparer.Ordinal).ToList();
        var suiteOrder = manifestB.Suites.Select(s => s.Name).Concat(manifestA.Suites.Select(s => s.Name)).Distinct(StringComparer.Ordinal).ToList();
        static int Position(List<string> order, string name) => order.IndexOf(name) is >= 0 and var i ? i : int.MaxValue;

        var suitesB = manifestB.Suites.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var suitesA = manifestA.Suites.ToDictionary(s => s.Name, StringComparer.Ordinal);
        var suites = pairsByGroup
            .OrderBy(g => Position(modelOrder, g.Key.ModelId)).ThenBy(g => g.Key.ModelId, StringComparer.Ordinal)
            .ThenBy(g => Position(suiteOrder, g.Key.Suite)).ThenBy(g => g.Key.Suite, StringComparer.Ordinal)
            .Select(g => Diff(g.Key.ModelId, g.Key.Suite, suitesB.GetValueOrDefault(g.Key.Suite) ?? suitesA.GetValueOrDefault(g.Key.Suite), g.Value))
            .ToImmutableArray();

        return new RunDiff(
            RunDiff.CurrentSchemaVersion,
            Side(manifestA),
            Side(manifestB),
            Warnings(manifestA, manifestB),
            suites.Sum(s => s.PairedItems),
            onlyA.Count,
            onlyB.Count,
            unpaired,
            suites,
            BootstrapResamples,
            BootstrapSeed,
            FlipListLimit);
    }

    // The newest record per key wins, as in the store; a caller may pass a history with repeats.
    private static Dictionary<ItemKey, ItemRecord> Index(IReadOnlyList<ItemRecord> items)
    {
        var index = new Dictionary<ItemKey, ItemRecord>();
        foreach (var item in items)
        {
            index[item.Key] = item;
        }

        return index;
    }

    private static RunDiffSide Side(RunManifest manifest) =>
        new(manifest.RunId, manifest.CreatedAt, manifest.Host.CpuModel, manifest.Host.LogicalCores, manifest.Host.HostName, EnergySource(manifest));

    private static string? EnergySource(RunManifest manifest) =>
        manifest.Energy is { } plan ? string.Join('+', plan.Selected.Order(StringComparer.Ordinal)) : null;

    private static ImmutableArray<RunDiffWarning> Warnings(RunManifest a, RunManifest b)
    {
        var warnings = ImmutableArray.CreateBuilder<RunDiffWarning>();
        var suitesA = a.Suites.ToDictionary(s => s.Name, StringComparer.Ordinal);
        foreach (var suiteB in b.Suites)
        {
            if (!suitesA.TryGetValue(suiteB.Name, out var suiteA))
            {
                continue;
            }

            if (suiteA.Version != suiteB.Version)
            {
                warnings.Add(new RunDiffWarning(RunDiffWarningKind.SuiteVersion, null, suiteB.Name, Inv(
                    $"suite {suiteB.Name}: version {suiteA.Version} in A, {suiteB.Version} in B; items with the same id may not be the same question")));
            }
            else if (!string.Equals(suiteA.ContentSha256, suiteB.ContentSha256, StringComparison.OrdinalIgnoreCase))
            {
                // Under a new version the content is expected to change; the version warning already says it.
                warnings.Add(new RunDiffWarning(RunDiffWarningKind.SuiteContent, null, suiteB.Name,
                    $"suite {suiteB.Name}: same version, different content (sha256 {Short(suiteA.ContentSha256)} in A, {Short(suiteB.ContentSha256)} in B)"));
            }
        }

        var modelsA = a.Models.ToDictionary(m => m.Entry.Id, StringComparer.Ordinal);
        foreach (var modelB in b.Models)
        {
            if (modelsA.TryGetValue(modelB.Entry.Id, out var modelA)
                && !string.Equals(modelA.FileSha256, modelB.FileSha256, StringComparison.OrdinalIgnoreCase))
            {
                warnings.Add(new RunDiffWarning(RunDiffWarningKind.ModelFile, modelB.Entry.Id, null,
                    $"model {modelB.Entry.Id}: a different file under the same id (sha256 {Short(modelA.FileSha256)} in A, {Short(modelB.FileSha256)} in B)"));
            }
        }

        if (!string.Equals(a.Host.CpuModel, b.Host.CpuModel, StringComparison.Ordinal) || a.Host.LogicalCores != b.Host.LogicalCores)
        {
            warnings.Add(new RunDiffWarning(RunDiffWarningKind.Host, null, null, Inv(
                $"host differs: {a.Host.CpuModel}, {a.Host.LogicalCores} logical cores in A; {b.Host.CpuModel}, {b.Host.LogicalCores} in B; latency and energy are not like for like")));
        }

        string? energyA = EnergySource(a), energyB = EnergySource(b);
        if (!string.Equals(energyA, energyB, StringComparison.Ordinal))
        {
            warnings.Add(new RunDiffWarning(RunDiffWarningKind.EnergySource, null, null,
                $"energy source differs: {energyA ?? "none"} in A, {energyB ?? "none"} in B"));
        }

        return warnings.ToImmutable();
    }

    private static SuiteDiff Diff(string modelId, string suiteName, RunSuite? suite, List<(ItemRecord A, ItemRecord B)> pairs)
    {
        // A suite missing from both manifests cannot happen for stored items; treat it as fixed at the default confidence.
        var kind = suite?.Kind ?? SuiteKind.Fixed;
        double confidence = suite?.Requirement?.Confidence ?? VerdictCalculator.OpenSuiteConfidence;
        var counts = PairedCounts.From(pairs.Select(p => (VerdictCalculator.IsPass(p.A), VerdictCalculator.IsPass(p.B))));
        var passRate = PairedTests.ComparePassRates(counts, confidence);
        var score = kind == SuiteKind.Open
            ? PairedTests.CompareMeans(
                [.. pairs.Select(p => VerdictCalculator.PrimaryValue(p.A))],
                [.. pairs.Select(p => VerdictCalculator.PrimaryValue(p.B))],
                VerdictCalculator.OpenSuiteConfidence, BootstrapResamples, BootstrapSeed)
            : null;

        ImmutableArray<string> Flips(bool passedInA) =>
            [.. pairs.Where(p => VerdictCalculator.IsPass(p.A) == passedInA && VerdictCalculator.IsPass(p.B) != passedInA)
                .Select(p => p.A.Key.ItemId).Take(FlipListLimit)];

        var sideA = pairs.Select(p => p.A).ToArray();
        var sideB = pairs.Select(p => p.B).ToArray();
        return new SuiteDiff(
            modelId,
            suiteName,
            kind,
            pairs.Count,
            (double)(counts.BothPassed + counts.OnlyBasePassed) / counts.Items,
            (double)(counts.BothPassed + counts.OnlyCandidatePassed) / counts.Items,
            passRate,
            score,
            pairs.Count(p => !string.Equals(p.A.RawOutput, p.B.RawOutput, StringComparison.Ordinal)),
            Flips(passedInA: true),
            Flips(passedInA: false),
            Latency(RunReportBuilder.Summarize(sideA), RunReportBuilder.Summarize(sideB)),
            Energy(EnergySummary.Summarize(sideA, confidence), EnergySummary.Summarize(sideB, confidence)));
    }

    private static LatencyChange Latency(PerformanceSummary a, PerformanceSummary b)
    {
        static double? Ratio(TimeSpan? x, TimeSpan? y) => x is { } ax && ax > TimeSpan.Zero && y is { } by ? by / ax : null;
        return new LatencyChange(a.P50Latency, b.P50Latency, Ratio(a.P50Latency, b.P50Latency), a.P95Latency, b.P95Latency, Ratio(a.P95Latency, b.P95Latency));
    }

    private static EnergyChange? Energy(EnergySummary? a, EnergySummary? b)
    {
        if (a is null && b is null)
        {
            return null;
        }

        double? meanA = a?.JoulesPerItem.Mean, meanB = b?.JoulesPerItem.Mean;
        // A ratio of an estimate to a measurement would mostly measure the estimate's error, so none is given.
        double? ratio = a is not null && b is not null && a.Quality == b.Quality && meanA > 0 ? meanB / meanA : null;
        return new EnergyChange(
            meanA, a?.Source, a?.Quality, meanB, b?.Source, b?.Quality, ratio,
            a?.Quality == EnergyQuality.Estimated || b?.Quality == EnergyQuality.Estimated);
    }

    private static string Short(string sha256) => sha256.Length > 12 ? sha256[..12] + "…" : sha256;

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
