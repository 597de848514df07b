using System.Collections.Immutable;
using Harness.Core.Comparison;
using Harness.Core.Energy;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Tests.Serialization;

namespace Harness.Tests.Reports;

public class FrontierAnalyzerTests
{
    private const string Open = "reverse";
    private const string Fixed = "arith";
    private static readonly Requirement HalfBar = new(0.5, 0.95, null, null);

    // reverse, 20 items: zeta and alpha score 1 everywhere (identical); beta misses q07 (0.95, a tie within noise);
    // gamma misses q00..q09 (0.5, clearly worse); one has only q00 (1.0); lone has only q05 (0.0).
    // Manifest order puts zeta before alpha, while Rank orders equal means by id (alpha first).
    private static readonly string[] FrontierModels = ["gamma", "zeta", "alpha", "beta", "one", "lone"];

    private static IEnumerable<ItemRecord> OpenItems(string model, Func<int, double> value, double totalMs = 100) =>
        Enumerable.Range(0, 20).Select(i => SampleRecords.Item(model, Open, $"q{i:D2}", value(i) >= 1.0, totalMs: totalMs, value: value(i)));

    private static RunReport FrontierReport()
    {
        RunManifest manifest = SampleRecords.Manifest([.. FrontierModels.Select(SampleRecords.RunModel)], [SampleRecords.OpenSuite(Open, 20)]);
        return RunReportBuilder.Build(manifest, [], FrontierItems());
    }

    private static ItemRecord[] FrontierItems() =>
        [
            .. OpenItems("gamma", i => i < 10 ? 0.0 : 1.0),
            .. OpenItems("zeta", _ => 1.0),
            .. OpenItems("alpha", _ => 1.0),
            .. OpenItems("beta", i => i == 7 ? 0.0 : 1.0),
            SampleRecords.Item("one", Open, "q00", passed: true, value: 1.0),
            SampleRecords.Item("lone", Open, "q05", passed: false, value: 0.0),
        ];

    private static FrontierEntry Entry(FrontierSet set, string model) => set.Entries.Single(e => e.ModelId == model);

    [Fact]
    public void Best_is_the_highest_mean_and_ties_go_to_manifest_order()
    {
        FrontierSet set = Assert.Single(FrontierReport().Analysis!.Frontiers);

        Assert.Equal(Open, set.Suite);
        Assert.Equal("zeta", set.BestModelId);
        Assert.Equal(0.95, set.Confidence);
        Assert.Equal(FrontierAnalyzer.BootstrapResamples, set.Resamples);
        Assert.Equal(FrontierAnalyzer.BootstrapSeed, set.Seed);
        FrontierEntry best = set.Entries[0];
        Assert.Equal(("zeta", 1.0, 0.0, true), (best.ModelId, best.MeanScore, best.DifferenceFromBest, best.OnFrontier));
        Assert.Null(best.DifferenceInterval);
    }

    [Fact]
    public void A_clearly_worse_model_is_off_the_frontier()
    {
        FrontierEntry gamma = Entry(Assert.Single(FrontierReport().Analysis!.Frontiers), "gamma");

        // Ten of the twenty paired differences are −1: mean −0.5. A resample needs at most 5 of them (binomial
        // tail ≈ 2%) to reach −0.25, so the 97.5% bound is far below 0.
        Assert.Equal(0.5, gamma.MeanScore, 12);
        Assert.Equal(-0.5, gamma.DifferenceFromBest, 12);
        Assert.True(gamma.DifferenceInterval!.Upper < -0.2, $"upper {gamma.DifferenceInterval.Upper}");
        Assert.False(gamma.OnFrontier);
    }

