using System.Collections.Immutable;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Verdicts;

namespace Harness.Core.Reports;

/// <summary>
/// One scorer's mean over a model's answers on a suite: what lm-eval prints as a metric row (acc, acc_norm, strict and
/// flexible exact match, IFEval's prompt- and instruction-level accuracies). Failed answers (the model's fault) count
/// as 0 for every scorer; errored and missing items are not answers and are left out, as in the verdict's coverage.
/// </summary>
/// <param name="Scorer">The score's name as recorded (the primary scorer first; acc_norm for log-likelihood suites).</param>
/// <param name="Items">Answers the mean is over.</param>
/// <param name="Interval">Wilson interval when every value is 0 or 1, else Student-t; null with fewer than two values.</param>
/// <param name="FlexibleMean">Mean of the flexible values (the scorer's lenient extraction), equal to the mean where a
/// scorer has none.</param>
public sealed record ScorerMetric(string ModelId, string Scorer, int Items, double Mean, Interval? Interval, double FlexibleMean, double Confidence);

/// <summary>Builds <see cref="ScorerMetric"/> rows; pure.</summary>
public static class ScorerMetrics
{
    /// <summary>
    /// Every scorer of the suite for every model with items, models in the order given, scorers in the order the first
    /// scored item records them. Empty when the suite's items carry one score only (the verdict table says it all).
    /// </summary>
    public static ImmutableArray<ScorerMetric> Of(
        IEnumerable<(string ModelId, IReadOnlyCollection<ItemRecord> Items)> models, double confidence)
    {
        var rows = ImmutableArray.CreateBuilder<ScorerMetric>();
        foreach (var (modelId, items) in models)
        {
            ItemRecord[] answers = [.. items.Where(Coverage.IsAnswer)];
            var names = answers.FirstOrDefault(i => i.Status == ItemStatus.Scored)?.Scores.Select(s => s.Scorer).ToArray() ?? [];
            if (names.Length < 2)
            {
                continue;
            }

            foreach (var name in names)
            {
                double[] values = new double[answers.Length];
                double[] flexible = new double[answers.Length];
                for (var i = 0; i < answers.Length; i++)
                {
                    var score = answers[i].Scores.IsDefaultOrEmpty ? null : answers[i].Scores.FirstOrDefault(s => s.Scorer == name);
                    values[i] = score?.Value ?? 0;
                    flexible[i] = score?.FlexibleValue ?? 0;
                }

                rows.Add(Summarize(modelId, name, values, flexible, confidence));
            }
        }

        return rows.ToImmutable();
    }

    private static ScorerMetric Summarize(string modelId, string scorer, double[] values, double[] flexible, double confidence)
    {
        double flexibleMean = flexible.Length == 0 ? 0 : flexible.Average();
        if (values.All(v => v is 0 or 1))
        {
            var passes = values.Count(v => v == 1);
            ProportionEstimate? rate = values.Length == 0 ? null : Estimators.Wilson(passes, values.Length, confidence);
            return new ScorerMetric(modelId, scorer, values.Length, rate?.Rate ?? 0, values.Length < 2 ? null : rate?.Interval, flexibleMean, confidence);
        }

        // A mean of scores bounded by [0, 1] has an interval bounded by them too.
        var mean = Estimators.MeanWithTInterval(values, confidence, 0, 1);
        return new ScorerMetric(modelId, scorer, values.Length, mean.Mean, mean.Interval, flexibleMean, confidence);
    }
}
