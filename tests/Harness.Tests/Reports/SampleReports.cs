using System.Collections.Immutable;
using Harness.Core.Comparison;
using Harness.Core.Energy;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

namespace Harness.Tests.Reports;

/// <summary>
/// A whole report built by hand, every section filled: a fixed suite with all three verdicts, an open suite with a
/// frontier, estimated energy, a quantization ladder and a failed model. Shared with the browser test (linked into
/// Harness.IntegrationTests), so both look at the same page.
/// </summary>
internal static class SampleReports
{
    public const string RunId = "2025-03-14T09-26-53-abc123";

    /// <param name="oddModelId">A fourth model with this id, insufficient on arith and last on stories.</param>
    /// <param name="withAnalysis">Fill <see cref="RunReport.Analysis"/>; without it the page falls back to the rows.</param>
    public static RunReport Build(string oddModelId = "odd-model", bool withAnalysis = true)
    {
        var arith = new Requirement(0.9, 0.95, TimeSpan.FromMilliseconds(500), null);
        FixedSuiteRow Fixed(string model, VerdictKind kind, int passed, int trials, double lower, double upper, double p95, double joules, string reason) =>
            new(model,
                new FixedSuiteVerdict(model, "arith", arith, kind, trials, passed,
                    new ProportionEstimate(passed, trials, (double)passed / trials, new Interval(lower, upper), 0.95),
                    (double)passed / trials, TimeSpan.FromMilliseconds(p95 / 2), TimeSpan.FromMilliseconds(p95), joules, [reason]),
                new PerformanceSummary(TimeSpan.FromMilliseconds(p95 / 2), TimeSpan.FromMilliseconds(p95), 850.5, 4000, TimeSpan.FromMilliseconds(3)),
                16_777_216,
                Energy(joules));
        OpenSuiteRow Open(int rank, string model, double mean, double lower, double upper, double p95, double joules) =>
            new(rank, model, new MeanEstimate(60, mean, 0.2, new Interval(lower, upper), 0.95),
                new PerformanceSummary(TimeSpan.FromMilliseconds(p95 / 2), TimeSpan.FromMilliseconds(p95), 900, 4200, TimeSpan.FromMilliseconds(2)),
                16_777_216, Energy(joules));

        var fixedSuite = new FixedSuiteReport("arith", 2, arith, 200,
        [
            Fixed("tiny-q4_0", VerdictKind.Sufficient, 194, 200, 0.936, 0.986, 41.5, 0.0123, "the 95% lower bound 93.6% clears the bar 90.0%"),
            Fixed("tiny-q8_0", VerdictKind.Sufficient, 196, 200, 0.950, 0.992, 52.25, 0.0151, "the 95% lower bound 95.0% clears the bar 90.0%"),
            Fixed("tiny-f16", VerdictKind.Undecided, 186, 200, 0.885, 0.958, 77.0, 0.0219, "the interval [88.5%, 95.8%] contains the bar 90.0%"),
            Fixed(oddModelId, VerdictKind.Insufficient, 120, 200, 0.531, 0.665, 30.0, 0.0081, "the 95% upper bound 66.5% is below the bar 90.0% & <b>wrong</b>"),
        ]);
        var openSuite = new OpenSuiteReport("stories", 1, 60,
        [
            Open(1, "tiny-f16", 0.712, 0.66, 0.76, 80, 0.0225),
            Open(2, "tiny-q8_0", 0.705, 0.65, 0.76, 55, 0.0153),
            Open(3, "tiny-q4_0", 0.641, 0.58, 0.70, 43, 0.0125),
            Open(4, oddModelId, 0.214, 0.16, 0.27, 31, 0.0082),
        ]);
        var plan = new EnergyPlan(
            [new EnergyMeterProbe("rapl", false, EnergyQuality.Measured, "CPU packages and DRAM", TimeSpan.FromMilliseconds(1), 61e-6,
                 "/sys/class/powercap not present (a VM)", "run on bare metal"),
             new EnergyMeterProbe("estimate", true, EnergyQuality.Estimated, "this process's CPU time", TimeSpan.FromMilliseconds(10), 0,
                 "CPU time × 10 W per core", null)],
            ["estimate"], new EnergyEstimateParameters(10, null), TimeSpan.FromMilliseconds(50), TimeSpan.FromSeconds(3),
            new PowerState(PowerSource.Unknown, null, null, null, null));
        var analysis = new FrontierAnalysis(
            [new FrontierSet("stories", "tiny-f16", 0.95, 2000, 1234,
            [
                new FrontierEntry("tiny-f16", 0.712, 0, null, true),
                new FrontierEntry("tiny-q8_0", 0.705, -0.007, new Interval(-0.031, 0.017), true),
                new FrontierEntry("tiny-q4_0", 0.641, -0.071, new Interval(-0.112, -0.030), false),
                new FrontierEntry(oddModelId, 0.214, -0.498, new Interval(-0.560, -0.430), false),
            ], 2.63, FrontierAnalyzer.FamilyWiseRule(0.95))],
            [.. fixedSuite.Rows.Select(r => new CostQualityPoint(r.ModelId, "arith", r.Verdict.PassRate!.Rate, r.Energy!.JoulesPerItem.Mean, true,
                 r.Performance.P95Latency, r.PeakResidentMemoryBytes, r.ModelId is "tiny-q4_0" or "tiny-q8_0" || r.ModelId == oddModelId)),
             .. openSuite.Rows.Select(r => new CostQualityPoint(r.ModelId, "stories", r.Score.Mean, r.Energy!.JoulesPerItem.Mean, true,
                 r.Performance.P95Latency, r.PeakResidentMemoryBytes, true))],
            [new CheapestSufficient("arith", "tiny-q4_0", FrontierAnalyzer.CostRule, null,
                Figures(fixedSuite.Rows[0], 45_056), Figures(fixedSuite.Rows[1], 81_920), CostDecider.FileSize,
                "energy cannot separate them (≈ J/item is estimated from CPU time, which never ranks); smallest file decides")],
            [
                new ModelStanding("tiny-q4_0", [], ["arith"], ["arith"]),
                new ModelStanding("tiny-q8_0", ["stories"], ["arith"], []),
                new ModelStanding("tiny-f16", ["stories"], [], []),
                new ModelStanding(oddModelId, [], [], []),
            ]);
        var ladder = new QuantizationLadder("arith", arith,
        [
            new LadderRung("tiny-q4_0", 45_056, 4.5, VerdictKind.Sufficient, 0.97, new Interval(0.936, 0.986), 0.0123),
            new LadderRung("tiny-q8_0", 81_920, 8.5, VerdictKind.Sufficient, 0.98, new Interval(0.950, 0.992), 0.0151),
            new LadderRung("tiny-f16", 155_648, 16, VerdictKind.Undecided, 0.93, new Interval(0.885, 0.958), 0.0219),
        ], "tiny-q4_0");
        var comparison = new ComparisonReport("tiny-f16", 10, "tasks/reference.txt", new string('e', 64), new PerplexityFigure(12.5, 4096, 8),
            [Candidate("tiny-q8_0", 81_920, -0.010, new Interval(-0.035, 0.014), 6, 4, 0.7539, 0.0012),
             Candidate("tiny-q4_0", 45_056, -0.045, new Interval(-0.081, -0.012), 13, 4, 0.0490, 0.0187)],
            [ladder], ["J/item is estimated from CPU time (≈), not measured."]);

        return new RunReport(
            RunReport.CurrentSchemaVersion,
            RunId,
            new DateTimeOffset(2025, 3, 14, 9, 26, 53, TimeSpan.FromHours(1)),
            new HostFacts("AMD EPYC 7763", ["avx2", "fma"], 2, 25_769_803_776, "Linux 6.1", "X64", "10.0.0", false, "ci-host"),
            ImmutableSortedDictionary.CreateRange(new Dictionary<string, string> { ["harness"] = "0.1.0", ["LLamaSharp"] = "0.30.0" }),
            [
                new ModelSummary("tiny-q4_0", ModelRunStatus.Completed, null, 16_777_216, 45_056, null, 260),
                new ModelSummary("tiny-q8_0", ModelRunStatus.Completed, null, 16_777_216, 81_920, null, 260),
                new ModelSummary("tiny-f16", ModelRunStatus.Completed, null, 16_777_216, 155_648, null, 260),
                new ModelSummary(oddModelId, ModelRunStatus.Completed, null, 16_777_216, 30_000, null, 260),
                new ModelSummary("small", ModelRunStatus.LoadFailed, null, null, 2_147_483_648, "small.gguf: bad magic", 0),
            ],
            [fixedSuite],
            [openSuite],
            comparison,
            plan,
            withAnalysis ? analysis : null);
    }

