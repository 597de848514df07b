using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Core.Verdicts;
using Harness.Tests.Serialization;

namespace Harness.Tests.Verdicts;

/// <summary>The verdict over the items the suite has: missing items, the model's failures and errors.</summary>
public class CoverageTests
{
    private static readonly Requirement Bar90 = new(0.9, 0.95, null, null);

    private static List<ItemRecord> Passing(int count, int from = 0) =>
        [.. Enumerable.Range(from, count).Select(i => SampleRecords.Item("m", "s", $"q{i:D4}", passed: true))];

    private static ItemRecord Failed(int index, ItemFailureKind? kind, string error = "failed") =>
        SampleRecords.Item("m", "s", $"q{index:D4}", passed: false, status: ItemStatus.Failed) with { Failure = kind, Error = error };

    [Fact]
    public void Each_planned_item_is_counted_once_as_scored_failed_errored_or_missing()
    {
        List<ItemRecord> items =
        [
            .. Passing(5),
            Failed(5, ItemFailureKind.Timeout),
            Failed(6, ItemFailureKind.WorkerCrash),
            Failed(7, null), // recorded before failure kinds existed: the model's, as it always was
            Failed(8, ItemFailureKind.ModelOutput),
            Failed(11, ItemFailureKind.ContextOverflow, "the prompt has 310 tokens but the context size is 256"),
            Failed(9, ItemFailureKind.ContextOverflow, "the prompt has 303 tokens but the context size is 256"),
            Failed(10, ItemFailureKind.ContextOverflow, "the prompt has 400 tokens but the context size is 256"),
            Failed(12, ItemFailureKind.Scorer, "reference file missing"),
            Failed(13, ItemFailureKind.Backend, "protocol error"),
        ];

        Coverage coverage = Coverage.Of(items, plannedItems: 20);

        Assert.Equal((20, 5, 4, 5, 6), (coverage.Total, coverage.Evaluated, coverage.Failed, coverage.Errored, coverage.Missing));
        Assert.Equal(9, coverage.Answered);
        Assert.False(coverage.IsComplete);
        // Largest group first; the example is the first item of the group in id order.
        Assert.Equal(
            [(ItemFailureKind.ContextOverflow, 3, "q0009"), (ItemFailureKind.Backend, 1, "q0013"), (ItemFailureKind.Scorer, 1, "q0012")],
            coverage.Errors.Select(e => (e.Kind, e.Count, e.ExampleItemId)));
        Assert.Equal("the prompt has 303 tokens but the context size is 256", coverage.Errors[0].ExampleError);
        Assert.Equal("5 scored, 4 failed, 5 errored, 6 missing of 20", coverage.Describe());
    }

    [Fact]
    public void Without_a_plan_the_records_are_the_whole_suite()
    {
        Coverage coverage = Coverage.Of(Passing(7), plannedItems: null);

        Assert.Equal((7, 7, 0), (coverage.Total, coverage.Evaluated, coverage.Missing));
        Assert.True(coverage.IsComplete);
        Assert.Equal("7 scored of 7", coverage.Describe());
    }

    // 90 scored items, all passing, and 10 the model never reached, on a bar of 90% at 95%.
    // Counting the 10 as failures: Wilson lower bound of 90/100 = 0.82563 < 0.9, so not sufficient.
    // Counting them as passes: the upper bound of 100/100 is 1 ≥ 0.9, so not insufficient either: undecided.
    // Read as a 90-item suite instead, 90/90 has lower bound 90 / (90 + z²) = 0.95906 and would be "sufficient".
    [Fact]
    public void Missing_items_count_as_failures_for_the_lower_bound()
    {
        List<ItemRecord> items = Passing(90);

        FixedSuiteVerdict planned = VerdictCalculator.Decide("m", "s", Bar90, items, plannedItems: 100);
        FixedSuiteVerdict unplanned = VerdictCalculator.Decide("m", "s", Bar90, items);

        Assert.Equal(VerdictKind.Undecided, planned.Kind);
        Assert.Equal(0.82563, planned.CoverageBounds!.Lower, 5);
        Assert.Equal(1.0, planned.CoverageBounds.Upper, 12);
        Assert.Equal((90, 90, 10), (planned.Items, planned.Passed, planned.Coverage!.Missing));
        Assert.Equal(
            "pass rate 90/90 with 10 of 100 items missing: the two-sided 95% Wilson bounds 82.6% (missing counted as failures) to 100.0% (as passes) contain the bar 90.0%",
            planned.Reasons[0]);
        Assert.Contains(planned.Reasons, r => r.Contains("`harness run --resume` evaluates them", StringComparison.Ordinal));

        Assert.Equal(VerdictKind.Sufficient, unplanned.Kind);
        Assert.Equal(0.95906, unplanned.PassRate!.Interval.Lower, 5);
        Assert.Null(unplanned.CoverageBounds);
    }

