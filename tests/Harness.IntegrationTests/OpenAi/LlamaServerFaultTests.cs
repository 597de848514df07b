using Harness.Backends.OpenAi;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.IntegrationTests.Cli;
using Harness.Tests.Fakes;

namespace Harness.IntegrationTests.OpenAi;

/// <summary>
/// Whole evaluator runs (<see cref="RunCoordinator"/>) against a real llama-server that fails: killed mid-run, or behind a
/// proxy that answers 500, stalls past the item timeout or sends a malformed body. Each run finishes, with the failures
/// recorded.
/// </summary>
[Trait("Category", "Model")]
public sealed class LlamaServerFaultTests
{
    // Short backoff: a dead server is given up on in well under a second.
    private static readonly OpenAiBackendOptions Fast = OpenAiBackendOptions.Default with { MaxAttempts = 3, RetryDelay = TimeSpan.FromMilliseconds(50) };

    private static (Suite Suite, PreparedSuite Prepared) Arith(int items)
    {
        var suite = SuiteLoader.Load(Path.Combine(HarnessProcess.RepositoryRoot, "tasks", "arith"));
        suite = suite with { Items = suite.Items[..items], Requirement = null, Kind = SuiteKind.Open };
        return (suite, new PreparedSuite(suite, [.. suite.Scorers.Select(s => ScorerRegistry.Default.Create(s, suite.Directory))]));
    }

    [RequiresLlamaServerFact]
    public async Task A_server_killed_mid_run_leaves_the_answered_items_recorded_and_the_model_crashed()
    {
        await using var server = await LlamaServerProcess.StartAsync(LlamaServerAgreementTests.ArithModelPath, "tiny-arith-xs-f16", 128);
        var (_, prepared) = Arith(12);
        var model = LlamaServerAgreementTests.Served("served-arith", server.Endpoint, "tiny-arith-xs-f16");
        var store = new InMemoryRunStore();
        var observer = new KillAfter(4, server);

        var outcomes = await new RunCoordinator(new OpenAiBackend(Fast), store, TimeProvider.System)
            .RunAsync([new RunModel(model, server.Endpoint, "", 0)], [prepared], observer, CancellationToken.None);

        var outcome = Assert.Single(outcomes);
        Assert.Equal(ModelRunStatus.Crashed, outcome.Status);
        Assert.Contains("cannot be reached", outcome.Failure, StringComparison.Ordinal);
        var scored = store.Items.Where(i => i.Status == ItemStatus.Scored).ToList();
        Assert.Equal(4, scored.Count);
        Assert.All(scored, i => Assert.True(i.Passed, $"{i.Key.ItemId}: '{i.RawOutput}'"));
        Assert.All(store.Items.Where(i => i.Status == ItemStatus.Failed), i => Assert.Equal(ItemFailureKind.WorkerCrash, i.Failure));
        Assert.Equal(ModelRunStatus.Crashed, store.ModelHistory[^1].Status);
    }

    [RequiresLlamaServerFact]
    public async Task A_500_a_stall_past_the_item_timeout_and_a_malformed_body_are_recorded_and_the_run_completes()
    {
        await using var server = await LlamaServerProcess.StartAsync(LlamaServerAgreementTests.ArithModelPath, "tiny-arith-xs-f16", 128);
        var (suite, prepared) = Arith(10);
        var prompt = (int index) => PromptRenderer.Render(suite, suite.Items[index]).PlainText;
        var faults = new Dictionary<string, Fault> { [prompt(2)] = Fault.ServerError, [prompt(5)] = Fault.Delay, [prompt(7)] = Fault.Malformed };
        await using var proxy = new FaultProxy(server.Port, faults, TimeSpan.FromSeconds(10));
        var model = LlamaServerAgreementTests.Served("served-arith", proxy.Endpoint, "tiny-arith-xs-f16", itemTimeout: TimeSpan.FromSeconds(2));
        var store = new InMemoryRunStore();

        var outcomes = await new RunCoordinator(new OpenAiBackend(Fast), store, TimeProvider.System)
            .RunAsync([new RunModel(model, proxy.Endpoint, "", 0)], [prepared], null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.Completed, Assert.Single(outcomes).Status);
        Assert.Equal(10, store.Items.Count);
        var byId = store.Items.ToDictionary(i => i.Key.ItemId);
        var serverError = byId[suite.Items[2].Id];
        Assert.Equal((ItemStatus.Failed, ItemFailureKind.Backend), (serverError.Status, serverError.Failure));
        Assert.Contains("HTTP 500", serverError.Error, StringComparison.Ordinal);
        Assert.Contains("injected fault", serverError.Error, StringComparison.Ordinal);
        var stall = byId[suite.Items[5].Id];
        Assert.Equal((ItemStatus.Failed, ItemFailureKind.Timeout), (stall.Status, stall.Failure));
        Assert.Contains("past its deadline of 2 s", stall.Error, StringComparison.Ordinal);
        var malformed = byId[suite.Items[7].Id];
        Assert.Equal((ItemStatus.Failed, ItemFailureKind.Backend), (malformed.Status, malformed.Failure));
        Assert.Contains("malformed", malformed.Error, StringComparison.Ordinal);
        // Every other item went through the proxy to the real server and was answered correctly.
        var others = store.Items.Where(i => i.Key.ItemId != suite.Items[2].Id && i.Key.ItemId != suite.Items[5].Id && i.Key.ItemId != suite.Items[7].Id).ToList();
        Assert.Equal(7, others.Count);
        Assert.All(others, i => Assert.True(i.Status == ItemStatus.Scored && i.Passed, $"{i.Key.ItemId}: {i.Status} '{i.RawOutput}' {i.Error}"));
    }

    private sealed class KillAfter(int items, LlamaServerProcess server) : IRunObserver
    {
        private int _done;

        public void ModelStarting(RunModel model, int pendingItems)
        {
        }

        public void ModelFinished(ModelOutcome outcome)
        {
        }

        public void ItemCompleted(EvaluationProgress progress)
        {
            if (progress.LastItem is not null && ++_done == items)
                server.Kill();
        }
    }
}