    [Fact]
    public void A_difference_within_noise_stays_on_the_frontier()
    {
        FrontierEntry beta = Entry(Assert.Single(FrontierReport().Analysis!.Frontiers), "beta");

        // One difference of −1 in 20: mean −0.05, plug-in variance (0.95² + 19·0.05²)/20 = 0.0475, se √(0.0475/20). The
        // interval is −0.05 ± q·se with the suite's simultaneous q, which is above the single-comparison 1.96 because
        // it covers every pair of models at once.
        FrontierSet set = Assert.Single(FrontierReport().Analysis!.Frontiers);
        double se = Math.Sqrt(0.0475 / 20);
        Assert.InRange(set.CriticalValue, 1.96, 4.0);
        Assert.Equal(-0.05, beta.DifferenceFromBest, 12);
        Assert.Equal(-0.05 + (set.CriticalValue * se), beta.DifferenceInterval!.Upper, 12);
        Assert.Equal(-0.05 - (set.CriticalValue * se), beta.DifferenceInterval.Lower, 12);
        Assert.True(beta.OnFrontier);
    }

    [Fact]
    public void An_identical_model_is_on_the_frontier_with_a_zero_interval()
    {
        FrontierEntry alpha = Entry(Assert.Single(FrontierReport().Analysis!.Frontiers), "alpha");

        Assert.Equal(0.0, alpha.DifferenceFromBest);
        Assert.Equal(new Core.Statistics.Interval(0.0, 0.0), alpha.DifferenceInterval);
        Assert.True(alpha.OnFrontier);
    }

    [Fact]
    public void Models_with_missing_items_are_left_out_of_the_ranking_and_the_frontier()
    {
        RunReport report = FrontierReport();
        OpenSuiteReport suite = Assert.Single(report.OpenSuites);
        FrontierSet set = Assert.Single(report.Analysis!.Frontiers);

        // one and lone answered 1 of the 20 items: a mean over that one would rank them on a subset of the suite.
        Assert.Equal(["one", "lone"], suite.Unranked!.Value.Select(u => u.ModelId));
        Assert.All(suite.Unranked!.Value, u => Assert.Equal((1, 0, 0, 19, 20), (u.Coverage.Evaluated, u.Coverage.Failed, u.Coverage.Errored, u.Coverage.Missing, u.Coverage.Total)));
        Assert.Equal(1.0, suite.Unranked!.Value[0].PartialScore!.Mean);
        Assert.DoesNotContain(suite.Rows, r => r.ModelId is "one" or "lone");
        Assert.DoesNotContain(set.Entries, e => e.ModelId is "one" or "lone");
        Assert.DoesNotContain(report.Analysis.Standings.Single(s => s.ModelId == "one").FrontierOn, s => s == Open);
    }

    [Fact]
    public void With_one_common_item_only_an_equal_mean_keeps_a_model_on_the_frontier()
    {
        // The builder ranks only models that answered every item; the analyzer still decides any rows it is given.
        RunReport report = FrontierReport();
        OpenSuiteReport suite = Assert.Single(report.OpenSuites);
        var performance = new PerformanceSummary(null, null, null, null, null);
        OpenSuiteRow Row(string model, double mean) =>
            new(9, model, new Core.Statistics.MeanEstimate(1, mean, 0, null, 0.95), performance, null);
        FrontierSet set = Assert.Single(FrontierAnalyzer.Analyze(
            report.Models, [], [suite with { Rows = suite.Rows.Add(Row("one", 1.0)).Add(Row("lone", 0.0)) }], FrontierItems()).Frontiers);
        FrontierEntry one = Entry(set, "one");
        FrontierEntry lone = Entry(set, "lone");

        // one: mean 1.0 on its single item, equal to the best's 1.0 → kept; lone: 0.0 < 1.0 → not. No intervals.
        Assert.True(one.OnFrontier);
        Assert.Null(one.DifferenceInterval);
        Assert.Equal(0.0, one.DifferenceFromBest);
        Assert.False(lone.OnFrontier);
        Assert.Null(lone.DifferenceInterval);
    }

    [Fact]
    public void The_same_inputs_give_the_same_analysis()
    {
        string first = HarnessJson.Serialize(FrontierReport().Analysis);
        string second = HarnessJson.Serialize(FrontierReport().Analysis);

        Assert.Equal(first, second);
        Assert.Contains("\"bestModelId\":\"zeta\"", first, StringComparison.Ordinal);
    }

