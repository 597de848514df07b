using System.Collections.Immutable;
using System.Diagnostics;
using Harness.Cli.Workers;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Tests.Fakes;

namespace Harness.Tests.Workers;

/// <summary>
/// The parent's side of the protocol against scripted workers (small shell scripts, no model): request ids, the
/// watchdog's kill, crash evidence and capability negotiation. POSIX only: the worker protocol's fd juggling is too.
/// </summary>
public sealed class WorkerWatchdogTests
{
    private static readonly GenerationRequest Request =
        new(new RenderedPrompt([], "2+3="), new GenerationSettings(4, ["\n"], 0, 0));

    private static string Loaded(long id, SessionAbilities? abilities = null) => WorkerJson.Serialize(new WorkerResponse(
        true, RequestId: id, Abilities: abilities ?? new SessionAbilities(true, 0, true, false),
        Loaded: new ModelLoadInfo("fake", TimeSpan.FromMilliseconds(1), 1, 1, "none",
            ImmutableSortedDictionary<string, string>.Empty, ImmutableSortedDictionary<string, string>.Empty)));

    private static string Generated(long id, string text) => WorkerJson.Serialize(new WorkerResponse(
        true, RequestId: id, Generated: new GenerationResult(text, FinishReason.StopSequence, "2+3=", 4, 1,
            new RequestTimings(TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(1), TimeSpan.FromMilliseconds(2)))));

    /// <summary>A worker that answers the load, then runs <paramref name="onGenerate"/> (shell) for the next request.</summary>
    private static WorkerProcessBackend Scripted(string onGenerate, List<string>? log = null, SessionAbilities? abilities = null) => new(
        new WorkerLaunch("/bin/sh", ["-c", $"read line; printf '%s\\n' '{Loaded(1, abilities)}'; read line; {(onGenerate.Length == 0 ? ":" : onGenerate)}; while read line; do :; done"]),
        "scripted", WatchdogSettings.Default, TimeProvider.System, log is null ? null : log.Add);

    private static Harness.Core.Models.ModelEntry Entry(TimeSpan? itemTimeout = null) =>
        TestSuites.Model("m").Entry with { Backend = TestSuites.Model("m").Entry.Backend with { ItemTimeout = itemTimeout } };

    [Fact]
    public async Task A_late_answer_to_another_request_is_discarded_and_logged_never_taken_for_this_one()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var log = new List<string>();
        var backend = Scripted($"printf '%s\\n' '{Generated(7, "stale")}' '{Generated(2, "fresh")}'", log);
        await using var session = await backend.LoadAsync(Entry(), "/dev/null", CancellationToken.None);

        var result = await session.GenerateAsync(Request, CancellationToken.None);

        Assert.Equal("fresh", result.Text);
        Assert.Equal("model 'm': discarded a worker answer to request 7 while awaiting request 2", Assert.Single(log));
    }

    [Fact]
    public async Task A_request_past_its_deadline_kills_the_worker_and_ends_as_a_timeout_with_its_elapsed_time()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var backend = Scripted("echo 'decoding...' >&2; sleep 60");
        var session = await backend.LoadAsync(Entry(itemTimeout: TimeSpan.FromSeconds(1)), "/dev/null", CancellationToken.None);
        var pid = ((WorkerSession)session).ProcessId;
        var watch = Stopwatch.StartNew();

        var lost = await Assert.ThrowsAsync<SessionLostException>(() => session.GenerateAsync(Request, CancellationToken.None));

        Assert.InRange(watch.Elapsed, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(20));
        Assert.Equal(ItemFailureKind.Timeout, lost.Kind);
        Assert.Matches(@"^model 'm': timeout after 1(\.\d+)? s \(deadline 1 s from the item timeout set for this model\); the worker was killed", lost.Message);
        Assert.Contains("decoding...", lost.Message, StringComparison.Ordinal); // the worker's last output is kept as evidence
        Assert.Throws<ArgumentException>(() => Process.GetProcessById(pid)); // killed, not left running
        // The session stays lost: a later request fails at once instead of writing to a dead worker.
        Assert.Same(lost, await Assert.ThrowsAsync<SessionLostException>(() => session.GenerateAsync(Request, CancellationToken.None)));
        await session.DisposeAsync();
    }

    [Fact]
    public async Task A_worker_that_aborts_mid_request_is_reported_as_a_crash_with_its_exit_status_and_last_output()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var backend = Scripted("echo 'GGML_ASSERT(n_tokens > 0) failed' >&2; kill -ABRT $$");
        await using var session = await backend.LoadAsync(Entry(), "/dev/null", CancellationToken.None);

        var lost = await Assert.ThrowsAsync<SessionLostException>(() => session.GenerateAsync(Request, CancellationToken.None));

        Assert.Equal(ItemFailureKind.WorkerCrash, lost.Kind);
        Assert.Contains("SIGABRT", lost.Message, StringComparison.Ordinal);
        Assert.Contains("GGML_ASSERT(n_tokens > 0) failed", lost.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_session_offers_exactly_the_abilities_the_worker_listed()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        await using var plain = await Scripted("", abilities: new SessionAbilities(false, 0, false, true)).LoadAsync(Entry(), "/dev/null", CancellationToken.None);
        await using var full = await Scripted("", abilities: new SessionAbilities(true, 4, true, true)).LoadAsync(Entry(), "/dev/null", CancellationToken.None);

        Assert.False(plain is ILogLikelihoodScorer);
        Assert.False(plain is ITokenDistributionProbe);
        Assert.False(plain is IBatchedTextGenerator);
        Assert.False(plain is IThroughputProbe); // never over the protocol
        Assert.True(full is ILogLikelihoodScorer);
        Assert.True(full is ITokenDistributionProbe);
        Assert.Equal(4, Assert.IsAssignableFrom<IBatchedTextGenerator>(full).ParallelSequences);
        Assert.False(full is IThroughputProbe);
    }

    [Fact]
    public async Task A_load_past_its_deadline_kills_the_worker_and_reports_a_timeout()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        var backend = new WorkerProcessBackend(new WorkerLaunch("/bin/sh", ["-c", "sleep 60"]), "scripted", WatchdogSettings.Default, TimeProvider.System);
        var entry = Entry() with { Backend = Entry().Backend with { LoadTimeout = TimeSpan.FromSeconds(1) } };

        var lost = await Assert.ThrowsAsync<SessionLostException>(() => backend.LoadAsync(entry, "/dev/null", CancellationToken.None));

        Assert.Equal(ItemFailureKind.Timeout, lost.Kind);
        Assert.Contains("deadline 1 s from the load timeout set for this model", lost.Message, StringComparison.Ordinal);
    }
}
