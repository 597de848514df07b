using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Tests.Fakes;

namespace Harness.Tests.Runs;

public sealed class RunCoordinatorTests
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 0, 0, 0, TimeSpan.Zero);

    // The fake model adds correctly only when a + b < 10, so 5 of 10 addition items pass.
    private static string Adder(RenderedPrompt prompt)
    {
        var parts = prompt.PlainText.TrimEnd('=').Split('+');
        if (parts.Length != 2)
        {
            return "";
        }

        var sum = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture) + int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture);
        return sum < 10 ? sum.ToString(System.Globalization.CultureInfo.InvariantCulture) : "?";
    }

    [Fact]
    public async Task Records_every_item_with_prompt_output_score_and_metrics()
    {
        var store = new InMemoryRunStore();
        var coordinator = new RunCoordinator(new FakeBackend(Adder), store, new FixedClock(Start));

        var outcomes = await coordinator.RunAsync([TestSuites.Model("m1")], [TestSuites.Prepare(TestSuites.Addition(10))], null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.Completed, Assert.Single(outcomes).Status);
        Assert.Equal(10, store.Items.Count);
        var first = store.Items[0];
        Assert.Equal(new ItemKey("m1", "add", "add-000"), first.Key);
        Assert.Equal("0+1=", first.PromptText);
        Assert.Equal("1", first.RawOutput);
        Assert.True(first.Passed);
        Assert.Equal("1", first.Scores[0].Answer);
        Assert.Equal(Start, first.CompletedAt);
        Assert.Equal(4, first.Metrics.PromptTokens);
        Assert.Equal(5, store.Items.Count(i => i.Passed));
        Assert.Equal(ModelRunStatus.Completed, store.ModelHistory[^1].Status);
    }

    [Fact]
    public async Task A_model_that_fails_to_load_is_recorded_and_the_next_model_still_runs()
    {
        var store = new InMemoryRunStore();
        var backend = new FakeBackend(Adder) { FailToLoad = { "broken" } };
        var coordinator = new RunCoordinator(backend, store, new FixedClock(Start));

        var outcomes = await coordinator.RunAsync(
            [TestSuites.Model("broken"), TestSuites.Model("good")], [TestSuites.Prepare(TestSuites.Addition(3))], null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.LoadFailed, outcomes[0].Status);
        Assert.Contains("broken", outcomes[0].Failure, StringComparison.Ordinal);
        Assert.Equal(ModelRunStatus.Completed, outcomes[1].Status);
        Assert.All(store.Items, i => Assert.Equal("good", i.Key.ModelId));
        var models = await store.ReadModelsAsync(CancellationToken.None);
        Assert.Equal(ModelRunStatus.LoadFailed, models.Single(m => m.ModelId == "broken").Status);
    }

    [Fact]
    public async Task A_model_that_kills_every_worker_keeps_its_items_is_marked_crashed_and_the_run_goes_on()
    {
        var store = new InMemoryRunStore();
        var backend = new FakeBackend(Adder) { KillEveryWorkerAfter = { ["crashy"] = 4 } };
        var coordinator = new RunCoordinator(backend, store, new FixedClock(Start));

        var outcomes = await coordinator.RunAsync(
            [TestSuites.Model("crashy"), TestSuites.Model("good")], [TestSuites.Prepare(TestSuites.Addition(10))], null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.Crashed, outcomes[0].Status);
        Assert.Contains("SIGKILL", outcomes[0].Failure, StringComparison.Ordinal);
        Assert.Contains($"{ModelSessions.MaxConsecutiveLosses} workers in a row", outcomes[0].Failure, StringComparison.Ordinal);
        // Four answers, then the fifth item ends a worker on both of its tries and is recorded; the sixth item's first
        // try is the third lost worker in a row, so the model is given up on and that item stays unrecorded for a resume.
        var crashy = store.Items.Where(i => i.Key.ModelId == "crashy").ToList();
        Assert.Equal(5, crashy.Count);
        Assert.Equal(4, crashy.Count(i => i.Status == ItemStatus.Scored));
        var poisoned = Assert.Single(crashy, i => i.Status == ItemStatus.Failed);
        Assert.Equal("add-004", poisoned.Key.ItemId);
        Assert.Equal(ItemFailureKind.WorkerCrash, poisoned.Failure);
        Assert.Equal(10, store.Items.Count(i => i.Key.ModelId == "good"));
        Assert.Equal(3 + 1, backend.Loads); // crashy: first load and two fresh workers; good: one
    }

    [Fact]
    public async Task An_item_that_ends_its_worker_twice_is_recorded_with_the_evidence_and_the_others_are_scored_in_a_fresh_worker()
    {
        var store = new InMemoryRunStore();
        var backend = new FakeBackend(Adder) { CrashOnPrompt = { ["3+4="] = int.MaxValue } };
        var suites = new[] { TestSuites.Prepare(TestSuites.Addition(10)) };

        var outcomes = await new RunCoordinator(backend, store, new FixedClock(Start)).RunAsync([TestSuites.Model("m")], suites, null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.Completed, Assert.Single(outcomes).Status);
        Assert.Equal(10, store.Items.Count);
        var poison = Assert.Single(store.Items, i => i.Status == ItemStatus.Failed);
        Assert.Equal("add-003", poison.Key.ItemId);
        Assert.Equal(ItemFailureKind.WorkerCrash, poison.Failure);
        Assert.Contains("on each of 2 tries", poison.Error, StringComparison.Ordinal);
        Assert.Contains("SIGABRT", poison.Error, StringComparison.Ordinal);
        Assert.Contains("GGML_ASSERT", poison.Error, StringComparison.Ordinal);
        Assert.Equal(3, backend.Loads); // the first worker, the retry's, and a fresh one for the items after it
        Assert.False(poison.Passed);

        // A resume re-runs nothing: the poison item is recorded like any other.
        var again = new FakeBackend(Adder) { CrashOnPrompt = { ["3+4="] = int.MaxValue } };
        await new RunCoordinator(again, store, new FixedClock(Start)).RunAsync([TestSuites.Model("m")], suites, null, CancellationToken.None);
        Assert.Equal(0, again.Requests);
        Assert.Equal(0, again.Loads);
        Assert.Equal(10, store.Items.Count);
    }

    [Fact]
    public async Task A_crash_that_does_not_repeat_costs_nothing_but_a_reload()
    {
        var store = new InMemoryRunStore();
        var backend = new FakeBackend(Adder) { CrashOnPrompt = { ["3+4="] = 1 } };

        await new RunCoordinator(backend, store, new FixedClock(Start)).RunAsync(
            [TestSuites.Model("m")], [TestSuites.Prepare(TestSuites.Addition(10))], null, CancellationToken.None);

        Assert.All(store.Items, i => Assert.Equal(ItemStatus.Scored, i.Status));
        Assert.Equal(10, store.Items.Count);
        Assert.Equal(2, backend.Loads);
    }

    [Fact]
    public async Task A_timed_out_item_is_recorded_at_once_with_its_elapsed_time_and_the_run_goes_on_in_a_fresh_worker()
    {
        var store = new InMemoryRunStore();
        var backend = new FakeBackend(Adder) { HangOnPrompt = { "2+3=" } };

        var outcomes = await new RunCoordinator(backend, store, new FixedClock(Start)).RunAsync(
            [TestSuites.Model("m")], [TestSuites.Prepare(TestSuites.Addition(10))], null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.Completed, Assert.Single(outcomes).Status);
        var hung = Assert.Single(store.Items, i => i.Status == ItemStatus.Failed);
        Assert.Equal("add-002", hung.Key.ItemId);
        Assert.Equal(ItemFailureKind.Timeout, hung.Failure);
        Assert.StartsWith("model 'm': timeout after", hung.Error, StringComparison.Ordinal);
        Assert.True(hung.Metrics.Timings.Total >= TimeSpan.Zero);
        Assert.Equal(9, store.Items.Count(i => i.Status == ItemStatus.Scored));
        Assert.Equal(2, backend.Loads); // never retried: one fresh worker for the items after it
    }

    [Fact]
    public async Task A_model_whose_fresh_worker_cannot_load_is_marked_crashed_and_keeps_its_items()
    {
        var store = new InMemoryRunStore();
        var backend = new FakeBackend(Adder) { CrashOnPrompt = { ["3+4="] = int.MaxValue } };
        var loads = 0;
        var flaky = new ReloadFails(backend, () => ++loads > 1);

        var outcomes = await new RunCoordinator(flaky, store, new FixedClock(Start)).RunAsync(
            [TestSuites.Model("m")], [TestSuites.Prepare(TestSuites.Addition(10))], null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.Crashed, Assert.Single(outcomes).Status);
        Assert.Contains("a fresh worker could not load", outcomes[0].Failure, StringComparison.Ordinal);
        Assert.Equal(3, store.Items.Count); // the items before the poison one; the poison item waits for a resume
    }

    /// <summary>A backend whose loads fail once <paramref name="fail"/> says so.</summary>
    private sealed class ReloadFails(IModelBackend inner, Func<bool> fail) : IModelBackend
    {
        public string Name => inner.Name;

        public Task<IModelSession> LoadAsync(Harness.Core.Models.ModelEntry model, string modelPath, CancellationToken cancellationToken) =>
            fail() ? throw new ModelLoadException($"model '{model.Id}': out of memory") : inner.LoadAsync(model, modelPath, cancellationToken);
    }

    [Fact]
    public async Task Resume_runs_only_unrecorded_items_and_ends_equal_to_an_uninterrupted_run()
    {
        var suites = new[] { TestSuites.Prepare(TestSuites.Addition(10)), TestSuites.Prepare(TestSuites.Choice(6)) };
        var models = new[] { TestSuites.Model("m1"), TestSuites.Model("m2") };

        var uninterrupted = new InMemoryRunStore();
        await new RunCoordinator(new FakeBackend(Adder), uninterrupted, new FixedClock(Start)).RunAsync(models, suites, null, CancellationToken.None);

        // First attempt: cancelled after 13 items (mid-way through m1's second suite).
        var store = new InMemoryRunStore();
        using var cts = new CancellationTokenSource();
        var observer = new CancelAfter(13, cts);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() =>
            new RunCoordinator(new FakeBackend(Adder), store, new FixedClock(Start)).RunAsync(models, suites, observer, cts.Token));
        Assert.Equal(13, store.Items.Count);

        var resumedBackend = new FakeBackend(Adder);
        await new RunCoordinator(resumedBackend, store, new FixedClock(Start)).RunAsync(models, suites, null, CancellationToken.None);

        Assert.Equal(32 - 13, resumedBackend.Requests);
        Assert.Equal(
            uninterrupted.Items.OrderBy(i => i.Key.ToString(), StringComparer.Ordinal).Select(Summary),
            store.Items.OrderBy(i => i.Key.ToString(), StringComparer.Ordinal).Select(Summary));

        // A second resume finds nothing to do and loads no model.
        var idle = new FakeBackend(Adder);
        await new RunCoordinator(idle, store, new FixedClock(Start)).RunAsync(models, suites, null, CancellationToken.None);
        Assert.Equal(0, idle.Loads);
    }

    [Fact]
    public async Task A_backend_error_on_one_item_is_recorded_as_failed_and_not_passed()
    {
        var store = new InMemoryRunStore();
        var backend = new FakeBackend(Adder) { FailOnPrompt = { "1+2=" } };

        await new RunCoordinator(backend, store, new FixedClock(Start)).RunAsync(
            [TestSuites.Model("m1")], [TestSuites.Prepare(TestSuites.Addition(3))], null, CancellationToken.None);

        var failed = Assert.Single(store.Items, i => i.Status == ItemStatus.Failed);
        Assert.Equal("add-001", failed.Key.ItemId);
        Assert.False(failed.Passed);
        Assert.Contains("non-finite", failed.Error, StringComparison.Ordinal);
        Assert.Equal(2, store.Items.Count(i => i.Status == ItemStatus.Scored));
    }

    [Fact]
    public async Task Log_likelihood_items_pick_the_most_likely_choice_and_record_normalised_accuracy()
    {
        var store = new InMemoryRunStore();
        // Raw log-probabilities favour the short " odd"; per byte, " even" wins on even items.
        var backend = new FakeBackend(_ => "") { LogProbability = (_, c) => c == " odd" ? -2.0 : -2.4 };

        await new RunCoordinator(backend, store, new FixedClock(Start)).RunAsync(
            [TestSuites.Model("m1")], [TestSuites.Prepare(TestSuites.Choice(4))], null, CancellationToken.None);

        Assert.All(store.Items, i => Assert.Equal(" odd", i.RawOutput));
        Assert.All(store.Items, i => Assert.Equal(2, i.Choices.Length));
        var even = store.Items.Single(i => i.Key.ItemId == "c-000");
        Assert.False(even.Passed);
        var norm = Assert.Single(even.Scores, s => s.Scorer == ModelEvaluator.NormalizedChoiceScorer);
        Assert.Equal(1.0, norm.Value);
        Assert.Equal(" even", norm.Answer);
    }

    [Theory]
    // The target delimiter is not part of lm-eval's len(choice): counting it, " a" (-3 over 2) would beat " bcde" (-9 over 5).
    [InlineData(" a", -3.0, " bcde", -9.0)]
    // Code points, not bytes (4) or UTF-16 units (2): the mathematical pi (U+1D70B) is one character to Python's len.
    [InlineData(" \U0001D70B", -1.0, " ab", -1.5)]
    public async Task Normalised_accuracy_divides_by_the_choice_length_in_characters_without_the_delimiter_as_lm_eval_does(
        string other, double otherLogProbability, string target, double targetLogProbability)
    {
        var store = new InMemoryRunStore();
        var backend = new FakeBackend(_ => "") { LogProbability = (_, c) => c == target ? targetLogProbability : otherLogProbability };
        var suite = TestSuites.Choice(1) with { Items = [TestSuites.Item("c-000", 0, 0, target, [other, target])] };

        await new RunCoordinator(backend, store, new FixedClock(Start)).RunAsync(
            [TestSuites.Model("m1")], [TestSuites.Prepare(suite)], null, CancellationToken.None);

        var item = Assert.Single(store.Items);
        Assert.Equal(other, item.RawOutput);
        var norm = Assert.Single(item.Scores, s => s.Scorer == ModelEvaluator.NormalizedChoiceScorer);
        Assert.Equal(target, norm.Answer);
        Assert.Equal(1.0, norm.Value);
    }

    [Theory]
    [InlineData(" Paris", 5)]
    [InlineData("Paris", 5)]
    [InlineData("  two", 4)]
    [InlineData(" caf\u00e9", 4)]
    [InlineData(" \U0001D70B", 1)]
    [InlineData(" ", 1)]
    public void Normalisation_length_counts_code_points_after_one_leading_space(string continuation, int expected) =>
        Assert.Equal(expected, ModelEvaluator.NormalizationLength(continuation));

    private static string Summary(ItemRecord r) => $"{r.Key}|{r.RawOutput}|{r.Passed}|{r.Status}";

    private sealed class CancelAfter(int items, CancellationTokenSource cts) : IRunObserver
    {
        private int _seen;

        public void ModelStarting(RunModel model, int pendingItems)
        {
        }

        public void ModelFinished(ModelOutcome outcome)
        {
        }

        public void ItemCompleted(EvaluationProgress progress)
        {
            if (progress.LastItem is not null && ++_seen == items)
            {
                cts.Cancel();
            }
        }
    }
}
