using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Harness.Core.Comparison;
using Harness.Core.Contention;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

using static Harness.Core.Reports.MarkdownTable;
using static Harness.Core.Reports.ReportText;

namespace Harness.Core.Reports;

/// <summary>report.md: a human-readable summary. Every number is formatted with the invariant culture.</summary>
public sealed class MarkdownReportWriter : IReportWriter
{
    public string FileName => "report.md";

    public Task WriteAsync(RunReport report, Stream destination, CancellationToken cancellationToken) =>
        WriteUtf8Async(Render(report), destination, cancellationToken);

    /// <summary>The whole document as a string, with <c>\n</c> line ends on every platform.</summary>
    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');

        Line($"# Harness report: run {Cell(report.RunId)}");
        Line();
        Line($"- Created: {report.CreatedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} UTC");
        HostFacts host = report.Host;
        Line(Inv($"- Host: {host.HostName}, {host.CpuModel}, {host.LogicalCores} logical cores, {Bytes(host.TotalMemoryBytes)} memory"));
        Line($"- OS: {host.OperatingSystem} ({host.Architecture}), {Runtime(host.DotnetVersion)}");
        if (report.Machines is { } machines)
        {
            Line($"- {ShardedRunLine(machines)}");
        }
        if (!host.CpuFeatures.IsDefaultOrEmpty)
        {
            Line($"- CPU features: {string.Join(' ', host.CpuFeatures)}");
        }

