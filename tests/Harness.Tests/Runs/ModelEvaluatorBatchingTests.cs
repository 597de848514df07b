using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Tests.Fakes;

namespace Harness.Tests.Runs;

public sealed class ModelEvaluatorBatchingTests
{
    /// <summary>Answers a+b correctly, except item "2+3=" which fails; batches finish in reverse order.</summary>
    /// <param name="loseAfter">Lose the session (a worker that died) after this many answers of a batch; null: never.</param>
    private sealed class ReversingBatchSession(int parallel, int? loseAfter = null) : IModelSession, IBatchedTextGenerator
    {
        public List<int> BatchSizes { get; } = [];
        public int SingleRequests { get; private set; }
        public int ParallelSequences => parallel;

        public ModelLoadInfo LoadInfo { get; } = new("fake", TimeSpan.Zero, 1, 1, "none",
            ImmutableSortedDictionary<string, string>.Empty, ImmutableSortedDictionary<string, string>.Empty, parallel);

        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken)
        {
            SingleRequests++;
            return Task.FromResult(Answer(request));
        }

        public async IAsyncEnumerable<BatchedGeneration> GenerateBatchAsync(
            IReadOnlyList<GenerationRequest> requests, [EnumeratorCancellation] CancellationToken cancellationToken)
        {
            BatchSizes.Add(requests.Count);
            for (var i = requests.Count - 1; i >= 0; i--)
            {
                await Task.Yield();
                if (requests.Count - 1 - i == loseAfter)
                {
                    throw new SessionLostException("model 'm': worker process was killed (SIGKILL, exit 137)");
                }

                cancellationToken.ThrowIfCancellationRequested();
                yield return requests[i].Prompt.PlainText == "2+3="
                    ? new BatchedGeneration(i, null, "NaN logits at position 3")
                    : new BatchedGeneration(i, Answer(requests[i]), null);
            }
        }

