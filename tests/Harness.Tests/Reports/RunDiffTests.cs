using System.Text;
using Harness.Core.Energy;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Tests.Serialization;

namespace Harness.Tests.Reports;

public class RunDiffTests
{
    private static RunManifest ManifestA => SampleRecords.Manifest() with { RunId = "run-a" };

    private static RunManifest ManifestB => SampleRecords.Manifest() with { RunId = "run-b" };

    // Ten arith items q0..q9 for model tiny; the set of ids that pass is given.
    private static List<ItemRecord> Arith(Func<int, bool> passes, int count = 10, double totalMs = 100) =>
        [.. Enumerable.Range(0, count).Select(i => SampleRecords.Item("tiny", "arith", $"q{i}", passes(i), totalMs: totalMs))];

    [Fact]
    public void Identical_runs_pair_every_item_with_no_flips_and_a_zero_difference()
    {
        var items = Arith(i => i < 7);

        var diff = RunDiffBuilder.Build(ManifestA, items, ManifestB, items);

        Assert.Empty(diff.Warnings);
        Assert.Equal(10, diff.PairedItems);
        Assert.Equal(0, diff.ItemsOnlyInA);
        Assert.Equal(0, diff.ItemsOnlyInB);
        var suite = Assert.Single(diff.Suites);
        Assert.Equal(("tiny", "arith", SuiteKind.Fixed), (suite.ModelId, suite.Suite, suite.Kind));
        Assert.Equal(0.7, suite.PassRateA, 12);
        Assert.Equal(0.7, suite.PassRateB, 12);
        Assert.Equal(0.0, suite.PassRate.Difference, 12);
        Assert.True(suite.PassRate.Interval.Contains(0.0));
        Assert.Equal(1.0, suite.PassRate.PValue);
        Assert.Empty(suite.PassToFail);
        Assert.Empty(suite.FailToPass);
        Assert.Equal(0, suite.OutputsChanged);
        Assert.Null(suite.Score);
        Assert.Equal(1.0, suite.Latency.P50Ratio);
        Assert.Equal(1.0, suite.Latency.P95Ratio);
        Assert.Null(suite.Energy);
    }

    // A passes q0..q5, B passes q1..q9: one flip pass→fail (q0), four fail→pass (q6..q9).
    // Exact McNemar by hand: n = b + c = 5, k = min(1, 4) = 1, P(X ≤ 1) = (C(5,0) + C(5,1)) / 2^5 = 6/32,
    // two-sided p = 2 · 6/32 = 0.375. Pass rates 0.6 → 0.9, difference +0.3.
    [Fact]
    public void Flips_both_ways_are_listed_and_tested_with_exact_McNemar()
    {
        var diff = RunDiffBuilder.Build(ManifestA, Arith(i => i < 6), ManifestB, Arith(i => i >= 1));

        var suite = Assert.Single(diff.Suites);
        Assert.Equal(0.6, suite.PassRateA, 12);
        Assert.Equal(0.9, suite.PassRateB, 12);
        Assert.Equal(0.3, suite.PassRate.Difference, 12);
        Assert.Equal(0.375, suite.PassRate.PValue, 12);
        Assert.Equal(new Harness.Core.Statistics.PairedCounts(5, 1, 4, 0), suite.PassRate.Counts);
        Assert.Equal("q0", Assert.Single(suite.PassToFail));
        Assert.Equal(["q6", "q7", "q8", "q9"], suite.FailToPass.ToArray());
        // The sample output is "3.5" when passed and "4" otherwise: exactly the five flipped items changed.
        Assert.Equal(5, suite.OutputsChanged);
        Assert.True(suite.PassRate.Interval.Lower < 0.3 && suite.PassRate.Interval.Upper > 0.3);
    }

    [Fact]
    public void Flip_lists_are_capped_but_counts_are_not()
    {
        var diff = RunDiffBuilder.Build(ManifestA, Arith(_ => true, count: 30), ManifestB, Arith(_ => false, count: 30));

        var suite = Assert.Single(diff.Suites);
        Assert.Equal(RunDiffBuilder.FlipListLimit, suite.PassToFail.Length);
        Assert.Equal(30, suite.PassRate.Counts.OnlyBasePassed);
        // Ordinal order of ids: q0, q1, q10, q11, ...
        Assert.Equal(["q0", "q1", "q10"], suite.PassToFail.Take(3));
        Assert.Contains("… and 10 more", RunDiffMarkdownWriter.Render(diff), StringComparison.Ordinal);
    }