        if (!report.Versions.IsEmpty)
        {
            // Ordinal order: the dictionary's own comparer may be culture-sensitive after a JSON round trip.
            Line($"- Versions: {string.Join(", ", report.Versions.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key} {v.Value}"))}");
        }

        if (report.Energy is { } energyPlan)
        {
            Line($"- Energy: {Cell(EnergySourceLine(energyPlan))}");
            Line($"- Power at start: {Cell(PowerLine(energyPlan.PowerAtStart))}");
        }

        if (report.Contention is { } contentionPlan)
        {
            Line($"- Contention: {Cell(ContentionText.PlanLine(contentionPlan))}");
        }

        Line($"- Report schema: {report.ReportSchemaVersion.ToString(CultureInfo.InvariantCulture)}");
        if (host.DebugBuild)
        {
            Line();
            Line("> **Warning:** Harness ran as a Debug build; latency and throughput are not representative.");
        }

        if (report.Models.Any(m => m.BusyMachine is not null))
        {
            Line();
            Line("> **Busy machine:** " + Cell(string.Join(", ", report.Models.Where(m => m.BusyMachine is not null).Select(m => $"{m.ModelId} ({m.BusyMachine!.Reason})")))
                + $". Their latency and energy figures are marked {ContentionText.BusyMark} and decide no ceiling.");
        }

        if (report.Analysis is { } summary)
        {
            RenderSummary(report, summary, Line);
        }

        Line();
        Line("## Models");
        Line();
        Line("| model | status | file size | load time | peak memory | backend | items |");
        Line("|---|---|---:|---:|---:|---|---:|");
        foreach (ModelSummary model in report.Models)
        {
            Line(Row(
                model.ModelId,
                model.Status is { } status ? Name(status) : "not started",
                model.LocalFileSizeBytes is { } size ? Bytes(size) : "served",
                model.LoadInfo is { } load ? Ms(load.LoadTime) : "–",
                Bytes(model.PeakResidentMemoryBytes),
                model.LoadInfo?.Backend ?? "–",
                model.ItemsRecorded.ToString(CultureInfo.InvariantCulture)));
        }

        RenderContentionTable(report.Models, Line);
        var busy = report.Models.Where(m => m.BusyMachine is not null).Select(m => m.ModelId).ToHashSet(StringComparer.Ordinal);
        string Timed(string modelId, string figure) => busy.Contains(modelId) && figure != "–" ? $"{figure} {ContentionText.BusyMark}" : figure;

        foreach (FixedSuiteReport suite in report.FixedSuites)
        {
            Line();
            Line(Inv($"## {Cell(suite.Suite)} (fixed, v{suite.Version}, {suite.ItemCount} items)"));
            Line();
            Line(RequirementLine(suite.Requirement, suite.Rows.Any(r => r.Verdict.Sequential is not null)));
            Line();
            JudgeLine(suite.Judge, Line);
            if (suite.Rows.IsEmpty)
            {
                Line("No model has items on this suite yet.");
                continue;
            }

            Line("| model | pass rate [interval] | flexible | verdict | coverage | p50 / p95 latency | gen tok/s | peak memory |");
            Line("|---|---|---:|---|---|---:|---:|---:|");
            foreach (FixedSuiteRow row in suite.Rows)
            {
                FixedSuiteVerdict verdict = row.Verdict;
                Line(Row(
                    row.ModelId,
                    (verdict.PassRate is { } rate
                        ? Inv($"{Percent(rate.Rate)} ({rate.Successes}/{rate.Trials}) [{Percent(rate.Interval.Lower)}, {Percent(rate.Interval.Upper)}]")
                        : "–")
                        + (verdict.CoverageBounds is { } bounds ? Inv($"; with missing items [{Percent(bounds.Lower)}, {Percent(bounds.Upper)}]") : ""),
                    verdict.FlexiblePassRate is { } flexible ? Percent(flexible) : "–",
                    $"**{Name(verdict.Kind)}**",
                    CoverageCell(verdict, suite.ItemCount),
                    Timed(row.ModelId, Latencies(row.Performance)),
                    Number(row.Performance.MeanGenerationTokensPerSecond, "0.0"),
                    Bytes(row.PeakResidentMemoryBytes)));
            }

            Line();
            foreach (FixedSuiteRow row in suite.Rows)
            {
                Line($"- {Cell(row.ModelId)}: {string.Join("; ", row.Verdict.Reasons)}");
            }

            RenderMetrics(suite.Metrics, Line);
            RenderEnergyTable([.. suite.Rows.Select(r => (r.ModelId, r.Energy))], busy, Line);
            RenderParetoLine(report.Analysis, suite.Suite, Line);
        }

        foreach (OpenSuiteReport suite in report.OpenSuites)
        {
            Line();
            Line(Inv($"## {Cell(suite.Suite)} (open, v{suite.Version}, {suite.ItemCount} items)"));
            Line();
            ImmutableArray<OpenSuiteExclusion> unranked = suite.Unranked ?? [];
            if (suite.Rows.IsEmpty && unranked.IsEmpty)
            {
                Line("No model has items on this suite yet.");
                continue;
            }

            JudgeLine(suite.Judge, Line);
            if (!suite.Rows.IsEmpty)
            {
                double confidence = suite.Rows[0].Score.Confidence;
                Line(Inv($"Ranked by mean primary score; interval: Student-t at {Percent(confidence, "0")} confidence. Only models with every item answered are ranked."));
                Line();
                Line("| rank | model | mean [interval] | n | p50 / p95 latency | gen tok/s | peak memory |");
                Line("|---:|---|---|---:|---:|---:|---:|");
                foreach (OpenSuiteRow row in suite.Rows)
                {
                    MeanEstimate score = row.Score;
                    string interval = score.Interval is { } i ? Inv($" [{Fixed(i.Lower)}, {Fixed(i.Upper)}]") : " [n < 2]";
                    Line(Row(
                        row.Rank.ToString(CultureInfo.InvariantCulture),
                        row.ModelId,
                        Fixed(score.Mean) + interval,
                        score.Count.ToString(CultureInfo.InvariantCulture),
                        Timed(row.ModelId, Latencies(row.Performance)),
                        Number(row.Performance.MeanGenerationTokensPerSecond, "0.0"),
                        Bytes(row.PeakResidentMemoryBytes)));
                }
            }

            RenderUnranked(unranked, Line);
            RenderMetrics(suite.Metrics, Line);
            RenderFrontierLines(report.Analysis, suite.Suite, Line);
            RenderEnergyTable([.. suite.Rows.Select(r => (r.ModelId, r.Energy))], busy, Line);
            RenderParetoLine(report.Analysis, suite.Suite, Line);
        }

        if (report.Comparison is null && report.Quantization is { } quantization)
        {
            foreach (var family in quantization.Families)
            {
                Line();
                Line($"## Quantization ladder: {Cell(family.BaseModel)} family");
                foreach (var ladder in family.Ladders)
                {
                    var rungs = string.Join(" · ", ladder.Rungs.Select(r =>
                        Inv($"{r.ModelId} {Bytes(r.FileSizeBytes)} {(r.PassRate is { } p ? Percent(p) : "–")} {Name(r.Verdict)}")));
                    Line();
                    Line($"- {Cell(ladder.Suite)}: {ComparisonText.LadderRule(ladder)} {Cell(ladder.CheapestSufficientModelId ?? "none")} ({Cell(rungs)})"
                        + (ladder.AnswerNote is { } note ? " " + Cell(note) : ""));
                }
            }
        }

        if (report.Energy is { } plan)
        {
            RenderEnergySection(plan, report.Models, Line);
        }

        if (report.Comparison is { } comparison)
        {
            RenderComparison(comparison, Line);
        }

        var failed = report.Models
            .Where(m => m.Status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed || m.Failure is not null)
            .ToArray();
        if (failed.Length > 0)
        {
            Line();
            Line("## Failed models");
            Line();
            foreach (ModelSummary model in failed)
            {
                string status = model.Status is { } s ? Name(s) : "not started";
                Line($"- {Cell(model.ModelId)} ({status}): {Cell(model.Failure ?? "no reason recorded")}");
            }
        }

        return md.ToString();
    }

    // lm-eval's metric rows: every scorer's mean over the answers, so acc_norm or a flexible extraction sits beside the
    // figure that decides.
    private static void RenderMetrics(ImmutableArray<ScorerMetric>? metrics, Action<string> line)
    {
        if (metrics is not { IsEmpty: false } rows)
        {
            return;
        }

        line("");
        line(Inv($"Metrics (mean over answers; interval: Wilson for pass/fail scores, Student-t otherwise, at {Percent(rows[0].Confidence, "0.#")}):"));
        line("");
        line("| model | metric | n | mean [interval] | flexible |");
        line("|---|---|---:|---|---:|");
        foreach (ScorerMetric m in rows)
        {
            string interval = m.Interval is { } i ? Inv($" [{Fixed(i.Lower)}, {Fixed(i.Upper)}]") : "";
            line(Row(m.ModelId, m.Scorer, m.Items.ToString(CultureInfo.InvariantCulture), Fixed(m.Mean) + interval, Fixed(m.FlexibleMean)));
        }
    }

    private static void JudgeLine(Judging.JudgeSummary? judge, Action<string> line)
    {
        if (judge is null)
        {
            return;
        }

        line(Cell(judge.Describe()));
        line("");
    }

    private static void RenderUnranked(ImmutableArray<OpenSuiteExclusion> unranked, Action<string> line)
    {
        if (unranked.IsEmpty)
        {
            return;
        }

        line("");
        line("Not ranked (errored or missing items; a mean over the rest would rank a subset of the suite):");
        line("");
        foreach (OpenSuiteExclusion exclusion in unranked)
        {
            string partial = exclusion.PartialScore is { } score
                ? Inv($"partial mean {Fixed(score.Mean)} over {score.Count} answers")
                : "no answers";
            line(Cell($"- {exclusion.ModelId}: {CoverageText(exclusion.Coverage)}; {partial}; {string.Join("; ", exclusion.Reasons)}"));
        }
    }

    // The answer first: what each model is good for, before the tables that prove it. A model named here on partial
    // coverage always carries a note saying so, and an error verdict is said before anything else.
    private static void RenderSummary(RunReport report, FrontierAnalysis analysis, Action<string> line)
    {
        var coverage = report.FixedSuites
            .SelectMany(s => s.Rows.Select(r => (s.Suite, r.ModelId, r.Verdict.Coverage)))
            .ToDictionary(r => (r.Suite, r.ModelId), r => r.Coverage);
        string Sufficient(string modelId, ImmutableArray<string> suites) => suites.IsDefaultOrEmpty
            ? "—"
            : string.Join(", ", suites.Select(s => PartialNote(coverage.GetValueOrDefault((s, modelId))) is { Length: > 0 } note ? $"{s} ({note})" : s));
        static string List(ImmutableArray<string> names) => names.IsDefaultOrEmpty ? "—" : string.Join(", ", names);

        line("");
        line("## Summary");
        line("");
        var errors = report.FixedSuites
            .SelectMany(s => s.Rows.Where(r => r.Verdict.Kind == VerdictKind.Error).Select(r => (s.Suite, r.ModelId, r.Verdict.Coverage)))
            .Concat(report.OpenSuites.SelectMany(s => (s.Unranked ?? []).Where(u => u.Coverage.Errored > 0).Select(u => (s.Suite, u.ModelId, (Coverage?)u.Coverage))))
            .ToArray();
        foreach (var (suite, modelId, errored) in errors)
        {
            string why = errored is null ? "" : ": " + string.Join("; ", VerdictCalculator.ErrorReasons(errored));
            line(Cell($"- **error**: {modelId} on {suite}{why}"));
        }

        if (errors.Length > 0)
        {
            line("");
        }

        // A model that gave no result is named with its reason before anything is recommended without it.
        var failures = AnswerText.Failures(report).ToArray();
        foreach (string failure in failures)
        {
            line(Cell($"- **{failure}**"));
        }

        if (failures.Length > 0)
        {
            line("");
        }

        var models = report.Models.ToDictionary(m => m.ModelId, StringComparer.Ordinal);
        foreach (ModelStanding standing in analysis.Standings)
        {
            string verb = models.TryGetValue(standing.ModelId, out ModelSummary? model) && AnswerText.FailureVerb(model) is { } failed
                && standing.SufficientFor.IsDefaultOrEmpty && standing.FrontierOn.IsDefaultOrEmpty
                ? $" ({failed})"
                : "";
            line(Cell($"- {standing.ModelId}{verb}: frontier on {List(standing.FrontierOn)}; sufficient for {Sufficient(standing.ModelId, standing.SufficientFor)}; cheapest sufficient for {Sufficient(standing.ModelId, standing.CheapestSufficientFor)}"));
        }

        if (analysis.Cheapest.IsDefaultOrEmpty)
        {
            return;
        }

        line("");
        var suites = report.FixedSuites.ToDictionary(s => s.Suite, StringComparer.Ordinal);
        foreach (CheapestSufficient cheapest in analysis.Cheapest)
        {
            if (cheapest.ModelId is null)
            {
                string none = suites.TryGetValue(cheapest.Suite, out FixedSuiteReport? suite) ? AnswerText.NoneSufficient(report, suite) : "no model is sufficient";
                line(Cell($"- {cheapest.Suite}: cheapest sufficient: none: {none}"));
                continue;
            }

            string figures = cheapest.Choice is { } choice ? AnswerText.Figures(choice) : PartialNote(cheapest.PartialCoverage);
            line(Cell($"- {cheapest.Suite}: cheapest sufficient: **{cheapest.ModelId}**" + (figures.Length > 0 ? $" ({figures})" : "")));
            if (cheapest.RunnerUp is { } runnerUp)
            {
                line(Cell($"  - runner-up: {runnerUp.ModelId} ({AnswerText.Figures(runnerUp)})"));
            }

            if (cheapest.Decision is { } decision)
            {
                line(Cell($"  - decided: {decision}"));
            }
        }

        line("");
        line(Cell($"Cheapest: {FrontierAnalyzer.CostRule}."));
    }

    private static void RenderFrontierLines(FrontierAnalysis? analysis, string suite, Action<string> line)
    {
        if (analysis?.Frontiers.FirstOrDefault(f => f.Suite == suite) is not { } frontier)
        {
            return;
        }

        line("");
        string on = string.Join(", ", frontier.Entries.Where(e => e.OnFrontier).Select(e => e.ModelId));
        line(Cell(Inv($"Frontier: {on} (not significantly below {frontier.BestModelId}: {frontier.Rule}; {frontier.Resamples} resamples, seed {frontier.Seed}).")));
        var below = frontier.Entries.Where(e => !e.OnFrontier).ToArray();
        if (below.Length > 0)
        {
            line(Cell("Below the frontier: " + string.Join(", ", below.Select(e => e.DifferenceInterval is { } i
                ? Inv($"{e.ModelId} {SignedFixed(e.DifferenceFromBest)} [{SignedFixed(i.Lower)}, {SignedFixed(i.Upper)}]")
                : Inv($"{e.ModelId} {SignedFixed(e.DifferenceFromBest)} (too few common items)"))) + "."));
        }
    }

    private static void RenderParetoLine(FrontierAnalysis? analysis, string suite, Action<string> line)
    {
        var front = analysis?.CostQuality.Where(p => p.Suite == suite && p.OnParetoFront).Select(p => p.ModelId).ToArray();
        if (front is not { Length: > 0 })
        {
            return;
        }

        line("");
        line(Cell("Pareto front (higher quality; lower J/item, p95 latency, peak memory): " + string.Join(", ", front) + "."));
    }

    // One table per suite: every figure beside its source and both uncertainties (spread over items, meter bound).
    private static void RenderEnergyTable(IReadOnlyList<(string ModelId, EnergySummary? Energy)> rows, IReadOnlySet<string> busy, Action<string> line)
    {
        if (rows.All(r => r.Energy is null))
        {
            return;
        }

        void Line(string text = "") => line(text);
        Line();
        Line("Energy per item (net of the idle baseline where one was taken; interval: Student-t over items; ± the meter's own bound):");
        Line();
        Line("| model | J/item [interval] | ± meter | J/generated token | J/correct answer | prompt / generation J/item | items | source |");
        Line("|---|---|---:|---:|---:|---:|---:|---|");
        // One format per column, from that column's own figures.
        var measured = rows.Where(r => r.Energy is not null).Select(r => r.Energy!).ToList();
        var perItem = SigColumn(measured.SelectMany(e => (double[])[e.JoulesPerItem.Mean, .. e.JoulesPerItem.Interval is { } iv ? [iv.Lower, iv.Upper] : Array.Empty<double>()]));
        var perToken = SigColumn(measured.Where(e => e.JoulesPerGeneratedToken is not null).Select(e => e.JoulesPerGeneratedToken!.Value));
        var perCorrect = SigColumn(measured.Where(e => e.JoulesPerCorrectAnswer is not null).Select(e => e.JoulesPerCorrectAnswer!.Value));
        var phases = SigColumn(measured.SelectMany(e => (double?[])[e.PromptJoulesPerItem, e.GenerationJoulesPerItem]).OfType<double>());
        foreach (var (modelId, energy) in rows)
        {
            if (energy is null)
            {
                Line(Row(modelId, "not measured", "–", "–", "–", "–", "–", "–"));
                continue;
            }

            var estimated = energy.Quality == EnergyQuality.Estimated;
            var mark = estimated ? "≈ " : "";
            var interval = energy.JoulesPerItem.Interval is { } i ? Inv($" [{perItem(i.Lower)}, {perItem(i.Upper)}]") : " [n < 2]";
            Line(Row(
                modelId,
                mark + perItem(energy.JoulesPerItem.Mean) + interval + (energy.NetOfBaseline ? "" : " gross")
                    + (busy.Contains(modelId) ? " " + ContentionText.BusyMark : ""),
                estimated ? "unknown (estimate)" : Sig(energy.MeterUncertaintyJoulesPerItem ?? 0),
                energy.JoulesPerGeneratedToken is { } token ? mark + perToken(token) : "–",
                energy.JoulesPerCorrectAnswer is { } correct ? mark + perCorrect(correct) : "no correct answer",
                energy.PromptJoulesPerItem is { } prompt && energy.GenerationJoulesPerItem is { } generation
                    ? Inv($"{mark}{phases(prompt)} / {phases(generation)} ({energy.ItemsSplit} split)")
                    : energy.Attributions.Contains(EnergyAttribution.BatchInterval) ? "– (batched)" : "– (below the meter's resolution)",
                Inv($"{energy.ItemsWithReading}/{energy.Items}"),
                estimated ? "estimate" : "measured: " + energy.Source));
        }
    }

    // Beside the models: how busy the machine was while each model's items ran, which every timing below depends on.
    private static void RenderContentionTable(ImmutableArray<ModelSummary> models, Action<string> line)
    {
        var measured = models.Where(m => m.Contention is not null).ToArray();
        if (measured.Length == 0)
        {
            return;
        }

        line("");
        line("Machine contention during each model's items (shares of the machine's CPU time; latency and energy figures marked "
            + ContentionText.BusyMark + " were measured above the threshold and decide no ceiling):");
        line("");
        line("| model | " + string.Join(" | ", ContentionText.Headers) + " | busy |");
        line("|---|" + string.Concat(Enumerable.Repeat("---:|", ContentionText.Headers.Length - 1)) + "---:|---|");
        foreach (var model in measured)
        {
            line(Row([model.ModelId, .. ContentionText.Cells(model.Contention!),
                model.BusyMachine?.Reason ?? model.Contention!.Unavailable ?? "no"]));
        }
    }

    private static void RenderEnergySection(EnergyPlan plan, ImmutableArray<ModelSummary> models, Action<string> line)
    {
        void Line(string text = "") => line(text);
        Line();
        Line("## Energy and environment");
        Line();
        Line(Inv($"Meters probed (background reads every {plan.SampleInterval.TotalMilliseconds:0} ms at most; idle baseline {plan.IdleBaseline.TotalSeconds:0.#} s per model, model loaded):"));
        Line();
        Line("| meter | usable | scope | counter update | detail | to enable |");
        Line("|---|---|---|---:|---|---|");
        foreach (var probe in plan.Probes)
        {
            Line(Row(
                probe.Source,
                probe.Usable ? (plan.Selected.Contains(probe.Source) ? "yes, used" : "yes, not used") : "no",
                probe.Scope,
                Ms(probe.UpdateInterval),
                probe.Detail,
                probe.Remedy ?? "–"));
        }

        if (plan.Selected.Contains("estimate"))
        {
            Line();
            Line(Inv($"> **Energy is estimated, not measured:** no meter above is usable, so every figure is CPU-seconds of the model's process × {plan.Estimate.WattsPerCore:0.###} W per core{(plan.Estimate.GpuBoardWatts is { } gpu ? Inv($" (+ request time × {gpu:0.###} W for GPU layers)") : "")}. Estimates are marked ≈; they never decide an energy ceiling."));
        }

        var withFacts = models.Where(m => m.Energy is not null).ToArray();
        if (withFacts.Length == 0)
        {
            return;
        }

        Line();
        Line("| model | source | idle baseline | power at start | power at end | throttle events during run | note |");
        Line("|---|---|---:|---|---|---:|---|");
        foreach (var model in withFacts)
        {
            var facts = model.Energy!;
            Line(Row(
                model.ModelId,
                facts.Source,
                facts.IdleBaseline is { } b && b.Window > TimeSpan.Zero
                    ? Inv($"{Sig(b.GrossJoules / b.Window.TotalSeconds)} W over {b.Window.TotalSeconds:0.#} s")
                    : "none",
                facts.PowerAtStart is { } start ? PowerLine(start) : "–",
                facts.PowerAtEnd is { } end ? PowerLine(end) : "–",
                facts.ThrottleEventsDuringRun is { } throttled ? throttled.ToString(CultureInfo.InvariantCulture) : "not counted here",
                facts.Failure ?? "–"));
        }
    }

    private static string EnergySourceLine(EnergyPlan plan)
    {
        if (plan.Selected.Contains("estimate"))
        {
            return Inv($"estimated (CPU time × {plan.Estimate.WattsPerCore:0.###} W per core): no usable meter ({string.Join("; ", plan.Probes.Select(p => $"{p.Source}: {p.Detail}"))})");
        }

        return "measured by " + string.Join(" + ", plan.Probes.Where(p => plan.Selected.Contains(p.Source)).Select(p => $"{p.Source} ({p.Scope})"));
    }

    private static void RenderComparison(ComparisonReport comparison, Action<string> line)
    {
        void Line(string text = "") => line(text);
        Line();
        Line($"## Comparison against {Cell(comparison.BaseModelId)}");
        Line();
        Line("| candidate | size | suite | paired n | Δ quality [interval] | p (Holm-adjusted) | mean KL | p99 KL | top-1 agree | mean Δp | RMS Δp |");
        Line("|---|---:|---|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (CandidateComparison candidate in comparison.Candidates)
        {
            var drifts = candidate.DriftBySuite.ToDictionary(d => d.Suite, d => d.Drift, StringComparer.Ordinal);
            string size = ComparisonText.Size(candidate);
            foreach (SuiteQualityDelta quality in candidate.Quality)
            {
                drifts.TryGetValue(quality.Suite, out DriftSummary? drift);
                string delta = ComparisonText.Delta(quality), p = ComparisonText.PValues(quality);

                Line(Row(candidate.ModelId, size, quality.Suite, quality.PairedItems.ToString(CultureInfo.InvariantCulture), delta, p,
                    Number(drift?.MeanKlDivergence, "0.00000"), Number(drift?.P99KlDivergence, "0.0000"),
                    drift is null ? "–" : Percent(drift.TopTokenAgreement, "0.00"),
                    Number(drift?.MeanDeltaP, "+0.00000;-0.00000;0"), Number(drift?.RmsDeltaP, "0.00000")));
            }
        }

        Line();
        Line("| candidate | all-suite mean KL | p99 KL | top-1 agree | RMS Δp | perplexity ratio | p50 latency ratio | TTFT p50 ratio | prompt speed ratio | gen speed ratio | peak memory | J/item measured (base) |");
        Line("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|");
        foreach (CandidateComparison candidate in comparison.Candidates)
        {
            DriftSummary? drift = candidate.Drift;
            CostDelta cost = candidate.Cost;
            Line(Row(candidate.ModelId,
                Number(drift?.MeanKlDivergence, "0.00000"), Number(drift?.P99KlDivergence, "0.0000"),
                drift is null ? "–" : Percent(drift.TopTokenAgreement, "0.00"), Number(drift?.RmsDeltaP, "0.00000"),
                Number(candidate.PerplexityRatio, "0.0000"),
                Number(cost.LatencyRatio, "0.00"), Number(cost.TimeToFirstTokenRatio, "0.00"), Number(cost.PromptSpeedRatio, "0.00"),
                Number(cost.GenerationSpeedRatio, "0.00"),
                $"{Bytes(cost.CandidatePeakResidentMemoryBytes)} (base {Bytes(cost.BasePeakResidentMemoryBytes)})",
                $"{ComparisonText.Joules(cost.JoulesPerItemCandidate, cost.EnergyEstimated)} (base {ComparisonText.Joules(cost.JoulesPerItemBase, cost.EnergyEstimated)})"));
        }

        foreach (CandidateComparison candidate in comparison.Candidates.Where(c => c.NoDrift is not null))
        {
            Line();
            Line($"{Cell(candidate.ModelId)}: {Cell(ComparisonText.NoDriftLine(candidate.NoDrift!))}; its quality deltas, flips and cost ratios stand.");
        }

        // Flips: for runtimes of the same weights every delta should be about 0; these items are the evidence to read.
        if (comparison.Candidates.Any(c => !c.Flips.IsDefaultOrEmpty))
        {
            Line();
            Line("| candidate | suite | paired n | flipped | other text, same outcome | items (up to 10 of each) |");
            Line("|---|---|---:|---:|---:|---|");
            foreach (CandidateComparison candidate in comparison.Candidates)
            {
                foreach (SuiteFlips flips in candidate.Flips.IsDefault ? [] : candidate.Flips)
                {
                    Line(Row(candidate.ModelId, flips.Suite, flips.PairedItems.ToString(CultureInfo.InvariantCulture),
                        flips.Flipped.ToString(CultureInfo.InvariantCulture), flips.TextChanged.ToString(CultureInfo.InvariantCulture),
                        ComparisonText.Flips(flips)));
                }
            }
        }

        if (comparison.BasePerplexity is { } basePerplexity)
        {
            Line();
            Line(Inv($"Base perplexity on {Cell(comparison.ReferencePath)} (sha256 {comparison.ReferenceSha256[..12]}…): {basePerplexity.Perplexity:0.0000} over {basePerplexity.PredictedTokens} tokens in {basePerplexity.Documents} documents."));
        }

        foreach (QuantizationLadder ladder in comparison.Ladders)
        {
            Line();
            Line($"### Ladder: {Cell(ladder.Suite)}");
            Line();
            Line(RequirementLine(ladder.Requirement));
            string rule = ComparisonText.LadderRule(ladder);
            rule = char.ToUpperInvariant(rule[0]) + rule[1..];
            Line(ladder.CheapestSufficientModelId is { } cheapest
                ? $"{rule}: **{Cell(cheapest)}**."
                : $"{rule}: **none** — no model in the ladder provably clears the bar.");
            if (ladder.AnswerNote is { } answerNote)
            {
                Line(Cell(answerNote));
            }

            Line();
            Line("| model | file size | bits/param | p95 latency | pass rate [interval] | verdict |");
            Line("|---|---:|---:|---:|---|---|");
            foreach (LadderRung rung in ladder.Rungs)
            {
                Line(Row(rung.ModelId, rung.FileSizeBytes > 0 ? Bytes(rung.FileSizeBytes) : "no file", Number(rung.BitsPerParameter, "0.00"),
                    rung.P95Latency is { } p95 ? Inv($"{p95.TotalMilliseconds:0} ms") : "–",
                    rung.PassRate is { } rate && rung.PassRateInterval is { } i ? Inv($"{Percent(rate)} [{Percent(i.Lower)}, {Percent(i.Upper)}]") : "–",
                    $"**{Name(rung.Verdict)}**"));
            }

            if (!ladder.Rungs.IsEmpty)
            {
                // Mermaid renders on GitHub and in most Markdown viewers; elsewhere the table above says the same.
                Line();
                Line("```mermaid");
                Line("xychart-beta");
                Line(ladder.Order == LadderOrder.FileSize
                    ? $"    title \"{MermaidText(ladder.Suite)}: pass rate by file size (line: the bar)\""
                    : $"    title \"{MermaidText(ladder.Suite)}: pass rate in p95 latency order (line: the bar)\"");
                Line("    x-axis [" + string.Join(", ", ladder.Rungs.Select(r => $"\"{MermaidText(r.ModelId)} {Bytes(r.FileSizeBytes)}\"")) + "]");
                Line("    y-axis \"pass rate (%)\" 0 --> 100");
                Line("    bar [" + string.Join(", ", ladder.Rungs.Select(r => Number((r.PassRate ?? 0) * 100, "0.0"))) + "]");
                Line("    line [" + string.Join(", ", ladder.Rungs.Select(_ => Number(ladder.Requirement.MinPassRate * 100, "0.0"))) + "]");
                Line("```");
            }
        }

        Line();
        foreach (string note in comparison.Notes)
        {
            Line($"- {note}");
        }
    }

    private static string MermaidText(string text) => text.Replace("\"", "'", StringComparison.Ordinal);


    /// <summary>Where a merged run's items ran: timings and energy are each item's own machine's.</summary>
    public static string ShardedRunLine(System.Collections.Immutable.ImmutableArray<Sharding.MachineShards> machines) =>
        Inv($"Sharded: {machines.SelectMany(m => m.Shards).Distinct().Count()} shards on {machines.Length} machine{(machines.Length == 1 ? "" : "s")} (the plan's host above; each item's timings and energy are from the machine that ran it): ")
        + string.Join("; ", machines.Select(m => Inv($"{m.Host.HostName} ({m.Host.CpuModel}, {m.Host.LogicalCores} logical cores) ran shard{(m.Shards.Length == 1 ? "" : "s")} {string.Join(", ", m.Shards)}")));
}
