using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using Harness.Core.Comparison;
using Harness.Core.Energy;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Core.Verdicts;
using static Harness.Core.Reports.ReportText;
using static Harness.Reports.Html.HtmlText;

namespace Harness.Reports.Html;

/// <summary>
/// report.html: the sufficiency report as one self-contained page. The answer comes first (cheapest sufficient model
/// per fixed suite, frontier per open suite, a line per model), then the evidence per suite with inline SVG charts,
/// then the environment. It loads nothing: no script, no font, no stylesheet from elsewhere (the page's
/// Content-Security-Policy forbids it), so it opens the same offline, from a mail attachment or a CI artifact.
/// </summary>
public sealed class HtmlReportWriter : IReportWriter
{
    private static readonly Lazy<string> Stylesheet = new(() =>
    {
        using var stream = typeof(HtmlReportWriter).Assembly.GetManifestResourceStream("Harness.Reports.Html.report.css")
            ?? throw new InvalidOperationException("report.css is not embedded in Harness.Reports.Html.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });

    public string FileName => "report.html";

    public Task WriteAsync(RunReport report, Stream destination, CancellationToken cancellationToken) =>
        WriteUtf8Async(Render(report), destination, cancellationToken);

    /// <summary>The whole page, with <c>\n</c> line ends on every platform.</summary>
    public static string Render(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var html = new StringBuilder();
        void Line(string text = "") => html.Append(text).Append('\n');
        var charts = new ReportCharts();
        var created = report.CreatedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture) + " UTC";

        Line("<!DOCTYPE html>");
        Line("<html lang=\"en\">");
        Line("<head>");
        Line("<meta charset=\"utf-8\">");
        Line("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
        Line("<meta name=\"color-scheme\" content=\"light dark\">");
        // Nothing may load: a report that fetched a script or font would leak that it was opened, and break offline.
        Line("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">");
        Line($"<title>Harness report {E(report.RunId)}</title>");
        Line("<style>");
        html.Append(Stylesheet.Value.ReplaceLineEndings("\n"));
        Line("</style>");
        Line("</head>");
        Line("<body>");
        Line($"<h1>Harness report: run <code>{E(report.RunId)}</code></h1>");
        Line($"<p class=\"meta\">{E(created)} · {E(report.Host.HostName)} · {E(report.Host.CpuModel)} · {E(EnergyShort(report.Energy))}</p>");
        if (report.Host.DebugBuild)
        {
            Line("<p class=\"warning\"><strong>Warning:</strong> Harness ran as a Debug build; latency and throughput are not representative.</p>");
        }

        var busy = report.Models.Where(m => m.BusyMachine is not null).Select(m => m.ModelId).ToHashSet(StringComparer.Ordinal);
        if (busy.Count > 0)
        {
            Line("<p class=\"warning\"><strong>Busy machine:</strong> "
                + E($"{string.Join(", ", report.Models.Where(m => m.BusyMachine is not null).Select(m => $"{m.ModelId} ({m.BusyMachine!.Reason})"))}. "
                    + $"Their latency and energy figures are marked {ContentionText.BusyMark} and decide no ceiling.")
                + "</p>");
        }

        RenderAnswer(report, Line);
        foreach (var suite in report.FixedSuites)
        {
            RenderFixedSuite(suite, charts, busy, Line);
        }

        foreach (var suite in report.OpenSuites)
        {
            RenderOpenSuite(suite, report.Analysis?.Frontiers.FirstOrDefault(f => f.Suite == suite.Suite), busy, Line);
        }

        RenderCostQuality(report, charts, Line);
        if (report.Comparison is { Candidates.IsDefaultOrEmpty: false } compared)
        {
            ComparisonSection.Render(compared, Line);
        }

        if (report.Comparison is { Ladders.IsDefaultOrEmpty: false } comparison)
        {
            RenderLadders($"against {comparison.BaseModelId}", comparison.Ladders, comparison.Notes, charts, Line);
        }
        else
        {
            foreach (var family in report.Quantization?.Families ?? [])
            {
                RenderLadders($"{family.BaseModel} family", family.Ladders, [], charts, Line);
            }
        }

        RenderModels(report, Line);
        RenderEnvironment(report, Line);
        Line($"<p class=\"muted\">Report schema {report.ReportSchemaVersion.ToString(CultureInfo.InvariantCulture)}; the same data as report.json and report.md in this folder.</p>");
        Line("</body>");
        Line("</html>");
        // Every table scrolls sideways inside its own box when it is wider than the page: ids stay on one line.
        return html.ToString().Replace("<table>", "<div class=\"table\"><table>", StringComparison.Ordinal)
            .Replace("</table>", "</table></div>", StringComparison.Ordinal);
    }

    private static void RenderAnswer(RunReport report, Action<string> line)
    {
        void Line(string text = "") => line(text);
        var analysis = report.Analysis;
        Line("<section class=\"answer\" id=\"answer\">");
        Line("<h2>Answer</h2>");
        if (report.FixedSuites.IsEmpty && report.OpenSuites.IsEmpty)
        {
            Line("<p>No suite has results in this run yet.</p>");
        }

        // The cost rule is the same sentence for every suite in a run; said once under the list, not on every line.
        var rules = analysis?.Cheapest.Where(c => c.ModelId is not null).Select(c => c.CostRule).Distinct(StringComparer.Ordinal).ToList() ?? [];
        var sharedRule = rules.Count == 1 ? rules[0] : null;
        Line("<ul>");
        // An error is the first thing to fix: the suite was not really evaluated for that model.
        foreach (var (suite, modelId, coverage) in Errors(report))
        {
            Line($"<li><span class=\"error\">error</span>: <b>{E(modelId)}</b> on <b>{E(suite)}</b>: {E(string.Join("; ", VerdictCalculator.ErrorReasons(coverage)))}</li>");
        }

        // A model that gave no result, with its reason: otherwise its suites would read as if nothing had been tried.
        var failed = report.Models.Where(m => m.Status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed).ToArray();
        foreach (var model in failed)
        {
            Line($"<li><b>{E(model.ModelId)}</b> <span class=\"insufficient\">{E(AnswerText.FailureVerb(model)!)}</span>: {E(model.Failure ?? "no reason recorded")}</li>");
        }

        var partialNotes = report.FixedSuites
            .SelectMany(s => s.Rows.Select(r => (s.Suite, r.ModelId, Note: PartialNote(r.Verdict.Coverage))))
            .ToDictionary(r => (r.Suite, r.ModelId), r => r.Note);
        string WithNote(string suite, string modelId) =>
            E(modelId) + (partialNotes.GetValueOrDefault((suite, modelId)) is { Length: > 0 } note ? $" <span class=\"muted\">({E(note)})</span>" : "");
        foreach (var suite in report.FixedSuites)
        {
            var bar = $"bar ≥ {Percent(suite.Requirement.MinPassRate)}";
            var sufficient = suite.Rows.Where(r => r.Verdict.Kind == VerdictKind.Sufficient).Select(r => r.ModelId).ToList();
            if (analysis?.Cheapest.FirstOrDefault(c => c.Suite == suite.Suite) is { } cheapest)
            {
                if (cheapest.ModelId is not { } model)
                {
                    Line($"<li><b>{E(suite.Suite)}</b> ({E(bar)}): <span class=\"insufficient\">{E(AnswerText.NoneSufficient(report, suite))}</span></li>");
                    continue;
                }

                // What the recommendation costs, the next model in the same order and the one rule that separated them.
                var figures = cheapest.Choice is { } choice
                    ? $" <span class=\"figures\">{E(AnswerText.Figures(choice))}</span>"
                    : PartialNote(cheapest.PartialCoverage) is { Length: > 0 } partial ? $" ({E(partial)})" : "";
                Line($"<li><b>{E(suite.Suite)}</b> ({E(bar)}): cheapest sufficient <span class=\"sufficient\">{E(model)}</span>{figures}");
                Line("<ul class=\"detail\">");
                if (cheapest.RunnerUp is { } runnerUp)
                {
                    Line($"<li>runner-up <b>{E(runnerUp.ModelId)}</b> <span class=\"figures\">{E(AnswerText.Figures(runnerUp))}</span></li>");
                }

                Line($"<li class=\"muted\">{(cheapest.Decision is { } decision ? E(decision) + "; " : "")}{(sharedRule is null ? E(cheapest.CostRule) + "; " : "")}{Count(sufficient.Count, "model")} sufficient</li>");
                Line("</ul></li>");
            }
            else
            {
                Line(sufficient.Count > 0
                    ? $"<li><b>{E(suite.Suite)}</b> ({E(bar)}): sufficient <span class=\"sufficient\">{string.Join(", ", sufficient.Select(m => WithNote(suite.Suite, m)))}</span></li>"
                    : $"<li><b>{E(suite.Suite)}</b> ({E(bar)}): <span class=\"insufficient\">{E(AnswerText.NoneSufficient(report, suite))}</span></li>");
            }
        }

        foreach (var suite in report.OpenSuites)
        {
            var unranked = suite.Unranked ?? [];
            var notRanked = unranked.IsEmpty
                ? ""
                : $" <span class=\"muted\">(not ranked, errored or missing items: {E(string.Join(", ", unranked.Select(u => $"{u.ModelId} {CoverageText(u.Coverage)}")))})</span>";
            if (analysis?.Frontiers.FirstOrDefault(f => f.Suite == suite.Suite) is { } frontier)
            {
                var on = frontier.Entries.Where(e => e.OnFrontier).Select(e => e.ModelId).ToList();
                Line($"<li><b>{E(suite.Suite)}</b> (open): frontier <span class=\"front\">{E(string.Join(", ", on))}</span> <span class=\"muted\">(best {E(frontier.BestModelId)}; the others are not significantly worse by {E(frontier.Rule)})</span>{notRanked}</li>");
            }
            else if (!suite.Rows.IsEmpty)
            {
                var best = suite.Rows.Where(r => r.Rank == 1).Select(r => r.ModelId);
                Line($"<li><b>{E(suite.Suite)}</b> (open): best <span class=\"front\">{E(string.Join(", ", best))}</span>{notRanked}</li>");
            }
            else if (!unranked.IsEmpty || AnswerText.NotEvaluated(report, suite.Suite).Count > 0)
            {
                var missing = AnswerText.NotEvaluated(report, suite.Suite);
                Line($"<li><b>{E(suite.Suite)}</b> (open): <span class=\"undecided\">no model is ranked</span>{notRanked}{(missing.Count > 0 ? E("; no result: " + string.Join(", ", missing)) : "")}</li>");
            }
        }

        Line("</ul>");
        if (sharedRule is not null)
        {
            Line($"<p class=\"muted\">Cheapest: {E(sharedRule)}.</p>");
        }

        string PartialSuffix(string suite, string modelId) =>
            partialNotes.GetValueOrDefault((suite, modelId)) is { Length: > 0 } note ? $" <span class=\"muted\">({E(note)})</span>" : "";
        if (analysis is { Standings.IsDefaultOrEmpty: false })
        {
            Line("<h3>Each model</h3>");
            Line("<ul>");
            foreach (var standing in analysis.Standings)
            {
                var parts = new List<string>();
                if (!standing.CheapestSufficientFor.IsDefaultOrEmpty)
                {
                    parts.Add($"cheapest sufficient for <span class=\"sufficient\">{string.Join(", ", standing.CheapestSufficientFor.Select(s => E(s) + PartialSuffix(s, standing.ModelId)))}</span>");
                }

                if (!standing.SufficientFor.IsDefaultOrEmpty)
                {
                    parts.Add($"sufficient for {string.Join(", ", standing.SufficientFor.Select(s => E(s) + PartialSuffix(s, standing.ModelId)))}");
                }

                if (!standing.FrontierOn.IsDefaultOrEmpty)
                {
                    parts.Add($"on the frontier of <span class=\"front\">{E(string.Join(", ", standing.FrontierOn))}</span>");
                }

                var nothing = failed.FirstOrDefault(m => m.ModelId == standing.ModelId) is { } gone
                    ? $"<span class=\"insufficient\">{E(AnswerText.FailureVerb(gone)!)}</span>"
                    : "<span class=\"muted\">sufficient for no fixed suite and on no frontier</span>";
                Line($"<li><b>{E(standing.ModelId)}</b>: {(parts.Count == 0 ? nothing : string.Join("; ", parts))}</li>");
            }

            Line("</ul>");
        }

        Line("</section>");
    }

    // Fixed-suite error verdicts and open-suite models left unranked for errored items, in report order.
    private static IEnumerable<(string Suite, string ModelId, Coverage Coverage)> Errors(RunReport report) =>
        report.FixedSuites
            .SelectMany(s => s.Rows.Where(r => r.Verdict.Kind == VerdictKind.Error && r.Verdict.Coverage is not null)
                .Select(r => (s.Suite, r.ModelId, r.Verdict.Coverage!)))
            .Concat(report.OpenSuites.SelectMany(s => (s.Unranked ?? []).Where(u => u.Coverage.Errored > 0)
                .Select(u => (s.Suite, u.ModelId, u.Coverage))));

    private static void RenderFixedSuite(FixedSuiteReport suite, ReportCharts charts, IReadOnlySet<string> busy, Action<string> line)
    {
        void Line(string text = "") => line(text);
        Line("<section class=\"suite\">");
        Line($"<h2>{E(suite.Suite)} <span class=\"tag\">{E(Inv($"fixed · v{suite.Version} · {suite.ItemCount} items"))}</span></h2>");
        var sequential = suite.Rows.Any(r => r.Verdict.Sequential is not null);
        Line($"<p class=\"req\">{E(RequirementLine(suite.Requirement, sequential))}</p>");
        if (suite.Judge is { } judge)
        {
            Line($"<p class=\"req\">{E(judge.Describe())}</p>");
        }

        if (suite.Rows.IsEmpty)
        {
            Line("<p>No model has items on this suite yet.</p>");
            Line("</section>");
            return;
        }

        if (suite.Rows.Any(r => r.Verdict.PassRate is not null))
        {
            Line("<figure>");
            Line(charts.PassRates(suite));
            var interval = sequential ? "betting confidence sequence" : "Wilson interval";
            Line($"<figcaption>Pass rate per model (dot, coloured by verdict) with its {interval} at {E(Percent(suite.Requirement.Confidence, "0.#"))} confidence; dashed: the bar. A model is sufficient when its whole interval is above the bar.</figcaption>");
            Line("</figure>");
        }

        Line("<table>");
        Line("<thead><tr><th>model</th><th class=\"num\">pass rate [interval]</th><th>verdict</th><th>coverage</th><th class=\"num\">p50 / p95</th><th class=\"num\">J/item</th><th>reasons</th></tr></thead>");
        Line("<tbody>");
        var joules = SigColumn(suite.Rows.Select(r => r.Energy?.JoulesPerItem.Mean ?? r.Verdict.JoulesPerItem).OfType<double>());
        foreach (var row in suite.Rows)
        {
            var verdict = row.Verdict;
            var rate = verdict.PassRate is { } r
                ? Inv($"{Percent(r.Rate)} ({r.Successes}/{r.Trials}) [{Percent(r.Interval.Lower)}, {Percent(r.Interval.Upper)}]")
                : "–";
            if (verdict.CoverageBounds is { } bounds)
            {
                rate += Inv($"; with missing items [{Percent(bounds.Lower)}, {Percent(bounds.Upper)}]");
            }

            var kind = Name(verdict.Kind);
            Line($"<tr><td class=\"id\">{E(row.ModelId)}</td><td class=\"num\">{E(rate)}</td><td class=\"{kind}\">{kind}</td><td>{E(CoverageCell(verdict, suite.ItemCount))}</td><td class=\"num\">{E(Timed(busy, row.ModelId, Latencies(row.Performance)))}</td><td class=\"num\">{E(Timed(busy, row.ModelId, JoulesPerItem(row.Energy, verdict.JoulesPerItem, joules)))}</td><td class=\"reasons\">{E(string.Join("; ", verdict.Reasons))}</td></tr>");
        }

        Line("</tbody>");
        Line("</table>");
        RenderMetrics(suite.Metrics, Line);
        Line("</section>");
    }

    private static void RenderOpenSuite(OpenSuiteReport suite, FrontierSet? frontier, IReadOnlySet<string> busy, Action<string> line)
    {
        void Line(string text = "") => line(text);
        Line("<section class=\"suite\">");
        Line($"<h2>{E(suite.Suite)} <span class=\"tag\">{E(Inv($"open · v{suite.Version} · {suite.ItemCount} items"))}</span></h2>");
        if (suite.Rows.IsEmpty)
        {
            Line((suite.Unranked ?? []).IsEmpty ? "<p>No model has items on this suite yet.</p>" : "<p>No model has every item answered, so none is ranked.</p>");
            RenderUnranked(suite, Line);
            Line("</section>");
            return;
        }

        Line($"<p class=\"req\">{E(Inv($"Ranked by mean primary score; interval: Student-t at {Percent(suite.Rows[0].Score.Confidence, "0")} confidence."))}"
            + (frontier is null ? "" : E(Inv($" Frontier: not significantly below the best ({frontier.BestModelId}) by {frontier.Rule}; {frontier.Resamples} resamples, seed {frontier.Seed}.")))
            + "</p>");
        if (suite.Judge is { } judge)
        {
            Line($"<p class=\"req\">{E(judge.Describe())}</p>");
        }

        var entries = frontier?.Entries.ToDictionary(e => e.ModelId, StringComparer.Ordinal);
        Line("<table>");
        Line("<thead><tr><th class=\"num\">rank</th><th>model</th><th class=\"num\">mean [interval]</th><th class=\"num\">n</th>"
            + (entries is null ? "" : "<th>frontier</th><th class=\"num\">Δ vs best [interval]</th>")
            + "<th class=\"num\">p50 / p95</th><th class=\"num\">J/item</th></tr></thead>");
        Line("<tbody>");
        var joules = SigColumn(suite.Rows.Select(r => r.Energy?.JoulesPerItem.Mean).OfType<double>());
        foreach (var row in suite.Rows)
        {
            var score = row.Score;
            var interval = score.Interval is { } i ? Inv($" [{Fixed(i.Lower)}, {Fixed(i.Upper)}]") : " [n < 2]";
            var frontierCells = "";
            if (entries is not null)
            {
                frontierCells = entries.TryGetValue(row.ModelId, out var entry)
                    ? (entry.OnFrontier ? "<td class=\"front\">◆ on frontier</td>" : "<td class=\"muted\">below</td>")
                        + $"<td class=\"num\">{E(entry.DifferenceInterval is { } d ? Inv($"{entry.DifferenceFromBest:+0.000;-0.000;0.000} [{d.Lower:+0.000;-0.000;0.000}, {d.Upper:+0.000;-0.000;0.000}]") : "best")}</td>"
                    : "<td>–</td><td class=\"num\">–</td>";
            }

            Line($"<tr><td class=\"num\">{row.Rank.ToString(CultureInfo.InvariantCulture)}</td><td class=\"id\">{E(row.ModelId)}</td><td class=\"num\">{E(Fixed(score.Mean) + interval)}</td><td class=\"num\">{score.Count.ToString(CultureInfo.InvariantCulture)}</td>{frontierCells}<td class=\"num\">{E(Timed(busy, row.ModelId, Latencies(row.Performance)))}</td><td class=\"num\">{E(Timed(busy, row.ModelId, JoulesPerItem(row.Energy, null, joules)))}</td></tr>");
        }

        Line("</tbody>");
        Line("</table>");
        RenderUnranked(suite, Line);
        RenderMetrics(suite.Metrics, Line);
        Line("</section>");
    }

    // Every scorer's mean beside the one that decides (acc_norm, flexible extraction, IFEval's levels), as lm-eval lists them.
    private static void RenderMetrics(ImmutableArray<ScorerMetric>? metrics, Action<string> line)
    {
        if (metrics is not { IsEmpty: false } rows)
        {
            return;
        }

        line($"<p class=\"req\">{E(Inv($"Metrics: mean over answers; interval Wilson for pass/fail scores, Student-t otherwise, at {Percent(rows[0].Confidence, "0.#")}."))}</p>");
        line("<table>");
        line("<thead><tr><th>model</th><th>metric</th><th class=\"num\">n</th><th class=\"num\">mean [interval]</th><th class=\"num\">flexible</th></tr></thead>");
        line("<tbody>");
        foreach (var m in rows)
        {
            var interval = m.Interval is { } i ? Inv($" [{Fixed(i.Lower)}, {Fixed(i.Upper)}]") : "";
            line($"<tr><td class=\"id\">{E(m.ModelId)}</td><td>{E(m.Scorer)}</td><td class=\"num\">{m.Items.ToString(CultureInfo.InvariantCulture)}</td><td class=\"num\">{E(Fixed(m.Mean) + interval)}</td><td class=\"num\">{E(Fixed(m.FlexibleMean))}</td></tr>");
        }

        line("</tbody>");
        line("</table>");
    }

    private static void RenderUnranked(OpenSuiteReport suite, Action<string> line)
    {
        var unranked = suite.Unranked ?? [];
        if (unranked.IsEmpty)
        {
            return;
        }

        line("<p class=\"req\">Not ranked and not on the frontier (errored or missing items; a mean over the rest would rank a subset of the suite):</p>");
        line("<ul>");
        foreach (var exclusion in unranked)
        {
            var partial = exclusion.PartialScore is { } score ? Inv($"partial mean {Fixed(score.Mean)} over {score.Count} answers") : "no answers";
            var kind = exclusion.Coverage.Errored > 0 ? "<span class=\"error\">error</span>" : "<span class=\"undecided\">incomplete</span>";
            line($"<li><b>{E(exclusion.ModelId)}</b>: {kind}, {E(CoverageText(exclusion.Coverage))}; {E(partial)}; {E(string.Join("; ", exclusion.Reasons))}</li>");
        }

        line("</ul>");
    }

    private static void RenderCostQuality(RunReport report, ReportCharts charts, Action<string> line)
    {
        void Line(string text = "") => line(text);
        var suites = report.FixedSuites.Select(s => (s.Suite, Fixed: true)).Concat(report.OpenSuites.Select(s => (s.Suite, Fixed: false))).ToList();
        var figures = new List<string>();
        foreach (var (suite, isFixed) in suites)
        {
            var points = report.Analysis is { } analysis
                ? [.. analysis.CostQuality.Where(p => p.Suite == suite)]
                : PointsWithoutAnalysis(report, suite);
            var bar = isFixed ? report.FixedSuites.First(s => s.Suite == suite).Requirement.MinPassRate : (double?)null;
            var recommended = report.Analysis?.Cheapest.FirstOrDefault(c => c.Suite == suite)?.ModelId;
            if (points.Count == 0 || charts.CostQuality(suite, points, bar, recommended) is not { } chart)
            {
                continue;
            }

            figures.Add("<figure>\n<h3>" + E(suite) + "</h3>\n" + chart.Svg + "\n<figcaption>" + CostQualityCaption(report, points, chart, recommended, isFixed) + "</figcaption>\n</figure>");
        }

        if (figures.Count == 0)
        {
            return;
        }

        Line("<section>");
        Line("<h2>Cost against quality</h2>");
        Line("<p class=\"req\">x: joules per item where every model has it (≈ marks the CPU-time estimate), otherwise p95 latency; y: pass rate (fixed suites) or mean score (open suites).</p>");
        foreach (var figure in figures)
        {
            Line(figure);
        }

        Line("</section>");
    }

    // What the chart cannot show: the front the analysis computed on more axes than two, and the labels left out.
    private static string CostQualityCaption(RunReport report, List<CostQualityPoint> points, CostQualityChart chart, string? recommended, bool isFixed)
    {
        var parts = new List<string>
        {
            "Diamonds joined: the Pareto front of the two axes drawn (no other model is at least as good and cheaper on this axis). Circles: dominated on these two axes."
                + (isFixed ? " Dashed: the bar." : "")
                + (recommended is not null ? $" Ring: the Answer's choice, {E(recommended)}." : ""),
        };
        if (report.Analysis is null)
        {
            parts.Add("No cost-quality analysis in this report: the front is computed here from the points drawn.");
        }
        else
        {
            var drawn = chart.FrontOnPlot.ToHashSet(StringComparer.Ordinal);
            var wider = points.Where(p => p.OnParetoFront && !drawn.Contains(p.ModelId)).Select(p => p.ModelId).ToList();
            parts.Add("The analysis's front also weighs " + (chart.ByEnergy ? "p95 latency" : "J/item") + " and peak memory"
                + (wider.Count == 0
                    ? "; it adds no model to the one drawn."
                    : $": it adds {E(string.Join(", ", wider))}, cheaper than the front drawn on one of those costs."));
        }

        if (!chart.Unlabelled.IsDefaultOrEmpty)
        {
            var byId = points.ToDictionary(p => p.ModelId, StringComparer.Ordinal);
            parts.Add("Not labelled (no free place beside the point): " + E(string.Join("; ", chart.Unlabelled.Select(id =>
                $"{id} ({(chart.ByEnergy ? Sig(byId[id].JoulesPerItem ?? 0) + " J/item" : Ms(byId[id].P95Latency))}, {(isFixed ? Percent(byId[id].Quality) : Fixed(byId[id].Quality))})"))) + ".");
        }

        return string.Join(" ", parts);
    }

    // Without the analysis the plane can still be drawn from the suite rows; nothing is claimed about the front.
    private static List<CostQualityPoint> PointsWithoutAnalysis(RunReport report, string suite)
    {
        var points = new List<CostQualityPoint>();
        foreach (var row in report.FixedSuites.Where(s => s.Suite == suite).SelectMany(s => s.Rows))
        {
            if (row.Verdict.PassRate is { } rate && row.Verdict.Kind != VerdictKind.Error)
            {
                points.Add(new CostQualityPoint(row.ModelId, suite, rate.Rate, row.Energy?.JoulesPerItem.Mean,
                    row.Energy?.Quality == EnergyQuality.Estimated, row.Performance.P95Latency, row.PeakResidentMemoryBytes, false));
            }
        }

        foreach (var row in report.OpenSuites.Where(s => s.Suite == suite).SelectMany(s => s.Rows))
        {
            points.Add(new CostQualityPoint(row.ModelId, suite, row.Score.Mean, row.Energy?.JoulesPerItem.Mean,
                row.Energy?.Quality == EnergyQuality.Estimated, row.Performance.P95Latency, row.PeakResidentMemoryBytes, false));
        }

        return points;
    }

    private static void RenderLadders(
        string title, ImmutableArray<QuantizationLadder> ladders, ImmutableArray<string> notes, ReportCharts charts, Action<string> line)
    {
        void Line(string text = "") => line(text);
        Line("<section>");
        Line($"<h2>Quantization ladder <span class=\"tag\">{E(title)}</span></h2>");
        foreach (var ladder in ladders)
        {
            Line($"<h3>{E(ladder.Suite)}</h3>");
            string rule = ComparisonText.LadderRule(ladder);
            Line($"<p class=\"req\">{E(RequirementLine(ladder.Requirement))} {E(char.ToUpperInvariant(rule[0]) + rule[1..])}: "
                + (ladder.CheapestSufficientModelId is { } cheapest ? $"<span class=\"sufficient\">{E(cheapest)}</span>" : "<span class=\"insufficient\">none</span>")
                + ".</p>");
            if (ladder.AnswerNote is { } note)
            {
                Line($"<p class=\"req\">{E(note)}</p>");
            }

            // The chart's x axis is file size: with the files all the same size, or some model without one, it says nothing.
            if (ladder.Order == LadderOrder.FileSize && ladder.Rungs.Any(r => r.PassRate is not null))
            {
                Line("<figure>");
                var chart = charts.Ladder(ladder);
                Line(chart.Svg);
                Line("<figcaption>Pass rate with its interval against file size; dot colour: verdict; dashed: the bar."
                    + (chart.Unlabelled.IsDefaultOrEmpty ? "" : $" Not labelled (no free place beside the point): {E(string.Join(", ", chart.Unlabelled))}; the table below lists every rung.")
                    + "</figcaption>");
                Line("</figure>");
            }

            Line("<table>");
            Line("<thead><tr><th>model</th><th class=\"num\">file size</th><th class=\"num\">bits/param</th><th class=\"num\">p95 latency</th><th class=\"num\">pass rate [interval]</th><th>verdict</th><th class=\"num\">J/item</th></tr></thead>");
            Line("<tbody>");
            var joules = SigColumn(ladder.Rungs.Select(r => r.JoulesPerItem).OfType<double>());
            foreach (var rung in ladder.Rungs)
            {
                var kind = Name(rung.Verdict);
                var rate = rung.PassRate is { } p && rung.PassRateInterval is { } i ? Inv($"{Percent(p)} [{Percent(i.Lower)}, {Percent(i.Upper)}]") : "–";
                Line($"<tr><td class=\"id\">{E(rung.ModelId)}</td><td class=\"num\">{E(rung.FileSizeBytes > 0 ? Bytes(rung.FileSizeBytes) : "no file")}</td><td class=\"num\">{E(Number(rung.BitsPerParameter, "0.00"))}</td><td class=\"num\">{E(rung.P95Latency is { } p95 ? Inv($"{p95.TotalMilliseconds:0} ms") : "–")}</td><td class=\"num\">{E(rate)}</td><td class=\"{kind}\">{kind}</td><td class=\"num\">{E(rung.JoulesPerItem is { } j ? joules(j) : "–")}</td></tr>");
            }

            Line("</tbody>");
            Line("</table>");
        }

        if (!notes.IsDefaultOrEmpty)
        {
            Line("<ul class=\"muted\">");
            foreach (var note in notes)
            {
                Line($"<li>{E(note)}</li>");
            }

            Line("</ul>");
        }

        Line("</section>");
    }

    private static void RenderModels(RunReport report, Action<string> line)
    {
        void Line(string text = "") => line(text);
        if (report.Models.IsEmpty)
        {
            return;
        }

        Line("<section>");
        Line("<h2>Models</h2>");
        Line("<table>");
        Line("<thead><tr><th>model</th><th>status</th><th class=\"num\">file size</th><th class=\"num\">load time</th><th class=\"num\">peak memory</th><th>backend</th><th class=\"num\">items</th><th>failure</th></tr></thead>");
        Line("<tbody>");
        foreach (var model in report.Models)
        {
            var status = model.Status is { } s ? Name(s) : "not started";
            var css = model.Status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed ? " class=\"insufficient\"" : "";
            Line($"<tr><td class=\"id\">{E(model.ModelId)}</td><td{css}>{E(status)}</td><td class=\"num\">{E(model.LocalFileSizeBytes is { } size ? Bytes(size) : "served")}</td><td class=\"num\">{E(model.LoadInfo is { } load ? Ms(load.LoadTime) : "–")}</td><td class=\"num\">{E(Bytes(model.PeakResidentMemoryBytes))}</td><td>{E(model.LoadInfo?.Backend ?? "–")}</td><td class=\"num\">{model.ItemsRecorded.ToString(CultureInfo.InvariantCulture)}</td><td class=\"reasons\">{E(model.Failure ?? "")}</td></tr>");
        }

        Line("</tbody>");
        Line("</table>");
        RenderContention(report, Line);
        Line("</section>");
    }

    // A timing figure measured on a busy machine carries the mark wherever it is shown.
    private static string Timed(IReadOnlySet<string> busy, string modelId, string figure) =>
        busy.Contains(modelId) && figure != "–" ? $"{figure} {ContentionText.BusyMark}" : figure;

    private static void RenderContention(RunReport report, Action<string> line)
    {
        var measured = report.Models.Where(m => m.Contention is not null).ToArray();
        if (measured.Length == 0)
        {
            return;
        }

        line("<h3>Machine contention during each model's items</h3>");
        line("<p class=\"muted\">" + E("Shares of the machine's CPU time"
            + (report.Contention is { } plan ? $"; {ContentionText.PlanLine(plan)}" : "")
            + $". Figures marked {ContentionText.BusyMark} decide no latency or energy ceiling.") + "</p>");
        line("<table>");
        line("<thead><tr><th>model</th>" + string.Concat(ContentionText.Headers.Select(h => $"<th class=\"num\">{E(h)}</th>")) + "<th>busy</th></tr></thead>");
        line("<tbody>");
        foreach (var model in measured)
        {
            var css = model.BusyMachine is not null ? " class=\"insufficient\"" : "";
            line($"<tr><td class=\"id\">{E(model.ModelId)}</td>" + string.Concat(ContentionText.Cells(model.Contention!).Select(c => $"<td class=\"num\">{E(c)}</td>"))
                + $"<td{css}>{E(model.BusyMachine?.Reason ?? model.Contention!.Unavailable ?? "no")}</td></tr>");
        }

        line("</tbody>");
        line("</table>");
    }

    private static void RenderEnvironment(RunReport report, Action<string> line)
    {
        void Line(string text = "") => line(text);
        var host = report.Host;
        Line("<section>");
        Line("<h2>Environment and energy</h2>");
        Line("<ul>");
        Line($"<li>Host: {E(Inv($"{host.HostName}, {host.CpuModel}, {host.LogicalCores} logical cores, {Bytes(host.TotalMemoryBytes)} memory"))}</li>");
        Line($"<li>OS: {E($"{host.OperatingSystem} ({host.Architecture}), {Runtime(host.DotnetVersion)}")}</li>");
        if (report.Machines is { } machines)
        {
            Line($"<li>{E(MarkdownReportWriter.ShardedRunLine(machines))}</li>");
        }
        if (!host.CpuFeatures.IsDefaultOrEmpty)
        {
            Line($"<li>CPU features: {E(string.Join(' ', host.CpuFeatures))}</li>");
        }

        if (!report.Versions.IsEmpty)
        {
            // Ordinal order: the dictionary's own comparer may be culture-sensitive after a JSON round trip.
            Line($"<li>Versions: {E(string.Join(", ", report.Versions.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key} {v.Value}")))}</li>");
        }

        if (report.Energy is { } plan)
        {
            Line($"<li>Power at start: {E(PowerLine(plan.PowerAtStart))}</li>");
        }

        Line("</ul>");
        if (report.Energy is not { } energy)
        {
            Line("<p class=\"muted\">This run was planned before energy was measured.</p>");
            Line("</section>");
            return;
        }

        if (energy.Selected.Contains("estimate"))
        {
            Line("<p class=\"warning\"><strong>Energy is estimated, not measured:</strong> "
                + E(Inv($"no meter below is usable, so every figure is CPU-seconds of the model's process × {energy.Estimate.WattsPerCore:0.###} W per core{(energy.Estimate.GpuBoardWatts is { } gpu ? Inv($" (+ request time × {gpu:0.###} W for GPU layers)") : "")}. Estimates are marked ≈; they never decide an energy ceiling. `harness doctor` says how to enable a meter."))
                + "</p>");
        }
        else
        {
            Line($"<p>Energy measured by {E(string.Join(" + ", energy.Probes.Where(p => energy.Selected.Contains(p.Source)).Select(p => $"{p.Source} ({p.Scope})")))}.</p>");
        }

        Line(Inv($"<p class=\"muted\">Meters probed; counters read every {energy.SampleInterval.TotalMilliseconds:0} ms at most; idle baseline {energy.IdleBaseline.TotalSeconds:0.#} s per model, model loaded.</p>"));
        Line("<table>");
        Line("<thead><tr><th>meter</th><th>usable</th><th>scope</th><th class=\"num\">counter update</th><th>detail</th><th>to enable</th></tr></thead>");
        Line("<tbody>");
        foreach (var probe in energy.Probes)
        {
            var usable = probe.Usable ? (energy.Selected.Contains(probe.Source) ? "yes, used" : "yes, not used") : "no";
            Line($"<tr><td>{E(probe.Source)}</td><td>{E(usable)}</td><td>{E(probe.Scope)}</td><td class=\"num\">{E(Ms(probe.UpdateInterval))}</td><td class=\"reasons\">{E(probe.Detail)}</td><td class=\"reasons\">{E(probe.Remedy ?? "–")}</td></tr>");
        }

        Line("</tbody>");
        Line("</table>");
        Line("</section>");
    }

    private static string EnergyShort(EnergyPlan? plan) => plan switch
    {
        null => "energy not recorded",
        _ when plan.Selected.Contains("estimate") => "energy estimated (≈), no meter",
        _ => "energy measured by " + string.Join(" + ", plan.Selected),
    };

    /// <param name="format">The column's format (<see cref="SigColumn"/>), so the figures of one table read alike.</param>
    private static string JoulesPerItem(EnergySummary? energy, double? fromVerdict, Func<double, string> format) =>
        energy is not null
            ? (energy.Quality == EnergyQuality.Estimated ? "≈ " : "") + format(energy.JoulesPerItem.Mean)
            : fromVerdict is { } j ? format(j) : "–";

    private static string Count(int count, string noun) =>
        count.ToString(CultureInfo.InvariantCulture) + " " + noun + (count == 1 ? "" : "s");
}