    private static CostQualityPoint Point(string model, double quality, double? joules, double? p95Ms, long? memory, string suite = Fixed) =>
        new(model, suite, quality, joules, false, p95Ms is { } ms ? TimeSpan.FromMilliseconds(ms) : null, memory, OnParetoFront: false);

    private static Dictionary<string, bool> Front(params CostQualityPoint[] points) =>
        FrontierAnalyzer.ParetoFront(points).ToDictionary(p => p.ModelId + "@" + p.Suite, p => p.OnParetoFront);

    [Fact]
    public void Pareto_front_keeps_points_that_no_other_point_beats_on_every_axis()
    {
        var front = Front(
            Point("good", 0.90, 2.0, 100, 1_000),
            Point("worse", 0.80, 3.0, 200, 2_000),   // good: higher quality and cheaper on all three → dominated
            Point("best", 0.95, 5.0, 300, 3_000),    // highest quality → front
            Point("frugal", 0.70, 1.0, 150, 1_500),  // lowest J/item → front
            Point("slow", 0.90, 2.0, 120, 1_000),    // equal to good except 20 ms slower → dominated
            Point("other", 0.10, 9.0, 900, 9_000, suite: "dates")); // alone on its suite → front

        Assert.Equal(
            new Dictionary<string, bool>
            {
                ["good@arith"] = true, ["worse@arith"] = false, ["best@arith"] = true,
                ["frugal@arith"] = true, ["slow@arith"] = false, ["other@dates"] = true,
            },
            front);
    }

    [Fact]
    public void Pareto_front_compares_only_the_costs_both_points_have()
    {
        var front = Front(
            Point("unmetered", 0.90, null, 100, 1_000),
            Point("metered", 0.90, 1.0, 100, 1_000),    // differs only on a cost unmetered lacks → neither dominates
            Point("lagging", 0.80, null, 200, null));   // metered: higher quality, faster; J/item and memory not compared

        Assert.True(front["unmetered@arith"]);
        Assert.True(front["metered@arith"]);
        Assert.False(front["lagging@arith"]);
        Assert.False(FrontierAnalyzer.Dominates(Point("a", 0.9, 1.0, null, null), Point("b", 0.9, null, 100, null)));
    }

    [Fact]
    public void Equal_points_do_not_dominate_each_other()
    {
        CostQualityPoint same = Point("twin", 0.9, 2.0, 100, 1_000);

        var front = FrontierAnalyzer.ParetoFront([same, same with { ModelId = "other twin" }]);

        Assert.All(front, p => Assert.True(p.OnParetoFront));
        Assert.False(FrontierAnalyzer.Dominates(same, same));
    }

    private static EnergyReading Energy(double joules, bool estimated) =>
        new(estimated ? "estimate" : "rapl", estimated ? EnergyQuality.Estimated : EnergyQuality.Measured, "CPU",
            EnergyAttribution.Exclusive, TimeSpan.FromMilliseconds(100), joules, null, null, estimated ? null : 0.01, null, null, []);

    private sealed record Spec(string Id, bool Passes, double? Joules = null, bool Estimated = false, double P95Ms = 100, long Size = 1_000, string? Family = null);

    // Every model answers 20 items on arith (bar 50%): 20/20 has a Wilson lower bound of 83.9% → sufficient;
    // 0/20 → insufficient. Latency is the same on every item, so p95 is that latency.
    private static RunReport FixedReport(params Spec[] specs)
    {
        RunManifest manifest = SampleRecords.Manifest(
            [.. specs.Select(s => SampleRecords.RunModel(s.Id) is var m && s.Family is { } family
                ? m with { FileSizeBytes = s.Size, Entry = m.Entry with { Metadata = m.Entry.Metadata.Add("base_model", family) } }
                : m with { FileSizeBytes = s.Size })],
            [SampleRecords.FixedSuite(Fixed, HalfBar, 20)]);
        var items = specs.SelectMany(s => Enumerable.Range(0, 20).Select(i =>
            SampleRecords.Item(s.Id, Fixed, $"q{i:D2}", s.Passes, totalMs: s.P95Ms) with
            {
                Energy = s.Joules is { } j ? Energy(j, s.Estimated) : null,
            })).ToArray();
        return RunReportBuilder.Build(manifest, [], items);
    }

