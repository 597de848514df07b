using Harness.Core.Comparison;
using Harness.Core.Judging;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Reports.Html;
using Harness.Store.Sqlite;

namespace Harness.Cli.Running;

/// <summary>Rebuilds report.md, report.json and report.html from run.json and the store alone.</summary>
internal static class ReportService
{
    public static IReadOnlyList<IReportWriter> Writers { get; } = [new MarkdownReportWriter(), new JsonReportWriter(), new HtmlReportWriter()];

    public static async Task<RunReport> RebuildAsync(string runDirectory, CancellationToken cancellationToken)
    {
        runDirectory = Path.GetFullPath(runDirectory);
        if (!File.Exists(RunManifestFile.PathIn(runDirectory)))
        {
            throw new Core.Suites.InputFileException(runDirectory, null, $"not a run folder: it has no {RunManifestFile.FileName}");
        }

        var manifest = await RunManifestFile.ReadAsync(runDirectory, cancellationToken);
        // A rebuild while a run writes the same reports would race it; one writer per folder.
        using var folderLock = RunFolderLock.Acquire(runDirectory);
        var store = await SqliteRunStore.OpenAsync(runDirectory, cancellationToken);
        await using (store)
        {
            return await WriteAsync(runDirectory, manifest, store, cancellationToken);
        }
    }

    public static async Task<RunReport> WriteAsync(string runDirectory, RunManifest manifest, IRunStore store, CancellationToken cancellationToken)
    {
        var log = PhaseLog.FromEnvironment();
        var models = await store.ReadModelsAsync(cancellationToken);
        var items = new List<ItemRecord>();
        await foreach (var item in store.ReadItemsAsync(cancellationToken))
        {
            items.Add(ReportItems.ForReport(item));
        }

        var drift = new List<DriftRecord>();
        IReadOnlyList<PerplexityRecord> perplexity = [];
        IReadOnlyList<DriftAbsence> absences = [];
        if (store is IComparisonStore comparisons)
        {
            await foreach (var record in comparisons.ReadDriftAsync(cancellationToken))
            {
                drift.Add(record);
            }

            perplexity = await comparisons.ReadPerplexityAsync(cancellationToken);
            absences = await comparisons.ReadDriftAbsencesAsync(cancellationToken);
        }

        var judgements = new List<JudgementRecord>();
        if (store is IJudgementStore judged)
        {
            await foreach (var record in judged.ReadJudgementsAsync(cancellationToken))
            {
                judgements.Add(record);
            }
        }

        // A merged plan folder names the machines its shards ran on.
        var merge = await Core.Sharding.ShardFiles.ReadMergeAsync(runDirectory, cancellationToken);
        log?.Mark("read store");
        var report = RunReportBuilder.Build(manifest, models, items, drift, perplexity, judgements, absences, merge);
        log?.Mark("build report");
        foreach (var writer in Writers)
        {
            // Written beside and renamed, so a reader never sees half a report.
            var target = Path.Combine(runDirectory, writer.FileName);
            await AtomicFile.WriteAsync(target, (stream, token) => writer.WriteAsync(report, stream, token), cancellationToken);
            log?.Mark("write " + writer.FileName);
        }

        return report;
    }
}
