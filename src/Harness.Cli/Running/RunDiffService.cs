using Harness.Core.Judging;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Store.Sqlite;

namespace Harness.Cli.Running;

/// <summary>What <c>harness report A B</c> produced: the diff and the files written.</summary>
internal sealed record RunDiffResult(RunDiff Diff, IReadOnlyList<string> Files);

/// <summary>Compares two run folders item by item and writes <c>diff-&lt;A&gt;-vs-&lt;B&gt;.md/.json</c>; no model is loaded.</summary>
internal static class RunDiffService
{
    public static IReadOnlyList<IRunDiffWriter> Writers { get; } = [new RunDiffMarkdownWriter(), new RunDiffJsonWriter()];

    /// <param name="outputDirectory">Where the files go; null: run B's folder, beside its own report.</param>
    public static async Task<RunDiffResult> WriteAsync(string runA, string runB, string? outputDirectory, CancellationToken cancellationToken)
    {
        var log = PhaseLog.FromEnvironment();
        var a = await ReadRunAsync(runA, cancellationToken);
        log?.Mark("read run A");
        var b = await ReadRunAsync(runB, cancellationToken);
        log?.Mark("read run B");
        var diff = RunDiffBuilder.Build(a.Manifest, a.Items, b.Manifest, b.Items, a.Judgements, b.Judgements);
        log?.Mark("build diff");

        string directory = Path.GetFullPath(outputDirectory ?? runB);
        Directory.CreateDirectory(directory);
        var files = new List<string>();
        foreach (var writer in Writers)
        {
            // Written beside and renamed, so a reader never sees half a diff.
            var target = Path.Combine(directory, RunDiff.FileStem(diff.RunA.RunId, diff.RunB.RunId) + writer.Extension);
            await AtomicFile.WriteAsync(target, (stream, token) => writer.WriteAsync(diff, stream, token), cancellationToken);
            log?.Mark("write " + writer.Extension);
            files.Add(target);
        }

        return new RunDiffResult(diff, files);
    }

    /// <exception cref="InputFileException">The folder is missing or is not a run folder (no run.json or no store).</exception>
    public static async Task<(RunManifest Manifest, IReadOnlyList<ItemRecord> Items, IReadOnlyList<JudgementRecord> Judgements)> ReadRunAsync(string runDirectory, CancellationToken cancellationToken)
    {
        runDirectory = Path.GetFullPath(runDirectory);
        if (!Directory.Exists(runDirectory))
        {
            throw new InputFileException(runDirectory, null, "no such run folder");
        }

        if (!File.Exists(RunManifestFile.PathIn(runDirectory)))
        {
            throw new InputFileException(runDirectory, null, $"not a run folder: it has no {RunManifestFile.FileName}");
        }

        // Opening the store creates one when it is missing; a diff must never leave an empty store behind.
        if (!File.Exists(Path.Combine(runDirectory, SqliteRunStore.FileName)))
        {
            throw new InputFileException(runDirectory, null, $"not a run folder: it has no {SqliteRunStore.FileName}");
        }

        var manifest = await RunManifestFile.ReadAsync(runDirectory, cancellationToken);
        var items = new List<ItemRecord>();
        var judgements = new List<JudgementRecord>();
        var store = await SqliteRunStore.OpenAsync(runDirectory, cancellationToken);
        await using (store)
        {
            await foreach (var item in store.ReadItemsAsync(cancellationToken))
            {
                items.Add(ReportItems.ForReport(item));
            }

            // The judge's verdicts, as the run's own report reads them; a judged suite without them diffs placeholders.
            await foreach (var judgement in store.ReadJudgementsAsync(cancellationToken))
            {
                judgements.Add(judgement);
            }
        }

        return (manifest, items, judgements);
    }
}
