using Harness.Core.Runs;
using Harness.Core.Verdicts;
using static Harness.Core.Reports.ReportText;

namespace Harness.Core.Reports;

/// <summary>
/// The Answer's sentences, shared by report.md, report.html and the console summary so that all three say the same:
/// what each recommendation costs, the runner-up, the rule that decided, and which models gave no result and why.
/// Plain text: each writer escapes and marks it up for its own format.
/// </summary>
public static class AnswerText
{
    /// <summary>"pass 97.0% [93.6%, 98.6%] · ≈ 0.0123 J/item (estimated) · p50 / p95 21 / 42 ms · 44.0 KiB".</summary>
    public static string Figures(AnswerFigures figures)
    {
        ArgumentNullException.ThrowIfNull(figures);
        var parts = new List<string>
        {
            figures.PassRate is { } rate
                ? Inv($"pass {Percent(rate.Rate)} [{Percent(rate.Interval.Lower)}, {Percent(rate.Interval.Upper)}]")
                : "pass rate –",
            figures.JoulesPerItem is { } joules
                ? (figures.EnergyEstimated ? "≈ " : "") + Sig(joules) + " J/item" + (figures.EnergyEstimated ? " (estimated)" : " (measured)")
                : "J/item not measured",
            figures.P50Latency is { } p50 && figures.P95Latency is { } p95
                ? Inv($"p50 / p95 {Number(p50.TotalMilliseconds, "0")} / {Number(p95.TotalMilliseconds, "0")} ms")
                : "p50 / p95 –",
            figures.FileSizeBytes is { } size ? Bytes(size) : "served (no local file)",
        };
        string text = string.Join(" · ", parts);
        if (figures.EnergyBusy)
        {
            text += " " + ContentionText.BusyMark;
        }

        return PartialNote(figures.PartialCoverage) is { Length: > 0 } note ? $"{text} ({note})" : text;
    }

    /// <summary>What a model that has no result on a suite went through: "did not load", "crashed", "did not run".</summary>
    public static string? FailureVerb(ModelSummary model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return model.Status switch
        {
            ModelRunStatus.LoadFailed => "did not load",
            ModelRunStatus.Crashed => "crashed",
            // No record but items: a report built from items alone; the model did run.
            null when model.ItemsRecorded == 0 => "did not run",
            _ => null,
        };
    }

    /// <summary>Models of the run that did not load or crashed, each with its reason: the Answer says them first.</summary>
    public static IEnumerable<string> Failures(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return report.Models
            .Where(m => m.Status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed)
            .Select(m => $"{m.ModelId} {FailureVerb(m)}: {m.Failure ?? "no reason recorded"}");
    }

    /// <summary>"small did not load" for every model with no row on <paramref name="suite"/> because it failed or never ran.</summary>
    public static IReadOnlyList<string> NotEvaluated(RunReport report, string suite)
    {
        ArgumentNullException.ThrowIfNull(report);
        var present = report.FixedSuites.Where(s => s.Suite == suite).SelectMany(s => s.Rows.Select(r => r.ModelId))
            .Concat(report.OpenSuites.Where(s => s.Suite == suite).SelectMany(s => s.Rows.Select(r => r.ModelId).Concat((s.Unranked ?? []).Select(u => u.ModelId))))
            .ToHashSet(StringComparer.Ordinal);
        return [.. report.Models
            .Where(m => !present.Contains(m.ModelId) && FailureVerb(m) is not null)
            .Select(m => $"{m.ModelId} {FailureVerb(m)}")];
    }

    /// <summary>
    /// A fixed suite with no sufficient model: the verdict counts and any model that gave no result, e.g. "no model is
    /// sufficient (1 insufficient; no result: small did not load)", "no verdict: … (error …)" when every model is in
    /// error, or "no model has results: small did not load" when nothing ran on it.
    /// </summary>
    public static string NoneSufficient(RunReport report, FixedSuiteReport suite)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(suite);
        var missing = NotEvaluated(report, suite.Suite);
        if (suite.Rows.IsEmpty)
        {
            return missing.Count > 0 ? "no model has results: " + string.Join(", ", missing) : "no model has results yet";
        }

        int undecided = suite.Rows.Count(r => r.Verdict.Kind == VerdictKind.Undecided);
        int insufficient = suite.Rows.Count(r => r.Verdict.Kind == VerdictKind.Insufficient);
        int errors = suite.Rows.Count(r => r.Verdict.Kind == VerdictKind.Error);
        string noResult = missing.Count > 0 ? "; no result: " + string.Join(", ", missing) : "";
        if (insufficient == 0 && undecided == 0)
        {
            // Every row is in error: nothing was judged on its answers, so "insufficient" would be a false statement.
            var inError = suite.Rows.Where(r => r.Verdict.Kind == VerdictKind.Error).Select(r => r.ModelId);
            return $"no verdict: items that say nothing about the answers failed for {string.Join(", ", inError)} (error; see the coverage){noResult}";
        }

        var counts = new List<string>();
        if (insufficient > 0) counts.Add(Inv($"{insufficient} insufficient"));
        if (undecided > 0) counts.Add(Inv($"{undecided} undecided"));
        if (errors > 0) counts.Add(Inv($"{errors} in error"));
        return $"no model is sufficient ({string.Join(", ", counts)}{noResult})";
    }

    /// <summary>
    /// The whole Answer as plain lines, for the console: failed models, then per fixed suite the recommendation with its
    /// figures, the runner-up and the deciding rule, then per open suite its frontier.
    /// </summary>
    public static IReadOnlyList<string> Lines(RunReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var lines = new List<string>();
        lines.AddRange(Failures(report));
        foreach (FixedSuiteReport suite in report.FixedSuites)
        {
            string head = $"{suite.Suite} (bar ≥ {Percent(suite.Requirement.MinPassRate)})";
            CheapestSufficient? cheapest = report.Analysis?.Cheapest.FirstOrDefault(c => c.Suite == suite.Suite);
            if (cheapest?.ModelId is not { } model)
            {
                lines.Add($"{head}: {NoneSufficient(report, suite)}");
                continue;
            }

            lines.Add($"{head}: cheapest sufficient {model}" + (cheapest.Choice is { } choice ? $": {Figures(choice)}" : ""));
            if (cheapest.RunnerUp is { } runnerUp)
            {
                lines.Add($"  runner-up {runnerUp.ModelId}: {Figures(runnerUp)}");
            }

            if (cheapest.Decision is { } decision)
            {
                lines.Add($"  {decision}");
            }
        }

        foreach (OpenSuiteReport suite in report.OpenSuites)
        {
            if (report.Analysis?.Frontiers.FirstOrDefault(f => f.Suite == suite.Suite) is { } frontier)
            {
                lines.Add($"{suite.Suite} (open): frontier {string.Join(", ", frontier.Entries.Where(e => e.OnFrontier).Select(e => e.ModelId))} (best {frontier.BestModelId})");
            }
            else if (NotEvaluated(report, suite.Suite) is { Count: > 0 } missing && suite.Rows.IsEmpty)
            {
                lines.Add($"{suite.Suite} (open): no model is ranked; no result: {string.Join(", ", missing)}");
            }
        }

        return lines;
    }
}
