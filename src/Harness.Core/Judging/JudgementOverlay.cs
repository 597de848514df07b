using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Runs;
using Harness.Core.Scoring;

namespace Harness.Core.Judging;

/// <summary>How much of a judged suite the judge reached, for the report.</summary>
/// <param name="Judged">Items with a verdict.</param>
/// <param name="Errors">Items the judge looked at without reaching a verdict (each record says why).</param>
/// <param name="NotJudged">Items with no judgement yet (the judge did not run, failed to load, or the run was cut short).</param>
/// <param name="Spec">The spec the judge followed, from its judgements; null when nothing was judged yet.</param>
public sealed record JudgeSummary(string JudgeModelId, string? JudgeFileSha256, JudgeSpec? Spec, int Judged, int Errors, int NotJudged)
{
    /// <summary>One sentence for reports: who judged, how, and how much it reached.</summary>
    public string Describe()
    {
        var how = Spec switch
        {
            null => "no judgement yet",
            { Mode: JudgeMode.Pointwise } spec => string.Create(CultureInfo.InvariantCulture, $"pointwise on {spec.ScaleMin}..{spec.ScaleMax}, pass at {spec.PassAt}"),
            // The report's score s is the mean of (rating - 1) / 9, so MT-bench's score is 1 + 9 s.
            { Mode: JudgeMode.MtBench } => "MT-bench single-answer grading, mean turn rating r reported as (r - 1) / 9: MT-bench score = 1 + 9 × score",
            var spec => $"pairwise against {spec.AgainstModelId}, both orders",
        };
        var sha = JudgeFileSha256 is { Length: >= 12 } hash ? $", sha256 {hash[..12]}…" : "";
        return string.Create(CultureInfo.InvariantCulture,
            $"Scores by judge {JudgeModelId}{sha} ({how}): {Judged} items judged, {Errors} without a verdict, {NotJudged} not judged.");
    }
}

/// <summary>
/// Puts the judge's verdicts in place of the <c>judge</c> scorer's placeholders, so verdicts, rankings and frontiers
/// read judged values like any other score. Pure: the stored item records are never rewritten.
/// </summary>
public static class JudgementOverlay
{
    /// <summary>Items with their judge scores filled in, and a summary per judged suite.</summary>
    public static (IReadOnlyList<ItemRecord> Items, ImmutableDictionary<string, JudgeSummary> Summaries) Apply(
        IReadOnlyList<RunSuite> suites, IReadOnlyList<ItemRecord> items, IReadOnlyList<JudgementRecord> judgements)
    {
        ArgumentNullException.ThrowIfNull(suites);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(judgements);
        var judgedSuites = suites
            .Select(s => (Suite: s, Index: s.Scorers.Select((spec, i) => (spec, i)).FirstOrDefault(x => x.spec.Name == JudgeSpec.ScorerName)))
            .Where(x => x.Index.spec is not null)
            .ToDictionary(x => x.Suite.Name, x => (x.Index.i, x.Index.spec.Arguments), StringComparer.Ordinal);
        if (judgedSuites.Count == 0)
        {
            return (items, ImmutableDictionary<string, JudgeSummary>.Empty);
        }

        // The newest judgement per item wins, as for every other record.
        var byKey = new Dictionary<(string, string, string), JudgementRecord>();
        foreach (var judgement in judgements)
        {
            byKey[(judgement.ModelId, judgement.Suite, judgement.ItemId)] = judgement;
        }

        var counts = new Dictionary<string, (int Judged, int Errors, int Missing, JudgementRecord? Any)>(StringComparer.Ordinal);
        var result = new List<ItemRecord>(items.Count);
        foreach (var item in items)
        {
            if (!judgedSuites.TryGetValue(item.Key.Suite, out var judged) || item.Scores.Length <= judged.i)
            {
                result.Add(item);
                continue;
            }

            var c = counts.GetValueOrDefault(item.Key.Suite);
            if (!byKey.TryGetValue((item.Key.ModelId, item.Key.Suite, item.Key.ItemId), out var judgement))
            {
                counts[item.Key.Suite] = (c.Judged, c.Errors, c.Missing + 1, c.Any);
                result.Add(WithoutVerdict(item, "no judgement yet: the judge did not run on this item (harness run --resume <run> --judge <model>)"));
                continue;
            }

            counts[item.Key.Suite] = judgement.Error is null ? (c.Judged + 1, c.Errors, c.Missing, judgement) : (c.Judged, c.Errors + 1, c.Missing, judgement);
            var answer = judgement.Error is null ? judgement.Score.ToString("0.###", CultureInfo.InvariantCulture) : null;
            var detail = judgement.Spec.Mode switch
            {
                JudgeMode.Pointwise => string.Create(CultureInfo.InvariantCulture, $" on {judgement.Spec.ScaleMin}..{judgement.Spec.ScaleMax}"),
                JudgeMode.MtBench => " mean turn rating on 1..10 (turns: " + string.Join(", ", judgement.Calls.Select(c => c.Parsed ?? "?")) + ")",
                _ => $" against {judgement.Spec.AgainstModelId}",
            };
            var explanation = judgement.Error
                ?? $"judge {judgement.JudgeModelId} ({ModeName(judgement.Spec.Mode)}): {answer}{detail}";
            // A judge has no looser extraction; its flexible value only makes a pass at pass_at (below the top) count as one.
            var flexible = judgement.Passed ? 1 : judgement.NormalizedScore;
            var score = new Score(JudgeSpec.ScorerName, judgement.NormalizedScore, answer, flexible, answer, explanation);
            var scores = item.Scores.SetItem(judged.i, score);
            var overlaid = item with { Scores = scores, Passed = judged.i == 0 ? item.Status == ItemStatus.Scored && judgement.Passed : item.Passed };
            result.Add(judgement.Error is null ? overlaid : WithoutVerdict(overlaid, $"judge {judgement.JudgeModelId}: {judgement.Error}"));
        }

        var summaries = ImmutableDictionary.CreateBuilder<string, JudgeSummary>(StringComparer.Ordinal);
        foreach (var (suite, judged) in judgedSuites)
        {
            var judgeId = judged.Arguments.TryGetValue("model", out var model) && model.ValueKind == System.Text.Json.JsonValueKind.String
                ? model.GetString()!
                : "unknown";
            var c = counts.GetValueOrDefault(suite);
            summaries[suite] = new JudgeSummary(judgeId, c.Any?.JudgeFileSha256, c.Any?.Spec, c.Judged, c.Errors, c.Missing);
        }

        return (result, summaries.ToImmutable());
    }

    /// <summary>
    /// An answered item the judge gave no verdict is an item whose scorer could not run: its placeholder score is not
    /// a rating, so it must leave the (model, suite) in error (fixed) or unranked (open), never count as the worst
    /// rating. An item that already failed keeps its own failure.
    /// </summary>
    private static ItemRecord WithoutVerdict(ItemRecord item, string why) =>
        item.Status != ItemStatus.Scored
            ? item
            : item with { Status = ItemStatus.Failed, Passed = false, Failure = ItemFailureKind.Scorer, Error = why };

    /// <summary>The mode as suites spell it.</summary>
    public static string ModeName(JudgeMode mode) => mode == JudgeMode.MtBench ? "mt-bench" : mode.ToString().ToLowerInvariant();
}