    [Fact]
    public void Items_in_only_one_run_are_counted_and_left_out_of_the_figures()
    {
        var a = Arith(_ => true);
        var b = Arith(_ => true, count: 8);
        b.Add(SampleRecords.Item("tiny", "arith", "q10", passed: false));
        b.Add(SampleRecords.Item("small", "arith", "q0", passed: false));

        var diff = RunDiffBuilder.Build(ManifestA, a, ManifestB, b);

        Assert.Equal(8, diff.PairedItems);
        Assert.Equal(2, diff.ItemsOnlyInA);
        Assert.Equal(2, diff.ItemsOnlyInB);
        Assert.Equal(
            [new UnpairedItems("small", "arith", 0, 1), new UnpairedItems("tiny", "arith", 2, 1)],
            diff.Unpaired.ToArray());
        var suite = Assert.Single(diff.Suites);
        Assert.Equal(8, suite.PairedItems);
        Assert.Equal(1.0, suite.PassRateB);
        Assert.Contains("| tiny | arith | 2 | 1 |", RunDiffMarkdownWriter.Render(diff), StringComparison.Ordinal);
    }

    [Fact]
    public void A_changed_model_file_suite_version_suite_content_and_host_are_warnings_not_refusals()
    {
        var b = ManifestB with
        {
            Models = [.. ManifestB.Models.Select(m => m.Entry.Id == "tiny" ? m with { FileSha256 = new string('e', 64) } : m)],
            Suites = [.. ManifestB.Suites.Select(s => s.Name == "arith" ? s with { Version = 3 } : s with { ContentSha256 = new string('f', 64) })],
            Host = ManifestB.Host with { CpuModel = "Apple M3", LogicalCores = 8 },
        };

        var diff = RunDiffBuilder.Build(ManifestA, Arith(_ => true), b, Arith(_ => true));

        Assert.Equal(
            [RunDiffWarningKind.SuiteVersion, RunDiffWarningKind.SuiteContent, RunDiffWarningKind.ModelFile, RunDiffWarningKind.Host],
            diff.Warnings.Select(w => w.Kind));
        Assert.Equal("suite arith: version 2 in A, 3 in B; items with the same id may not be the same question", diff.Warnings[0].Message);
        Assert.Equal("stories", diff.Warnings[1].Suite);
        var model = diff.Warnings[2];
        Assert.Equal("tiny", model.ModelId);
        Assert.Equal("model tiny: a different file under the same id (sha256 aaaaaaaaaaaa… in A, eeeeeeeeeeee… in B)", model.Message);
        Assert.Single(diff.Suites);
        string md = RunDiffMarkdownWriter.Render(diff);
        Assert.Contains("## Warnings", md, StringComparison.Ordinal);
        Assert.Contains("- **modelFile:** model tiny: a different file", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Measured_against_estimated_energy_is_noted_and_never_given_a_ratio()
    {
        EnergyPlan Plan(string source) => new([], [source], new EnergyEstimateParameters(10, null), TimeSpan.FromMilliseconds(50), TimeSpan.Zero,
            new PowerState(PowerSource.Ac, null, null, null, null));
        var measured = Arith(_ => true).Select(i => i with
        {
            Energy = new EnergyReading("rapl", EnergyQuality.Measured, "CPU packages", EnergyAttribution.Exclusive, TimeSpan.FromMilliseconds(100), 2.0, null, null, 0.05, null, null, []),
        }).ToList();
        var estimated = Arith(_ => true).Select(i => i with
        {
            Energy = new EnergyReading("estimate", EnergyQuality.Estimated, "CPU time × 10 W per core", EnergyAttribution.Exclusive, TimeSpan.FromMilliseconds(100), 1.5, null, null, null, null, null, []),
        }).ToList();

        var diff = RunDiffBuilder.Build(ManifestA with { Energy = Plan("rapl") }, measured, ManifestB with { Energy = Plan("estimate") }, estimated);

        var warning = Assert.Single(diff.Warnings);
        Assert.Equal(RunDiffWarningKind.EnergySource, warning.Kind);
        Assert.Equal("energy source differs: rapl in A, estimate in B", warning.Message);
        var energy = Assert.Single(diff.Suites).Energy!;
        Assert.Equal(2.0, energy.JoulesPerItemA!.Value, 12);
        Assert.Equal(1.5, energy.JoulesPerItemB!.Value, 12);
        Assert.Equal((EnergyQuality?)EnergyQuality.Measured, energy.QualityA);
        Assert.Equal((EnergyQuality?)EnergyQuality.Estimated, energy.QualityB);
        Assert.True(energy.Estimated);
        Assert.Null(energy.Ratio);
        string md = RunDiffMarkdownWriter.Render(diff);
        Assert.Contains("| 2 → ≈1.5 | – (measured vs estimated) | measured: rapl / estimate |", md, StringComparison.Ordinal);
        Assert.Contains("**Energy marked ≈ is estimated**", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Both_measured_energy_gets_a_ratio_and_latency_ratios_are_B_over_A()
    {
        static List<ItemRecord> WithJoules(double joules, double totalMs) => Arith(_ => true, totalMs: totalMs).Select(i => i with
        {
            Energy = new EnergyReading("rapl", EnergyQuality.Measured, "CPU packages", EnergyAttribution.Exclusive, TimeSpan.FromMilliseconds(totalMs), joules, null, null, 0.05, null, null, []),
        }).ToList();

        var diff = RunDiffBuilder.Build(ManifestA, WithJoules(2.0, 200), ManifestB, WithJoules(1.0, 100));

        var suite = Assert.Single(diff.Suites);
        Assert.Equal(0.5, suite.Energy!.Ratio!.Value, 12);
        Assert.False(suite.Energy.Estimated);
        Assert.Equal(TimeSpan.FromMilliseconds(200), suite.Latency.P50A);
        Assert.Equal(0.5, suite.Latency.P50Ratio!.Value, 12);
        Assert.Equal(0.5, suite.Latency.P95Ratio!.Value, 12);
    }

    // Open suite (stories): A scores 1, 0.5, 0; B scores 1, 1, 0.5: mean difference (0 + 0.5 + 0.5) / 3 = 1/3.
    [Fact]
    public void Open_suites_get_a_seeded_paired_bootstrap_of_the_mean_score()
    {
        List<ItemRecord> Stories(params double[] values) =>
            [.. values.Select((v, i) => SampleRecords.Item("tiny", "stories", $"s{i}", passed: v >= 1.0, value: v))];

        var first = RunDiffBuilder.Build(ManifestA, Stories(1, 0.5, 0), ManifestB, Stories(1, 1, 0.5));
        var again = RunDiffBuilder.Build(ManifestA, Stories(1, 0.5, 0), ManifestB, Stories(1, 1, 0.5));

        var suite = Assert.Single(first.Suites);
        Assert.Equal(SuiteKind.Open, suite.Kind);
        var score = suite.Score!;
        Assert.Equal(1.0 / 3, score.Difference, 12);
        Assert.Equal(RunDiffBuilder.BootstrapSeed, score.Seed);
        Assert.Equal(RunDiffBuilder.BootstrapSeed, first.BootstrapSeed);
        // Resampled means of {0, 0.5, 0.5} lie in [0, 0.5]; the same seed gives the same interval.
        Assert.InRange(score.Interval.Lower, 0.0, 1.0 / 3);
        Assert.InRange(score.Interval.Upper, 1.0 / 3, 0.5);
        Assert.Equal(score.Interval, again.Suites[0].Score!.Interval);
        Assert.Equal("s1", Assert.Single(suite.FailToPass));
    }

    [Fact]
    public void Markdown_is_the_same_under_a_decimal_comma_culture()
    {
        var diff = RunDiffBuilder.Build(ManifestA, Arith(i => i < 6, totalMs: 1234), ManifestB, Arith(i => i >= 1, totalMs: 1500));
        string invariant = RunDiffMarkdownWriter.Render(diff);

        string german;
        using (new CultureScope("de-DE"))
        {
            german = RunDiffMarkdownWriter.Render(diff);
        }

        Assert.Equal(invariant, german);
        Assert.StartsWith("# Harness diff: run run-a (A) vs run-b (B)\n", german, StringComparison.Ordinal);
        Assert.Contains("| tiny | arith | 10 | 60.0% → 90.0% | +30.0 pt [", german, StringComparison.Ordinal);
        Assert.Contains("| 0.3750 | – | 5 | 1 | 4 |", german, StringComparison.Ordinal);
        Assert.Contains("| 1234 ms → 1500 ms | 1.22× |", german, StringComparison.Ordinal);
        Assert.Contains("- tiny / arith, pass → fail (1): q0\n", german, StringComparison.Ordinal);
        Assert.Contains("- tiny / arith, fail → pass (4): q6, q7, q8, q9\n", german, StringComparison.Ordinal);
        Assert.Contains("seed 20260101", german, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Json_round_trips_in_the_harness_dialect()
    {
        var diff = RunDiffBuilder.Build(ManifestA, Arith(i => i < 6), ManifestB, Arith(i => i >= 1));
        using var stream = new MemoryStream();

        await new RunDiffJsonWriter().WriteAsync(diff, stream, CancellationToken.None);

        string json = Encoding.UTF8.GetString(stream.ToArray());
        Assert.Contains("\"diffSchemaVersion\": 1", json, StringComparison.Ordinal);
        Assert.Contains("\"passToFail\": [", json, StringComparison.Ordinal);
        var back = HarnessJson.Deserialize<RunDiff>(json);
        Assert.Equal(diff.Suites[0].PassRate.PValue, back.Suites[0].PassRate.PValue);
        Assert.Equal(diff.Suites[0].FailToPass.ToArray(), back.Suites[0].FailToPass.ToArray());
        Assert.Equal("diff-run-a-vs-run-b", RunDiff.FileStem(diff.RunA.RunId, diff.RunB.RunId));
    }
}

/// <summary>A judged suite diffs the judge's verdicts, as each run's own report reads them, not the placeholders.</summary>
public class JudgedRunDiffTests
{
    internal static RunManifest JudgedManifest(string runId)
    {
        var args = System.Collections.Immutable.ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, new Dictionary<string, System.Text.Json.JsonElement>
        {
            ["model"] = System.Text.Json.JsonSerializer.SerializeToElement("judge"),
            ["rubric"] = System.Text.Json.JsonSerializer.SerializeToElement("10 if the essay answers the question, otherwise 1."),
        });
        RunSuite essay = SampleRecords.FixedSuite("essay", new Requirement(0.5, 0.95, null, null), 10) with { Scorers = [new ScorerSpec("judge", args)] };
        return SampleRecords.Manifest([SampleRecords.RunModel("tiny")], [essay]) with { RunId = runId };
    }

    // What the run stores before the judge pass: the judge scorer's placeholder, never a pass.
    internal static List<ItemRecord> Placeholders() =>
        [.. Enumerable.Range(0, 10).Select(i => SampleRecords.Item("tiny", "essay", $"e{i}", passed: false) with
        {
            Scores = [new Core.Scoring.Score("judge", 0, null, 0, null, "awaiting the judge pass")],
        })];

    internal static List<Core.Judging.JudgementRecord> Judgements(RunManifest manifest, Func<int, bool> passes)
    {
        var spec = Core.Judging.JudgeSpec.Parse(manifest.Suites[0].Scorers[0].Arguments, "/tasks/essay");
        return [.. Enumerable.Range(0, 10).Select(i => new Core.Judging.JudgementRecord(
            "tiny", "essay", $"e{i}", "judge", new string('f', 64), spec, passes(i) ? 10 : 1, passes(i) ? 1.0 : 0.0, passes(i), [], null,
            DateTimeOffset.UnixEpoch))];
    }

    // A: the judge passes all ten; B: it passes e0..e5 only. Four pass → fail flips (e6..e9), none the other way.
    [Fact]
    public void The_judges_verdicts_are_diffed_not_the_placeholders()
    {
        RunManifest a = JudgedManifest("run-a"), b = JudgedManifest("run-b");

        RunDiff withoutJudge = RunDiffBuilder.Build(a, Placeholders(), b, Placeholders());
        RunDiff judged = RunDiffBuilder.Build(a, Placeholders(), b, Placeholders(), Judgements(a, _ => true), Judgements(b, i => i < 6));

        SuiteDiff placeholders = Assert.Single(withoutJudge.Suites);
        Assert.Equal((0.0, 0.0), (placeholders.PassRateA, placeholders.PassRateB));
        SuiteDiff suite = Assert.Single(judged.Suites);
        Assert.Equal(1.0, suite.PassRateA, 12);
        Assert.Equal(0.6, suite.PassRateB, 12);
        Assert.Equal(-0.4, suite.PassRate.Difference, 12);
        Assert.Equal(["e6", "e7", "e8", "e9"], suite.PassToFail.ToArray());
        Assert.Empty(suite.FailToPass);
    }
}
