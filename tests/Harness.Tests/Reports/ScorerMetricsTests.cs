using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Tests.Serialization;

namespace Harness.Tests.Reports;

public sealed class ScorerMetricsTests
{
    // acc decides, acc_norm beside it: 3 items, acc 2/3, acc_norm 1/3; a failed answer (the model's fault) counts 0 for
    // both; an errored item is no answer.
    [Fact]
    public void Every_scorer_gets_its_mean_over_the_answers_with_failed_answers_as_zero()
    {
        ItemRecord Item(string id, double acc, double accNorm) =>
            SampleRecords.Item("m", "s", id, passed: acc == 1) with
            {
                Scores = [new Score("choice", acc, null, acc, null, null), new Score(ModelEvaluator.NormalizedChoiceScorer, accNorm, null, accNorm, null, null)],
            };
        ItemRecord[] items =
        [
            Item("1", 1, 1),
            Item("2", 1, 0),
            Item("3", 0, 0),
            SampleRecords.Item("m", "s", "4", passed: false, status: ItemStatus.Failed) with { Failure = ItemFailureKind.ContextOverflow },
            SampleRecords.Item("m", "s", "5", passed: false, status: ItemStatus.Failed) with { Failure = ItemFailureKind.Timeout },
        ];

        var metrics = ScorerMetrics.Of([("m", items)], 0.95);

        Assert.Equal(["choice", "acc_norm"], metrics.Select(m => m.Scorer));
        Assert.All(metrics, m => Assert.Equal(4, m.Items));
        Assert.Equal(0.5, metrics[0].Mean, 12);
        Assert.Equal(0.25, metrics[1].Mean, 12);
        // Wilson at 95 % for 2/4, worked by hand: centre (0.5 + z²/8) / (1 + z²/4) = 0.5, half-width
        // z·sqrt(0.0625 + z²/64) / (1 + z²/4) = 0.3498.
        Assert.Equal(0.1500, metrics[0].Interval!.Lower, 3);
        Assert.Equal(0.8500, metrics[0].Interval!.Upper, 3);
    }

    [Fact]
    public void Graded_scores_get_a_t_interval_clipped_to_the_unit_range_and_a_single_score_suite_has_no_rows()
    {
        ItemRecord Item(string id, double value, double flexible) =>
            SampleRecords.Item("m", "s", id, passed: false) with
            {
                Scores = [new Score("judge", value, null, flexible, null, null), new Score("similarity", value, null, flexible, null, null)],
            };

        var metrics = ScorerMetrics.Of([("m", [Item("1", 1.0, 1.0), Item("2", 0.98, 1.0), Item("3", 1.0, 1.0)])], 0.95);
        Assert.Equal(0.98 + 0.02 * 2 / 3, metrics[0].Mean, 12);
        Assert.Equal(1.0, metrics[0].Interval!.Upper);
        Assert.Equal(1.0, metrics[0].FlexibleMean);

        var single = ScorerMetrics.Of([("m", [SampleRecords.Item("m", "s", "1", passed: true)])], 0.95);
        Assert.Empty(single);
    }
}
