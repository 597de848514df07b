using Harness.Cli.Running;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Store.Sqlite;
using Harness.Tests.Reports;

namespace Harness.Tests.Cli;

/// <summary><c>harness report A B</c> on two stored runs of a judged suite: the judgements come from each run's store.</summary>
public sealed class JudgedReportDiffTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harness-judged-diff-").FullName;

    private async Task<string> StoreRunAsync(string runId, Func<int, bool> judgePasses)
    {
        var directory = Path.Combine(_root, runId);
        Directory.CreateDirectory(directory);
        RunManifest manifest = JudgedRunDiffTests.JudgedManifest(runId);
        await RunManifestFile.WriteAsync(manifest, directory, CancellationToken.None);
        var store = await SqliteRunStore.OpenAsync(directory, CancellationToken.None);
        await using (store)
        {
            foreach (var item in JudgedRunDiffTests.Placeholders())
            {
                await store.AppendItemAsync(item, CancellationToken.None);
            }

            foreach (var judgement in JudgedRunDiffTests.Judgements(manifest, judgePasses))
            {
                await store.AppendJudgementAsync(judgement, CancellationToken.None);
            }
        }

        return directory;
    }

    [Fact]
    public async Task The_diff_of_two_stored_runs_reads_each_runs_judgements()
    {
        var a = await StoreRunAsync("run-a", _ => true);
        var b = await StoreRunAsync("run-b", i => i < 6);

        var result = await RunDiffService.WriteAsync(a, b, null, CancellationToken.None);

        var suite = Assert.Single(result.Diff.Suites);
        Assert.Equal((1.0, 0.6), (suite.PassRateA, suite.PassRateB));
        Assert.Equal(4, suite.PassRate.Counts.OnlyBasePassed);
        var markdown = await File.ReadAllTextAsync(result.Files.Single(f => f.EndsWith(".md", StringComparison.Ordinal)));
        Assert.Contains("| tiny | essay | 10 | 100.0% → 60.0% |", markdown, StringComparison.Ordinal);
    }

    public void Dispose()
    {
        Directory.Delete(_root, recursive: true);
    }
}