    // A worker that dies after the easy items: every recorded answer passed, the rest of the 200 were never recorded.
    // However many easy items it got through, it is sufficient only where the worst case clears the bar: with 180 of
    // 200 (Wilson lower of 180/200 = 0.85059) it is not; with 199 of 200 (0.97223) even the worst case clears it.
    [Fact]
    public void A_model_that_crashed_after_its_easy_items_is_never_sufficient_on_them()
    {
        foreach (int reached in new[] { 1, 20, 100, 150, 180 })
        {
            FixedSuiteVerdict verdict = VerdictCalculator.Decide("m", "s", Bar90, Passing(reached), plannedItems: 200);

            Assert.True(verdict.Kind == VerdictKind.Undecided, $"{reached} of 200: {verdict.Kind}");
            Assert.Equal(1.0, verdict.PassRate!.Rate);
        }

        Assert.Equal(0.85059, VerdictCalculator.Decide("m", "s", Bar90, Passing(180), plannedItems: 200).CoverageBounds!.Lower, 5);
        FixedSuiteVerdict nearlyAll = VerdictCalculator.Decide("m", "s", Bar90, Passing(199), plannedItems: 200);
        Assert.Equal(VerdictKind.Sufficient, nearlyAll.Kind);
        Assert.Equal(0.97223, nearlyAll.CoverageBounds!.Lower, 5);
        Assert.StartsWith("pass rate 199/199 with 1 of 200 items missing: counting them as failures, the two-sided 95% Wilson lower bound 97.2% clears", nearlyAll.Reasons[0], StringComparison.Ordinal);
    }

    // 100 answered with 10 passes and 100 missing: even if every missing item passed, 110/200 has Wilson upper bound
    // 0.61736 < 0.9, so the model is insufficient without waiting for the rest.
    [Fact]
    public void A_model_can_be_insufficient_before_its_items_are_all_recorded()
    {
        List<ItemRecord> items =
            [.. Enumerable.Range(0, 100).Select(i => SampleRecords.Item("m", "s", $"q{i:D4}", passed: i < 10))];

        FixedSuiteVerdict verdict = VerdictCalculator.Decide("m", "s", Bar90, items, plannedItems: 200);

        Assert.Equal(VerdictKind.Insufficient, verdict.Kind);
        Assert.Equal(0.61736, verdict.CoverageBounds!.Upper, 5);
        Assert.StartsWith("pass rate 10/100 with 100 of 200 items missing: even counting them as passes, the two-sided 95% Wilson upper bound 61.7% is below", verdict.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Timeouts_and_crashes_are_the_models_wrong_answers_not_errors()
    {
        List<ItemRecord> items = [.. Passing(18), Failed(18, ItemFailureKind.Timeout), Failed(19, ItemFailureKind.WorkerCrash)];

        FixedSuiteVerdict verdict = VerdictCalculator.Decide("m", "s", new Requirement(0.5, 0.95, null, null), items, plannedItems: 20);

        Assert.Equal(VerdictKind.Sufficient, verdict.Kind);
        Assert.Equal((20, 18), (verdict.Items, verdict.Passed));
        Assert.Equal((18, 2, 0, 0), (verdict.Coverage!.Evaluated, verdict.Coverage.Failed, verdict.Coverage.Errored, verdict.Coverage.Missing));
    }

    // 288 answers all passing would clear the bar (lower bound 0.98684), but 12 prompts did not fit the context: the
    // suite was not really evaluated, so the verdict is an error with the reason, and the 12 are not answers.
    [Fact]
    public void Items_that_failed_for_a_reason_that_is_not_the_models_answer_give_an_error_verdict()
    {
        List<ItemRecord> items =
        [
            .. Passing(288, from: 12),
            .. Enumerable.Range(0, 12).Select(i => Failed(i, ItemFailureKind.ContextOverflow,
                $"Model 'm': the prompt has {303 + i} tokens but the context size is 256; raise context_size or shorten the prompt.")),
        ];

        FixedSuiteVerdict verdict = VerdictCalculator.Decide("m", "s", Bar90, items, plannedItems: 300);

        Assert.Equal(VerdictKind.Error, verdict.Kind);
        Assert.Equal((288, 288), (verdict.Items, verdict.Passed));
        Assert.Equal(1.0, verdict.PassRate!.Rate);
        Assert.Equal(12, verdict.Coverage!.Errored);
        Assert.Equal(
            "12 of 300 items not evaluated (contextOverflow, not the model's answer), e.g. item q0000: Model 'm': the prompt has 303 tokens but the context size is 256; raise context_size or shorten the prompt.",
            verdict.Reasons[0]);
    }

    [Fact]
    public void Every_item_errored_is_an_error_with_no_pass_rate()
    {
        List<ItemRecord> items = [.. Enumerable.Range(0, 4).Select(i => Failed(i, ItemFailureKind.Scorer, "judge could not load"))];

        FixedSuiteVerdict verdict = VerdictCalculator.Decide("m", "s", Bar90, items, plannedItems: 4);

        Assert.Equal(VerdictKind.Error, verdict.Kind);
        Assert.Null(verdict.PassRate);
        Assert.Equal(0, verdict.Items);
        Assert.Equal(["4 of 4 items not evaluated (scorer, not the model's answer), e.g. item q0000: judge could not load", "no item was answered"], verdict.Reasons.ToArray());
    }
}
