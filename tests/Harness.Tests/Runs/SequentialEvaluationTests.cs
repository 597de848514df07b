using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Core.Verdicts;
using Harness.Tests.Fakes;

namespace Harness.Tests.Runs;

public sealed class SequentialEvaluationTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 3, 0, 0, TimeSpan.Zero);
    private static readonly Requirement Bar80 = new(0.8, 0.95, null, null);

    // The fake adds correctly: every item passes.
    private static string Adder(RenderedPrompt prompt)
    {
        var parts = prompt.PlainText.TrimEnd('=').Split('+').Select(int.Parse).ToArray();
        return (parts[0] + parts[1]).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    private static PreparedSuite Sequential(Suite suite, int seed = 11) =>
        TestSuites.Prepare(suite) with { SequentialOrder = ItemOrder.Shuffle(suite, seed) };

    private static int Crossing(int items)
    {
        var test = TwoSidedBettingTest.Start(0.8, 0.95);
        for (int i = 0; i < items; i++)
        {
            test = test.Observe(true);
            if (test.Decision is not null)
            {
                return i + 1;
            }
        }

        throw new InvalidOperationException("never decides");
    }

    [Fact]
    public async Task A_sequential_suite_runs_in_the_recorded_order_and_stops_when_decided()
    {
        var store = new InMemoryRunStore();
        var prepared = Sequential(TestSuites.Addition(300, Bar80));

        await new RunCoordinator(new FakeBackend(Adder), store, new FixedClock(Now))
            .RunAsync([TestSuites.Model("m")], [prepared], null, CancellationToken.None);

        int expected = Crossing(300);
        Assert.Equal(prepared.SequentialOrder!.Value.Take(expected), store.Items.Select(i => i.Key.ItemId));
        var verdict = SequentialVerdictCalculator.Decide("m", "add", Bar80, prepared.SequentialOrder.Value, 11, store.Items.ToArray());
        Assert.Equal(VerdictKind.Sufficient, verdict.Kind);
        Assert.Equal(expected, verdict.Sequential!.ItemsUsed);
    }

    [Fact]
    public async Task A_run_interrupted_part_way_resumes_in_the_same_order_and_ends_where_an_uninterrupted_run_ends()
    {
        var prepared = Sequential(TestSuites.Addition(300, Bar80));
        var whole = new InMemoryRunStore();
        await new RunCoordinator(new FakeBackend(Adder), whole, new FixedClock(Now))
            .RunAsync([TestSuites.Model("m")], [prepared], null, CancellationToken.None);

        var store = new InMemoryRunStore();
        var dying = new FakeBackend(Adder) { LoadLimit = 1, LoseSessionAfter = { ["m"] = 7 } };
        var first = await new RunCoordinator(dying, store, new FixedClock(Now))
            .RunAsync([TestSuites.Model("m")], [prepared], null, CancellationToken.None);
        Assert.Equal(ModelRunStatus.Crashed, first[0].Status);
        Assert.Equal(7, store.Items.Count);

        await new RunCoordinator(new FakeBackend(Adder), store, new FixedClock(Now))
            .RunAsync([TestSuites.Model("m")], [prepared], null, CancellationToken.None);
        Assert.Equal(whole.Items.Select(i => i.Key.ItemId), store.Items.Select(i => i.Key.ItemId));

        // Decided: a third run has nothing pending and does not even load the model.
        var idle = new FakeBackend(Adder);
        var third = await new RunCoordinator(idle, store, new FixedClock(Now))
            .RunAsync([TestSuites.Model("m")], [prepared], null, CancellationToken.None);
        Assert.Equal(0, idle.Loads);
        Assert.Equal(0, third[0].ItemsRecordedNow);
        Assert.Equal(0, ModelEvaluator.PendingItems("m", prepared, store.Items.Select(i => i.Key).ToHashSet(), store.Items));
    }

    [Fact]
    public async Task A_resume_fills_a_gap_left_by_a_batch_before_going_on()
    {
        // A batch killed part-way can leave later items recorded and an earlier one missing: the replay waits for it.
        var prepared = Sequential(TestSuites.Addition(300, Bar80));
        var order = prepared.SequentialOrder!.Value;
        var store = new InMemoryRunStore();
        var evaluator = new ModelEvaluator(store, new FixedClock(Now));
        var session = await new FakeBackend(Adder).LoadAsync(TestSuites.Model("m").Entry, "", CancellationToken.None);
        var later = order[3];
        await evaluator.EvaluateAsync("m", session, [prepared with { SequentialOrder = [later] }], new HashSet<ItemKey>(), null, CancellationToken.None,
            recordedItems: []);
        Assert.Equal([later], store.Items.Select(i => i.Key.ItemId));

        var keys = store.Items.Select(i => i.Key).ToHashSet();
        await evaluator.EvaluateAsync("m", session, [prepared], keys, null, CancellationToken.None, recordedItems: store.Items.ToArray());

        int expected = Crossing(300);
        Assert.Equal(expected, store.Items.Count);
        Assert.Equal(order.Take(expected).Order(StringComparer.Ordinal), store.Items.Select(i => i.Key.ItemId).Order(StringComparer.Ordinal));
        Assert.Equal([later, order[0], order[1], order[2], order[4]], store.Items.Take(5).Select(i => i.Key.ItemId));
    }

    [Fact]
    public async Task With_batching_items_are_admitted_in_waves_and_a_wave_in_flight_is_recorded_whole()
    {
        var store = new InMemoryRunStore();
        var session = new ReversingBatchSession(parallel: 4);
        var prepared = Sequential(TestSuites.Addition(300, Bar80));

        await new ModelEvaluator(store, new FixedClock(Now))
            .EvaluateAsync("m", session, [prepared], new HashSet<ItemKey>(), null, CancellationToken.None, recordedItems: []);

        int expected = Crossing(300);
        int waves = (expected + 3) / 4;
        Assert.Equal(Enumerable.Repeat(4, waves), session.BatchSizes);
        Assert.Equal(waves * 4, store.Items.Count);
        var verdict = SequentialVerdictCalculator.Decide("m", "add", Bar80, prepared.SequentialOrder!.Value, 11, store.Items.ToArray());
        Assert.Equal(expected, verdict.Sequential!.ItemsUsed);
        Assert.Equal(waves * 4, verdict.Sequential.ItemsRecorded);
    }

    [Fact]
    public async Task A_suite_that_never_decides_runs_every_item()
    {
        var store = new InMemoryRunStore();
        // 80 % right, exactly at the bar: 40 items cannot decide.
        var backend = new FakeBackend(p => p.PlainText is "4+5=" or "7+8=" ? "x" : Adder(p));
        var suite = TestSuites.Addition(10, Bar80);

        await new RunCoordinator(backend, store, new FixedClock(Now))
            .RunAsync([TestSuites.Model("m")], [Sequential(suite)], null, CancellationToken.None);

        Assert.Equal(10, store.Items.Count);
    }

    /// <summary>Answers a+b correctly; each batch finishes in reverse order.</summary>
    private sealed class ReversingBatchSession(int parallel) : IModelSession, IBatchedTextGenerator
    {
        public List<int> BatchSizes { get; } = [];

        public int ParallelSequences => parallel;

        public ModelLoadInfo LoadInfo { get; } = new("fake", TimeSpan.Zero, 1, 1, "none",
            ImmutableSortedDictionary<string, string>.Empty, ImmutableSortedDictionary<string, string>.Empty, parallel);

        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken) =>
            throw new InvalidOperationException("a batching session gets batches");

        public async IAsyncEnumerable<BatchedGeneration> GenerateBatchAsync(
            IReadOnlyList<GenerationRequest> requests, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            BatchSizes.Add(requests.Count);
            for (var i = requests.Count - 1; i >= 0; i--)
            {
                await Task.Yield();
                yield return new BatchedGeneration(i, new GenerationResult(Adder(requests[i].Prompt), FinishReason.StopSequence,
                    requests[i].Prompt.PlainText, 3, 1,
                    new RequestTimings(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.Zero, TimeSpan.FromMilliseconds(2))), null);
            }
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
}