    /// <summary>
    /// Twelve models of nearly equal cost on one fixed and one open suite (one passes nothing, one everything), and a
    /// ladder of KiB-sized files: what makes chart labels collide and axes waste their space.
    /// </summary>
    public static RunReport Crowded()
    {
        var arith = new Requirement(0.9, 0.95, null, null);
        string[] ids = [.. Enumerable.Range(0, 12).Select(i => $"qwen2.5-0.5b-instruct-q{i % 4 + 3}_k_m-v{i}")];
        var passed = new[] { 200, 0, 199, 198, 196, 195, 190, 185, 180, 150, 197, 193 };
        var rows = ids.Select((id, i) =>
        {
            var rate = Estimators.Wilson(passed[i], 200, 0.95);
            var kind = rate.Interval.Lower >= 0.9 ? VerdictKind.Sufficient : rate.Interval.Upper < 0.9 ? VerdictKind.Insufficient : VerdictKind.Undecided;
            var joules = 0.0120 + (0.0001 * i);
            return new FixedSuiteRow(id,
                new FixedSuiteVerdict(id, "arith", arith, kind, 200, passed[i], rate, rate.Rate, TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40 + i), joules, ["crowded"]),
                new PerformanceSummary(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40 + i), 850, 4000, TimeSpan.FromMilliseconds(3)),
                16_777_216 + i, Energy(joules));
        }).ToImmutableArray();
        var fixedSuite = new FixedSuiteReport("arith", 2, arith, 200, rows);
        var openSuite = new OpenSuiteReport("stories", 1, 60, [.. ids.Select((id, i) =>
            new OpenSuiteRow(i + 1, id, new MeanEstimate(60, 0.7 - (0.004 * i), 0.2, new Interval(0.65 - (0.004 * i), 0.75 - (0.004 * i)), 0.95),
                new PerformanceSummary(TimeSpan.FromMilliseconds(20), TimeSpan.FromMilliseconds(40 + i), 900, 4200, TimeSpan.FromMilliseconds(2)),
                16_777_216, Energy(0.0150 - (0.0001 * i))))]);
        var points = rows.Select((r, i) => new CostQualityPoint(r.ModelId, "arith", r.Verdict.PassRate!.Rate, r.Energy!.JoulesPerItem.Mean, true,
                r.Performance.P95Latency, r.PeakResidentMemoryBytes, i is 0 or 2 or 5))
            .Concat(openSuite.Rows.Select(r => new CostQualityPoint(r.ModelId, "stories", r.Score.Mean, r.Energy!.JoulesPerItem.Mean, true,
                r.Performance.P95Latency, r.PeakResidentMemoryBytes, true)));
        var analysis = new FrontierAnalysis([], [.. points],
            [new CheapestSufficient("arith", ids[0], "lowest J/item; models whose J/item intervals overlap tie, then smallest file, then p95 latency")],
            [.. ids.Select(id => new ModelStanding(id, [], [], []))]);
        var ladder = new QuantizationLadder("arith", arith,
        [
            new LadderRung("tiny-arith-xs-q4_0", 45_056, 4.5, VerdictKind.Sufficient, 0.97, new Interval(0.936, 0.986), 0.0123),
            new LadderRung("tiny-arith-xs-q4_1", 48_128, 5.0, VerdictKind.Sufficient, 0.975, new Interval(0.94, 0.99), 0.0124),
            new LadderRung("tiny-arith-xs-q8_0", 81_920, 8.5, VerdictKind.Sufficient, 1.0, new Interval(0.981, 1.0), 0.0151),
            new LadderRung("tiny-arith-xs-f16", 155_648, 16, VerdictKind.Undecided, 0.93, new Interval(0.885, 0.958), 0.0219),
        ], "tiny-arith-xs-q4_0");
        var comparison = new ComparisonReport("tiny-arith-xs-f16", 10, "tasks/reference.txt", new string('e', 64), null, [], [ladder], []);
        return new RunReport(
            RunReport.CurrentSchemaVersion,
            RunId,
            new DateTimeOffset(2025, 3, 14, 9, 26, 53, TimeSpan.Zero),
            new HostFacts("AMD EPYC 7763", ["avx2"], 2, 25_769_803_776, "Linux 6.1", "X64", ".NET 10.0.12", false, "ci-host"),
            ImmutableSortedDictionary<string, string>.Empty,
            [.. ids.Select(id => new ModelSummary(id, ModelRunStatus.Completed, null, 16_777_216, 45_056, null, 260))],
            [fixedSuite],
            [openSuite],
            comparison,
            null,
            analysis);
    }

    private static AnswerFigures Figures(FixedSuiteRow row, long size) =>
        new(row.ModelId, row.Verdict.PassRate, row.Energy!.JoulesPerItem.Mean, row.Energy.CheckedInterval, true, false,
            row.Performance.P50Latency, row.Performance.P95Latency, size);

    // A candidate against tiny-f16: a pass-rate delta on arith (McNemar), a score delta on stories (bootstrap), drift.
    private static CandidateComparison Candidate(
        string id, long size, double difference, Interval interval, int lost, int gained, double p, double meanKl) =>
        new(id, size, size / 155_648.0,
        [
            new SuiteQualityDelta("arith", SuiteKind.Fixed, 200,
                new PairedProportionComparison(new PairedCounts(180, lost, gained, 20 - lost - gained), difference, interval, p, 0.95), null, Math.Min(1, p * 2)),
            new SuiteQualityDelta("stories", SuiteKind.Open, 60, null,
                new PairedMeanComparison(60, 0.712, 0.712 + difference, difference, interval, p, 0.95, 10_000, 20_260_101), Math.Min(1, p * 2)),
        ],
            new DriftSummary(260, 0, 5_200, meanKl, meanKl * 9, 0.97 - meanKl, -0.0004, 0.021),
            [new SuiteDrift("arith", new DriftSummary(200, 0, 4_000, meanKl * 0.8, meanKl * 7, 0.98 - meanKl, -0.0003, 0.019))],
            new PerplexityFigure(12.5 * (1 + meanKl), 4096, 8), 1 + meanKl,
            new CostDelta(TimeSpan.FromMilliseconds(38), TimeSpan.FromMilliseconds(21), 0.55, 850.5, 1200, 1.41, 16_777_216, 16_777_216, null, null),
            [
                new SuiteFlips("arith", 200, lost + gained,
                    [.. Enumerable.Range(0, lost + gained).Select(i => new ItemFlip($"q-{i:D3}", i < lost ? "pass" : "fail", i < lost ? "fail" : "pass"))], 0, []),
                new SuiteFlips("stories", 60, 0, [], 2, ["s-004", "s-017"]),
            ]);

    private static EnergySummary Energy(double joulesPerItem) =>
        new("estimate", EnergyQuality.Estimated, "this process's CPU time", 200, 200, false,
            new MeanEstimate(200, joulesPerItem, joulesPerItem / 10, new Interval(joulesPerItem * 0.95, joulesPerItem * 1.05), 0.95),
            null, joulesPerItem * 200, joulesPerItem / 8, null, null, null, 0, joulesPerItem * 1.1, [EnergyAttribution.Exclusive]);
}