    [Fact]
    public void Cheapest_sufficient_is_the_lowest_measured_energy_among_sufficient_models()
    {
        RunReport report = FixedReport(
            new Spec("big", true, Joules: 3.0),
            new Spec("small", true, Joules: 2.0),
            new Spec("cheap but wrong", false, Joules: 0.5));

        CheapestSufficient cheapest = Assert.Single(report.Analysis!.Cheapest);
        Assert.Equal(("small", FrontierAnalyzer.CostRule), (cheapest.ModelId, cheapest.CostRule));
        // Beside the choice: its figures, the next sufficient model with the same figures, and the rule between them.
        AnswerFigures choice = cheapest.Choice!;
        Assert.Equal(("small", 1.0, 2.0, false, false, 1_000L), (choice.ModelId, choice.PassRate!.Rate, choice.JoulesPerItem!.Value, choice.EnergyEstimated, choice.EnergyBusy, choice.FileSizeBytes));
        Assert.Equal((TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(100)), (choice.P50Latency!.Value, choice.P95Latency!.Value));
        Assert.Equal(("big", 3.0), (cheapest.RunnerUp!.ModelId, cheapest.RunnerUp.JoulesPerItem!.Value));
        Assert.Equal(CostDecider.Energy, cheapest.DecidedBy);
        Assert.Equal("measured J/item decides: the intervals do not overlap", cheapest.Decision);
        Assert.Equal("pass 100.0% [83.9%, 100.0%] · 2.00 J/item (measured) · p50 / p95 100 / 100 ms · 1000 B", AnswerText.Figures(choice));
        CostQualityPoint point = report.Analysis.CostQuality.Single(p => p.ModelId == "small");
        Assert.Equal((1.0, 2.0, false, TimeSpan.FromMilliseconds(100)), (point.Quality, point.JoulesPerItem!.Value, point.EnergyEstimated, point.P95Latency!.Value));
        // cheap but wrong uses a quarter of the energy at quality 0; big is beaten by small on J/item alone.
        Assert.Equal(["small", "cheap but wrong"], report.Analysis.CostQuality.Where(p => p.OnParetoFront).Select(p => p.ModelId));
    }

    [Fact]
    public void Energy_only_separates_models_whose_intervals_do_not_overlap_and_ties_go_to_the_smaller_file()
    {
        // Every item of a model has the same J, so each interval is its mean ± the 0.01 J meter bound (see Energy).
        RunReport close = FixedReport(
            new Spec("lean but big", true, Joules: 1.00, Size: 9_000),
            new Spec("small", true, Joules: 1.015, Size: 1_000));
        RunReport apart = FixedReport(
            new Spec("lean but big", true, Joules: 1.00, Size: 9_000),
            new Spec("small", true, Joules: 1.50, Size: 1_000));

        // [0.99, 1.01] and [1.005, 1.025] overlap: a tie on energy, and the smaller file wins.
        Assert.Equal("small", Assert.Single(close.Analysis!.Cheapest).ModelId);
        // [0.99, 1.01] and [1.49, 1.51] do not: the energy difference is real and decides.
        Assert.Equal("lean but big", Assert.Single(apart.Analysis!.Cheapest).ModelId);
    }

    [Fact]
    public void Equal_estimated_energy_is_broken_by_p95_latency_and_the_decision_says_estimated()
    {
        RunReport report = FixedReport(
            new Spec("slow", true, Joules: 1.0, Estimated: true, P95Ms: 200),
            new Spec("quick", true, Joules: 1.0, Estimated: true, P95Ms: 100));

        CheapestSufficient cheapest = Assert.Single(report.Analysis!.Cheapest);
        Assert.Equal("quick", cheapest.ModelId);
        Assert.Equal(CostDecider.P95Latency, cheapest.DecidedBy);
        Assert.Equal("energy cannot separate them (≈ J/item is estimated from CPU time, which never ranks) and the files are the same size; lowest p95 latency decides", cheapest.Decision);
        Assert.True(cheapest.Choice!.EnergyEstimated);
        Assert.True(report.Analysis.CostQuality.All(p => p.EnergyEstimated));
    }

