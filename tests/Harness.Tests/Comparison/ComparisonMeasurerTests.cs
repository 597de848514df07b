using Harness.Core.Comparison;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Tests.Fakes;
using Harness.Tests.Serialization;

namespace Harness.Tests.Comparison;

public class ComparisonMeasurerTests
{
    private static readonly ComparisonPlan Plan = new("base", ["same", "drifted"], 4, "/ref.txt", "ref-sha");

    // Base and "same" share a distribution; "drifted" is flatter. Hand-computed KL(base || drifted) per position:
    // 0.4 ln(0.4/0.25) + 0.3 ln(0.3/0.25) + 0.2 ln(0.2/0.25) + 0.1 ln(0.1/0.25) = 0.1064401.
    private const double ExpectedKl = 0.10644;

    private static FakeBackend Backend() => new(p => p.PlainText.Length.ToString(System.Globalization.CultureInfo.InvariantCulture))
    {
        Distribution = (model, _) => model == "drifted" ? [0.25, 0.25, 0.25, 0.25] : [0.4, 0.3, 0.2, 0.1],
    };

    private static async Task<(InMemoryRunStore Store, IReadOnlyList<DriftOutcome> Outcomes, Suite Suite)> MeasureAsync(FakeBackend backend, InMemoryRunStore? store = null)
    {
        store ??= new InMemoryRunStore();
        var suite = TestSuites.Addition(5, new Requirement(0.5, 0.95, null, null));
        RunModel[] models = [TestSuites.Model("base"), TestSuites.Model("same"), TestSuites.Model("drifted")];
        if (store.Items.Count == 0)
        {
            await new RunCoordinator(backend, store, new FixedClock(SampleRecords.Epoch)).RunAsync(models, [TestSuites.Prepare(suite)], null, CancellationToken.None);
        }

        var outcomes = await new ComparisonMeasurer(backend, store, new FixedClock(SampleRecords.Epoch)).MeasureAsync(
            Plan, models, [suite], store.Items, ["ab\ncd", "xyz"], null, CancellationToken.None);
        return (store, outcomes, suite);
    }

    [Fact]
    public async Task Drift_is_zero_for_an_identical_model_and_matches_the_hand_computed_kl_otherwise()
    {
        var (store, outcomes, suite) = await MeasureAsync(Backend());

        Assert.All(outcomes, o => Assert.Null(o.Failure));
        Assert.Equal(2 * suite.Items.Length, store.Drift.Count);
        foreach (var record in store.Drift)
        {
            // Text = prompt + the base's answer; one position per token after the first.
            var item = suite.Items.Single(i => i.Id == record.ItemId);
            var answer = store.Items.Single(i => i.Key == new ItemKey("base", suite.Name, item.Id)).RawOutput;
            Assert.Equal(PromptRenderer.Render(suite, item).PlainText.Length + answer.Length - 1, record.Positions);
            Assert.Null(record.Error);
        }

        var same = ComparisonReportBuilder.Summarize([.. store.Drift.Where(d => d.CandidateModelId == "same")])!;
        Assert.Equal(0.0, same.MeanKlDivergence, 6);
        Assert.Equal(1.0, same.TopTokenAgreement);
        Assert.Equal(0.0, same.RmsDeltaP, 6);

        var drifted = ComparisonReportBuilder.Summarize([.. store.Drift.Where(d => d.CandidateModelId == "drifted")])!;
        Assert.Equal(ExpectedKl, drifted.MeanKlDivergence, 5);
        Assert.Equal(ExpectedKl, drifted.P99KlDivergence, 5);
        // All four tokens tie at 0.25 in "drifted", so its argmax is token 0, the base's argmax too.
        Assert.Equal(1.0, drifted.TopTokenAgreement);
    }

    [Fact]
    public async Task Perplexity_is_recorded_per_model_from_the_reference_documents()
    {
        var (store, _, _) = await MeasureAsync(Backend());

        var perplexity = await store.ReadPerplexityAsync(CancellationToken.None);
        Assert.Equal(["base", "same", "drifted"], perplexity.Select(p => p.ModelId));
        // "ab\ncd" has 4 predicted tokens and "xyz" 2; the drifted model gives every token 1/4: perplexity 4.
        Assert.All(perplexity, p => Assert.Equal(6, p.PredictedTokens));
        Assert.Equal(4.0, perplexity.Single(p => p.ModelId == "drifted").Perplexity, 5);
    }

    [Fact]
    public async Task A_second_pass_measures_nothing_again_and_a_lost_session_keeps_what_was_recorded()
    {
        var backend = Backend();
        var (store, _, _) = await MeasureAsync(backend);
        var requests = backend.Requests;

        var (_, again, _) = await MeasureAsync(backend, store);
        Assert.All(again, o => Assert.Equal(0, o.ItemsMeasuredNow));
        Assert.Equal(requests, backend.Requests);

        var crashing = Backend();
        crashing.LoseSessionAfter["drifted"] = 3;
        var (partial, outcomes, _) = await MeasureAsync(crashing);
        var lost = outcomes.Single(o => o.ModelId == "drifted");
        Assert.Contains("SIGABRT", lost.Failure, StringComparison.Ordinal);
        // 2 reference documents and one item traced before the third request failed.
        Assert.Single(partial.Drift, d => d.CandidateModelId == "drifted");
        Assert.Null(outcomes.Single(o => o.ModelId == "same").Failure);
    }

    [Fact]
    public async Task A_candidate_without_token_distributions_gets_a_stated_absence_not_a_failure()
    {
        var backend = Backend();
        backend.WithoutDistributions.Add("drifted");
        var (store, outcomes, suite) = await MeasureAsync(backend);

        var served = outcomes.Single(o => o.ModelId == "drifted");
        Assert.Null(served.Failure);
        Assert.Equal("drifted's backend cannot return next-token distributions", served.Absent);
        var absence = Assert.Single(store.DriftAbsenceHistory);
        Assert.Equal(("base", "drifted"), (absence.BaseModelId, absence.CandidateModelId));
        Assert.DoesNotContain(store.Drift, d => d.CandidateModelId == "drifted");
        Assert.DoesNotContain(store.PerplexityHistory, p => p.ModelId == "drifted");
        // The other candidate is measured as before.
        Assert.Null(outcomes.Single(o => o.ModelId == "same").Absent);
        Assert.Equal(suite.Items.Length, store.Drift.Count(d => d.CandidateModelId == "same"));

        // A second pass reads the absence back: no load to learn it again, no second record.
        var loads = backend.Loads;
        var (_, again, _) = await MeasureAsync(backend, store);
        Assert.Equal(served.Absent, again.Single(o => o.ModelId == "drifted").Absent);
        Assert.Single(store.DriftAbsenceHistory);
        Assert.Equal(loads, backend.Loads);
    }

    [Fact]
    public async Task A_base_without_token_distributions_leaves_every_candidate_without_drift_and_says_why()
    {
        var backend = Backend();
        backend.WithoutDistributions.Add("base");
        var (store, outcomes, _) = await MeasureAsync(backend);

        Assert.All(outcomes, o => Assert.Null(o.Failure));
        Assert.All(outcomes, o => Assert.Equal("the base base's backend cannot return next-token distributions", o.Absent));
        Assert.Equal(["same", "drifted"], (await store.ReadDriftAbsencesAsync(CancellationToken.None)).Select(a => a.CandidateModelId));
        Assert.Empty(store.Drift);
        Assert.Empty(store.PerplexityHistory);
    }
}
