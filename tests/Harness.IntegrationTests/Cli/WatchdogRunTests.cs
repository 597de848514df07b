using Harness.Cli.Workers;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Store.Sqlite;

namespace Harness.IntegrationTests.Cli;

/// <summary>
/// A run always ends: real CLI, real workers, the tiny bigram model, and the workers' test-only faults (a worker that
/// stops itself with SIGSTOP, or calls abort(), on one item's prompt).
/// </summary>
[Trait("Category", "Model")]
public sealed class WatchdogRunTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task A_worker_stopped_with_SIGSTOP_mid_item_is_killed_the_item_recorded_as_a_timeout_and_the_rest_scored()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no SIGSTOP
        }

        using var ws = new HarnessProcess.Workspace();
        // 20 s: the tiny model answers in milliseconds, but a machine busy enough took 2.6 s for an item here, and a
        // fixed deadline is held to exactly (a 3 s one timed out healthy items under a parallel test run).
        var start = HarnessProcess.StartInfo(ws.Root, "run", "--suite", "tasks/arith", "--model", "tiny-bigram", "--item-timeout", "20", "--json");
        start.Environment[WorkerTestFaults.StopVariable] = "22+39="; // item 003's prompt

        var run = await HarnessProcess.RunToEndAsync(start, Timeout, "harness run with a stopped worker");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var dir = ws.SingleRunDirectory();
        var items = await ReadItemsAsync(dir);
        Assert.Equal(200, items.Count);
        var hung = Assert.Single(items, i => i.Status == ItemStatus.Failed);
        Assert.Equal("003", hung.Key.ItemId);
        Assert.Equal(ItemFailureKind.Timeout, hung.Failure);
        Assert.Matches(@"^model 'tiny-bigram': timeout after 20(\.\d+)? s \(deadline 20 s from the item timeout set for this model\); the worker was killed", hung.Error);
        Assert.InRange(hung.Metrics.Timings.Total, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(90));
        Assert.Equal(199, items.Count(i => i.Status == ItemStatus.Scored));

        // run.json says which deadlines decided the item's fate.
        var manifest = await RunManifestFile.ReadAsync(dir, CancellationToken.None);
        Assert.Equal(TimeSpan.FromSeconds(20), Assert.Single(manifest.Models).Entry.Backend.ItemTimeout);
        Assert.Equal(WatchdogSettings.Default, manifest.Watchdog);
    }

    [Fact]
    public async Task An_item_that_aborts_its_worker_twice_is_recorded_with_the_evidence_the_others_are_scored_and_a_resume_reruns_nothing()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        using var ws = new HarnessProcess.Workspace();
        var start = HarnessProcess.StartInfo(ws.Root, "run", "--suite", "tasks/arith", "--model", "tiny-bigram", "--json");
        start.Environment[WorkerTestFaults.AbortVariable] = "46+66="; // item 004's prompt

        var run = await HarnessProcess.RunToEndAsync(start, Timeout, "harness run with a poison item");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var dir = ws.SingleRunDirectory();
        var items = await ReadItemsAsync(dir);
        Assert.Equal(200, items.Count);
        var poison = Assert.Single(items, i => i.Status == ItemStatus.Failed);
        Assert.Equal("004", poison.Key.ItemId);
        Assert.Equal(ItemFailureKind.WorkerCrash, poison.Failure);
        Assert.Contains("on each of 2 tries", poison.Error, StringComparison.Ordinal);
        Assert.Contains("SIGABRT", poison.Error, StringComparison.Ordinal);
        Assert.Contains("test fault: abort() on a prompt containing '46+66='", poison.Error, StringComparison.Ordinal);
        Assert.Equal(199, items.Count(i => i.Status == ItemStatus.Scored));

        var resume = HarnessProcess.StartInfo(ws.Root, "run", "--resume", dir, "--json");
        resume.Environment[WorkerTestFaults.AbortVariable] = "46+66=";
        var resumed = await HarnessProcess.RunToEndAsync(resume, Timeout, "harness run --resume");

        Assert.True(resumed.ExitCode == 0, resumed.Output + resumed.Error);
        var after = await ReadItemsAsync(dir);
        Assert.Equal(200, after.Count);
        Assert.Equal(poison, Assert.Single(after, i => i.Status == ItemStatus.Failed), new SameRecord());
    }

    private static async Task<IReadOnlyList<ItemRecord>> ReadItemsAsync(string runDirectory)
    {
        var store = await SqliteRunStore.OpenAsync(runDirectory, CancellationToken.None);
        await using (store)
        {
            var items = new List<ItemRecord>();
            await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
            {
                items.Add(item);
            }

            return items;
        }
    }

    // Records hold immutable arrays (reference equality): compare what a re-run would change.
    private sealed class SameRecord : IEqualityComparer<ItemRecord>
    {
        public bool Equals(ItemRecord? x, ItemRecord? y) =>
            x is not null && y is not null && x.Key == y.Key && x.CompletedAt == y.CompletedAt && x.Error == y.Error && x.Failure == y.Failure;

        public int GetHashCode(ItemRecord obj) => obj.Key.GetHashCode();
    }
}