    [Fact]
    public void Estimated_energy_never_ranks_so_the_answer_and_the_ladder_name_the_same_smallest_file()
    {
        // The estimate's intervals are far apart (every item the same J), and the larger file is the leaner by it: as a
        // measurement this difference would decide; as CPU time × watts it decides nothing, like an energy ceiling.
        RunReport report = FixedReport(
            new Spec("q8", true, Joules: 1.0, Estimated: true, Size: 2_000, Family: "base"),
            new Spec("q4", true, Joules: 2.0, Estimated: true, Size: 1_000, Family: "base"));

        CheapestSufficient cheapest = Assert.Single(report.Analysis!.Cheapest);
        Assert.Equal(("q4", "q8", CostDecider.FileSize), (cheapest.ModelId, cheapest.RunnerUp!.ModelId, cheapest.DecidedBy));
        Assert.Equal("energy cannot separate them (≈ J/item is estimated from CPU time, which never ranks); smallest file decides", cheapest.Decision);
        QuantizationLadder ladder = Assert.Single(Assert.Single(report.Quantization!.Families).Ladders);
        Assert.Equal("q4", ladder.CheapestSufficientModelId);
        Assert.Null(ladder.AnswerNote);
        string md = MarkdownReportWriter.Render(report);
        Assert.Contains("- arith: cheapest sufficient: **q4** (pass 100.0% [83.9%, 100.0%] · ≈ 2.00 J/item (estimated) · p50 / p95 100 / 100 ms · 1000 B)\n"
            + "  - runner-up: q8 (pass 100.0% [83.9%, 100.0%] · ≈ 1.00 J/item (estimated) · p50 / p95 100 / 100 ms · 2.0 KiB)\n"
            + "  - decided: energy cannot separate them (≈ J/item is estimated from CPU time, which never ranks); smallest file decides\n", md, StringComparison.Ordinal);
        Assert.Contains("- arith: smallest sufficient q4 (", md, StringComparison.Ordinal);
    }