        private static GenerationResult Answer(GenerationRequest request)
        {
            var operands = request.Prompt.PlainText.TrimEnd('=').Split('+').Select(int.Parse).ToArray();
            var text = (operands[0] + operands[1]).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return new GenerationResult(text, FinishReason.StopSequence, request.Prompt.PlainText, 3, 1,
                new RequestTimings(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.Zero, TimeSpan.FromMilliseconds(2)));
        }

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    private static readonly DateTimeOffset Now = new(2026, 12, 3, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public async Task A_batch_that_loses_its_worker_keeps_its_answers_and_the_rest_of_the_suite_runs_one_at_a_time_in_a_fresh_one()
    {
        var store = new InMemoryRunStore();
        var dying = new ReversingBatchSession(parallel: 4, loseAfter: 3);
        var fresh = new ReversingBatchSession(parallel: 4);
        var sessions = new ModelSessions(dying, _ => Task.FromResult<IModelSession>(fresh));

        await new ModelEvaluator(store, new FixedClock(Now)).EvaluateAsync(
            "m", sessions, [TestSuites.Prepare(TestSuites.Addition(8))], new HashSet<ItemKey>(), null, CancellationToken.None);

        Assert.Equal(8, store.Items.Count);
        Assert.Equal(8, store.Items.Select(i => i.Key).Distinct().Count());
        Assert.Equal(["add-007", "add-006", "add-005"], store.Items.Take(3).Select(i => i.Key.ItemId));
        // The fresh worker gets the five items left one at a time, so an item that ends workers would be found.
        Assert.Empty(fresh.BatchSizes);
        Assert.Equal(5, fresh.SingleRequests);
        Assert.Equal(1, sessions.Reloads);
        Assert.All(store.Items, i => Assert.Equal(ItemStatus.Scored, i.Status));
    }

    [Fact]
    public async Task A_batching_session_gets_every_pending_item_in_one_call_and_each_result_is_recorded_as_it_finishes()
    {
        var store = new InMemoryRunStore();
        var session = new ReversingBatchSession(parallel: 4);
        var suite = TestSuites.Addition(6);
        var recorded = new HashSet<ItemKey> { new("m", "add", "add-000") };

        await new ModelEvaluator(store, new FixedClock(Now)).EvaluateAsync("m", session, [TestSuites.Prepare(suite)], recorded, null, CancellationToken.None);

        Assert.Equal([5], session.BatchSizes); // the recorded item is not asked again
        Assert.Equal(0, session.SingleRequests);
        Assert.Equal(["add-005", "add-004", "add-003", "add-002", "add-001"], store.Items.Select(r => r.Key.ItemId));
        var failed = Assert.Single(store.Items, r => r.Status == ItemStatus.Failed);
        Assert.Equal("add-002", failed.Key.ItemId);
        Assert.Equal("NaN logits at position 3", failed.Error);
        Assert.False(failed.Passed);
        Assert.All(store.Items.Where(r => r.Status == ItemStatus.Scored), r => Assert.True(r.Passed));
    }

    [Fact]
    public async Task A_suite_with_a_latency_requirement_runs_one_item_at_a_time_because_its_latency_is_per_request()
    {
        var store = new InMemoryRunStore();
        var session = new ReversingBatchSession(parallel: 4);
        var suite = TestSuites.Addition(3, new Requirement(0.5, 0.95, TimeSpan.FromSeconds(2), null));

        Assert.False(ModelEvaluator.UsesBatching(session, suite));
        await new ModelEvaluator(store, new FixedClock(Now)).EvaluateAsync("m", session, [TestSuites.Prepare(suite)], new HashSet<ItemKey>(), null, CancellationToken.None);

        Assert.Empty(session.BatchSizes);
        Assert.Equal(3, session.SingleRequests);
        Assert.Equal(["add-000", "add-001", "add-002"], store.Items.Select(r => r.Key.ItemId));
    }

    [Fact]
    public void One_parallel_sequence_or_a_log_likelihood_suite_is_not_batched()
    {
        Assert.False(ModelEvaluator.UsesBatching(new ReversingBatchSession(parallel: 1), TestSuites.Addition(3)));
        Assert.False(ModelEvaluator.UsesBatching(new ReversingBatchSession(parallel: 8), TestSuites.Choice(3)));
        Assert.True(ModelEvaluator.UsesBatching(new ReversingBatchSession(parallel: 8), TestSuites.Addition(3)));
    }

    [Fact]
    public async Task Each_batched_item_gets_the_energy_since_the_previous_completion_so_the_batch_total_is_shared_exactly()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, new EnergyChannel("package-0", EnergyDomain.Package))
        {
            Watts = [10],
            AdvancePerRead = TimeSpan.FromMilliseconds(100),
        };
        await using var recorder = EnergyRecorder.Start([meter], clock, sampleInterval: null);
        var store = new InMemoryRunStore();
        var batchStart = clock.Ticks;

        await new ModelEvaluator(store, clock).EvaluateAsync(
            "m", new ReversingBatchSession(parallel: 4), [TestSuites.Prepare(TestSuites.Addition(5))], new HashSet<ItemKey>(), null,
            CancellationToken.None, recorder);

        Assert.Equal(5, store.Items.Count);
        Assert.All(store.Items, r =>
        {
            Assert.Equal(EnergyAttribution.BatchInterval, r.Energy!.Attribution);
            Assert.Null(r.Energy.PromptJoules);
            Assert.Equal(1, r.Energy.GrossJoules, 9);
        });
        // The failed item's share is recorded too: the joules were spent.
        Assert.NotNull(Assert.Single(store.Items, r => r.Status == ItemStatus.Failed).Energy);
        // From the batch's first mark to its last: five reads of 100 ms at 10 W, every joule given out once.
        Assert.Equal(600, TimeSpan.FromTicks(clock.Ticks - batchStart).TotalMilliseconds, 9);
        Assert.Equal(5, store.Items.Sum(r => r.Energy!.GrossJoules), 9);
    }
}