    [Fact]
    public void A_measured_energy_difference_decides_and_the_ladder_says_why_it_names_another_model()
    {
        RunReport report = FixedReport(
            new Spec("q8", true, Joules: 1.0, Size: 2_000, Family: "base"),
            new Spec("q4", true, Joules: 2.0, Size: 1_000, Family: "base"));

        CheapestSufficient cheapest = Assert.Single(report.Analysis!.Cheapest);
        Assert.Equal(("q8", CostDecider.Energy), (cheapest.ModelId, cheapest.DecidedBy));
        QuantizationLadder ladder = Assert.Single(Assert.Single(report.Quantization!.Families).Ladders);
        Assert.Equal("q4", ladder.CheapestSufficientModelId);
        Assert.Equal("The Answer names q8 for arith, not q4: measured J/item decides: the intervals do not overlap.", ladder.AnswerNote);
        Assert.Contains("- arith: smallest sufficient q4 (", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
        Assert.Contains("The Answer names q8 for arith, not q4: measured J/item decides", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_outside_the_family_is_named_as_such_by_the_ladder()
    {
        RunReport report = FixedReport(
            new Spec("other", true, Size: 500),
            new Spec("q8", true, Size: 2_000, Family: "base"),
            new Spec("q4", true, Size: 1_000, Family: "base"));

        Assert.Equal("other", Assert.Single(report.Analysis!.Cheapest).ModelId);
        Assert.Equal(
            "The Answer names other (not in this ladder) for arith, not q4: energy cannot separate them (J/item was not measured); smallest file decides.",
            Assert.Single(Assert.Single(report.Quantization!.Families).Ladders).AnswerNote);
    }

    [Fact]
    public void Equal_energy_and_latency_are_broken_by_file_size_then_manifest_order()
    {
        RunReport bySize = FixedReport(new Spec("large", true, Size: 2_000), new Spec("compact", true, Size: 1_000));
        RunReport byOrder = FixedReport(new Spec("listed first", true), new Spec("a listed second", true));

        Assert.Equal("compact", Assert.Single(bySize.Analysis!.Cheapest).ModelId);
        Assert.Equal(CostDecider.FileSize, bySize.Analysis.Cheapest[0].DecidedBy);
        Assert.Equal("energy cannot separate them (J/item was not measured); smallest file decides", bySize.Analysis.Cheapest[0].Decision);
        Assert.Equal("listed first", Assert.Single(byOrder.Analysis!.Cheapest).ModelId);
        Assert.Equal(CostDecider.ManifestOrder, byOrder.Analysis.Cheapest[0].DecidedBy);
        Assert.Null(byOrder.Analysis.Cheapest[0].Choice!.JoulesPerItem);
        Assert.Contains("J/item not measured", AnswerText.Figures(byOrder.Analysis.Cheapest[0].Choice!), StringComparison.Ordinal);
    }

    [Fact]
    public void No_sufficient_model_means_no_cheapest()
    {
        RunReport report = FixedReport(new Spec("wrong", false, Joules: 1.0));

        CheapestSufficient cheapest = Assert.Single(report.Analysis!.Cheapest);
        Assert.Null(cheapest.ModelId);
        Assert.StartsWith("no model is sufficient; ", cheapest.CostRule, StringComparison.Ordinal);
        Assert.Null(cheapest.Choice);
        Assert.Contains("- arith: cheapest sufficient: none: no model is sufficient (1 insufficient)\n", MarkdownReportWriter.Render(report), StringComparison.Ordinal);
    }

    // tiny passes arith and ties the best on reverse at half its latency; big passes arith at about twice the energy
    // and is best on reverse; weak fails arith and scores 0 on reverse; absent never ran.
    private static readonly string[] MixedModels = ["tiny", "big", "weak", "absent"];

    private static RunReport MixedReport()
    {
        RunManifest manifest = SampleRecords.Manifest(
            [.. MixedModels.Select(SampleRecords.RunModel)],
            [SampleRecords.FixedSuite(Fixed, HalfBar, 20), SampleRecords.OpenSuite(Open, 20)]);
        IEnumerable<ItemRecord> Arith(string model, bool passes, double joules) => Enumerable.Range(0, 20).Select(i =>
            SampleRecords.Item(model, Fixed, $"q{i:D2}", passes) with { Energy = Energy(joules + (0.125 * (i % 2)), estimated: true) });
        ItemRecord[] items =
        [
            .. Arith("tiny", true, 1.5),
            .. Arith("big", true, 3.0),
            .. Arith("weak", false, 0.5),
            .. OpenItems("tiny", i => i == 3 ? 0.5 : 1.0, totalMs: 50),
            .. OpenItems("big", _ => 1.0),
            .. OpenItems("weak", _ => 0.0),
        ];
        return RunReportBuilder.Build(manifest, [], items);
    }

    [Fact]
    public void Standings_give_one_line_per_model_in_manifest_order()
    {
        FrontierAnalysis analysis = MixedReport().Analysis!;

        Assert.Equal(["tiny", "big", "weak", "absent"], analysis.Standings.Select(s => s.ModelId));
        ModelStanding tiny = analysis.Standings[0];
        Assert.Equal(Open, Assert.Single(tiny.FrontierOn));
        Assert.Equal(Fixed, Assert.Single(tiny.SufficientFor));
        Assert.Equal(Fixed, Assert.Single(tiny.CheapestSufficientFor));
        Assert.Equal(Open, Assert.Single(analysis.Standings[1].FrontierOn));
        Assert.Equal(Fixed, Assert.Single(analysis.Standings[1].SufficientFor));
        Assert.Empty(analysis.Standings[1].CheapestSufficientFor);
        Assert.True(analysis.Standings[2].FrontierOn.IsEmpty && analysis.Standings[2].SufficientFor.IsEmpty);
        Assert.True(analysis.Standings[3].FrontierOn.IsEmpty && analysis.Standings[3].CheapestSufficientFor.IsEmpty);
    }

    [Fact]
    public void Markdown_leads_with_the_summary_and_shows_frontier_and_pareto_lines()
    {
        string md = MarkdownReportWriter.Render(MixedReport());

        string summary = string.Join('\n',
            "## Summary",
            "",
            "- tiny: frontier on reverse; sufficient for arith; cheapest sufficient for arith",
            "- big: frontier on reverse; sufficient for arith; cheapest sufficient for —",
            "- weak: frontier on —; sufficient for —; cheapest sufficient for —",
            "- absent (did not run): frontier on —; sufficient for —; cheapest sufficient for —",
            "",
            "- arith: cheapest sufficient: **tiny** (pass 100.0% [83.9%, 100.0%] · ≈ 1.56 J/item (estimated) · p50 / p95 100 / 100 ms · 2.00 GiB)",
            "  - runner-up: big (pass 100.0% [83.9%, 100.0%] · ≈ 3.06 J/item (estimated) · p50 / p95 100 / 100 ms · 2.00 GiB)",
            "  - decided: energy cannot separate them (≈ J/item is estimated from CPU time, which never ranks), the files and p95 latencies are equal; manifest order decides",
            "",
            "Cheapest: " + FrontierAnalyzer.CostRule + ".",
            "",
            "## Models");
        Assert.Contains(summary, md, StringComparison.Ordinal);
        Assert.True(md.IndexOf("## Summary", StringComparison.Ordinal) < md.IndexOf("## Models", StringComparison.Ordinal));
        Assert.Contains(
            "Frontier: big, tiny (not significantly below big: simultaneous 95% paired-bootstrap intervals (max-t over every pair of models): "
            + "the chance that any model truly as good as the best is left off is about 5% for the whole suite, not per model; "
            + "2000 resamples, seed 20260101).\n",
            md, StringComparison.Ordinal);
        Assert.Contains("Below the frontier: weak -1.000 [-1.000, -1.000].\n", md, StringComparison.Ordinal);
        // arith: weak is cheapest at quality 0, tiny is cheaper than big at the same quality.
        Assert.Contains("Pareto front (higher quality; lower J/item, p95 latency, peak memory): tiny, weak.\n", md, StringComparison.Ordinal);
        // reverse: big has the best score, tiny the lower latency; weak is beaten by big on quality at equal latency.
        Assert.Contains("Pareto front (higher quality; lower J/item, p95 latency, peak memory): big, tiny.\n", md, StringComparison.Ordinal);
    }

    [Fact]
    public void Summary_renders_identically_under_a_decimal_comma_culture()
    {
        RunReport report = MixedReport();
        string invariant = MarkdownReportWriter.Render(report);

        string german;
        using (new CultureScope("de-DE"))
        {
            german = MarkdownReportWriter.Render(report);
        }

        Assert.Equal(invariant, german);
        Assert.Contains("## Summary", german, StringComparison.Ordinal);
        Assert.DoesNotContain("0,95", german, StringComparison.Ordinal);
    }

    [Fact]
    public void Analysis_survives_the_json_round_trip()
    {
        RunReport report = MixedReport();

        RunReport back = HarnessJson.Deserialize<RunReport>(HarnessJson.Serialize(report));

        Assert.Equal(HarnessJson.Serialize(report.Analysis), HarnessJson.Serialize(back.Analysis));
    }

    [Fact]
    public void Analyze_without_items_gives_empty_frontiers_and_a_line_per_model()
    {
        FrontierAnalysis analysis = FrontierAnalyzer.Analyze(
            [new ModelSummary("m", null, null, null, 1, null, 0)], [], [], ImmutableArray<ItemRecord>.Empty);

        Assert.Empty(analysis.Frontiers);
        Assert.Empty(analysis.CostQuality);
        Assert.Empty(analysis.Cheapest);
        Assert.Equal("m", Assert.Single(analysis.Standings).ModelId);
    }
}
