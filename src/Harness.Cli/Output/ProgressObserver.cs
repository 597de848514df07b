using System.Globalization;
using Harness.Core.Comparison;
using Harness.Core.Downloads;
using Harness.Core.Runs;
using Spectre.Console;

namespace Harness.Cli.Output;

/// <summary>
/// Live progress: one overall line (items done of the run's total, elapsed, ETA) on top, then a bar per (model, suite)
/// in progress and one per download; finished suites leave the display, so the overall line stays on the screen.
/// </summary>
internal sealed class ProgressObserver(ProgressContext context, TimeProvider time) : IRunObserver, IProgress<DownloadProgress>, IProgress<DriftProgress>, IProgress<Harness.Core.Judging.JudgeProgress>
{
    private readonly OverallProgress _run = new(time);
    private readonly OverallProgress _driftOverall = new(time);
    private ProgressTask? _overall;

    private void ShowOverall(string label, ProgressSnapshot snapshot)
    {
        // Added on first use, before any suite's bar, so it is the top line.
        _overall ??= context.AddTask("", maxValue: 1);
        _overall.Description = $"[bold]{Markup.Escape(label)}[/] {Markup.Escape(snapshot.Text)}";
        _overall.MaxValue = Math.Max(1, snapshot.Total);
        _overall.Value = snapshot.Done;
    }

    public void RunStarting(IReadOnlyDictionary<string, int> pendingItemsPerModel)
    {
        foreach (var (model, items) in pendingItemsPerModel)
        {
            _run.Plan(model, items);
        }

        ShowOverall("run", _run.Snapshot());
    }

    private readonly Dictionary<(string Judge, string Suite), ProgressTask> _judging = [];

    public void Report(Harness.Core.Judging.JudgeProgress value)
    {
        if (!_judging.TryGetValue((value.JudgeModelId, value.Suite), out var task))
        {
            task = context.AddTask($"judge {Markup.Escape(value.JudgeModelId)} · {Markup.Escape(value.Suite)}", maxValue: Math.Max(1, value.Total));
            _judging[(value.JudgeModelId, value.Suite)] = task;
        }

        task.Value = value.Completed;
        if (value.Completed >= value.Total)
        {
            task.StopTask();
        }
    }

    private readonly Dictionary<string, ProgressTask> _drift = [];

    private readonly Dictionary<(string Model, string Suite), ProgressTask> _tasks = [];
    private readonly Dictionary<string, ProgressTask> _downloads = [];

    public void ModelStarting(RunModel model, int pendingItems)
    {
        _run.Plan(model.Entry.Id, pendingItems);
        ShowOverall("run", _run.Snapshot());
    }

    public void ModelFinished(ModelOutcome outcome)
    {
        _run.PartFinished(outcome.ModelId);
        ShowOverall("run", _run.Snapshot());
        if (outcome.Failure is not null)
        {
            // A finished task is hidden; an indeterminate one stays on screen with the failure.
            var failed = context.AddTask($"[red]{Markup.Escape(outcome.ModelId)}: {Markup.Escape(outcome.Status.ToString())}[/]", maxValue: 1);
            failed.IsIndeterminate = true;
        }
    }

    public void ItemCompleted(EvaluationProgress progress)
    {
        if (progress.LastItem is not null)
        {
            _run.ItemDone(progress.ModelId);
            ShowOverall("run", _run.Snapshot());
        }

        if (!_tasks.TryGetValue((progress.ModelId, progress.Suite), out var task))
        {
            task = context.AddTask($"{Markup.Escape(progress.ModelId)} · {Markup.Escape(progress.Suite)}", maxValue: progress.Total);
            _tasks[(progress.ModelId, progress.Suite)] = task;
        }

        task.Value = progress.Completed;
        if (progress.Completed >= progress.Total)
        {
            task.StopTask(); // freezes its elapsed time
        }
    }

    public void Report(DriftProgress value)
    {
        DriftPlan.Track(_driftOverall, value);
        ShowOverall("drift", _driftOverall.Snapshot());
        if (!_drift.TryGetValue(value.CandidateModelId, out var task))
        {
            task = context.AddTask($"drift {Markup.Escape(value.CandidateModelId)} ({value.Candidate} of {value.Candidates})", maxValue: Math.Max(1, value.Total));
            _drift[value.CandidateModelId] = task;
        }

        task.Value = value.Completed;
        if (value.Completed >= value.Total)
        {
            task.StopTask();
        }
    }

    public void Report(DownloadProgress value)
    {
        if (!_downloads.TryGetValue(value.ModelId, out var task))
        {
            task = context.AddTask($"download {Markup.Escape(value.ModelId)}", maxValue: value.TotalBytes ?? 1);
            _downloads[value.ModelId] = task;
        }

        if (value.TotalBytes is { } total)
        {
            task.MaxValue = total;
            task.Value = value.BytesDone;
        }
        else
        {
            task.Description = string.Create(CultureInfo.InvariantCulture, $"download {Markup.Escape(value.ModelId)} ({value.BytesDone / 1048576.0:F1} MiB)");
        }
    }
}

/// <summary>
/// Progress for logs and pipes: a line per model, one overall line (done/total items, elapsed, ETA) at every tenth of
/// the run and at least once a minute while it moves, and a line per download at every tenth. The drift pass of
/// <c>compare</c> gets the same overall lines over all its candidates.
/// </summary>
internal sealed class LineProgressObserver(IAnsiConsole console, TimeProvider? time = null) : IRunObserver, IProgress<DownloadProgress>, IProgress<DriftProgress>, IProgress<Harness.Core.Judging.JudgeProgress>
{
    private readonly PeriodicProgressLine _run = new(console, "progress", time ?? TimeProvider.System);
    private readonly PeriodicProgressLine _drift = new(console, "drift", time ?? TimeProvider.System);

    public void RunStarting(IReadOnlyDictionary<string, int> pendingItemsPerModel)
    {
        foreach (var (model, items) in pendingItemsPerModel)
        {
            _run.Progress.Plan(model, items);
        }

        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{pendingItemsPerModel.Values.Sum()} items to evaluate across {pendingItemsPerModel.Count} model{(pendingItemsPerModel.Count == 1 ? "" : "s")}"));
    }

    public void Report(Harness.Core.Judging.JudgeProgress value)
    {
        var step = Math.Max(1, value.Total / 4);
        if (value.Completed % step == 0 || value.Completed == value.Total)
        {
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  judge {value.JudgeModelId} · {value.Suite}: {value.Completed}/{value.Total}"));
        }
    }

    public void Report(DriftProgress value)
    {
        if (value.Completed == 0)
        {
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"drift {value.CandidateModelId} (candidate {value.Candidate} of {value.Candidates}): {value.Total} items"));
        }

        DriftPlan.Track(_drift.Progress, value);
        _drift.Update(force: value.Completed == value.Total && value.Candidate == value.Candidates);
    }

    private readonly Dictionary<string, long> _downloadTenths = [];

    public void ModelStarting(RunModel model, int pendingItems)
    {
        _run.Progress.Plan(model.Entry.Id, pendingItems);
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model.Entry.Id}: {pendingItems} items to evaluate"));
    }

    public void ModelFinished(ModelOutcome outcome)
    {
        _run.Progress.PartFinished(outcome.ModelId);
        console.WriteLine(outcome.Failure is null
            ? string.Create(CultureInfo.InvariantCulture, $"{outcome.ModelId}: {outcome.Status} ({outcome.ItemsRecordedNow} items recorded now)")
            : $"{outcome.ModelId}: {outcome.Status}: {outcome.Failure}");
        _run.Update(force: false);
    }

    // Per-suite lines flooded a run of many suites; the overall line says where the whole run stands instead.
    public void ItemCompleted(EvaluationProgress progress)
    {
        if (progress.LastItem is not null)
        {
            _run.Progress.ItemDone(progress.ModelId);
            _run.Update(force: false);
        }
    }

    public void Report(DownloadProgress value)
    {
        var tenth = value.TotalBytes is { } total && total > 0 ? value.BytesDone * 10 / total : value.BytesDone >> 26;
        if (_downloadTenths.TryGetValue(value.ModelId, out var last) && last == tenth)
        {
            return;
        }

        _downloadTenths[value.ModelId] = tenth;
        console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"download {value.ModelId}: {value.BytesDone / 1048576.0:F1} MiB of {(value.TotalBytes is { } t ? (t / 1048576.0).ToString("F1", CultureInfo.InvariantCulture) : "?")} MiB"));
    }
}

/// <summary>Feeds a drift report into an overall count over all candidates.</summary>
internal static class DriftPlan
{
    /// <summary>
    /// Candidates not started yet are planned with this one's item count: every candidate is measured on the base's
    /// items, so they differ only where a resume already measured some.
    /// </summary>
    public static void Track(OverallProgress overall, DriftProgress value)
    {
        var part = value.Candidate.ToString(CultureInfo.InvariantCulture);
        if (value.Completed == 0)
        {
            overall.Plan(part, value.Total);
            for (var later = value.Candidate + 1; later <= value.Candidates; later++)
            {
                overall.Plan(later.ToString(CultureInfo.InvariantCulture), value.Total);
            }
        }
        else
        {
            overall.ItemDone(part);
        }

        if (value.Completed >= value.Total)
        {
            overall.PartFinished(part);
        }
    }
}

/// <summary>
/// Prints an <see cref="OverallProgress"/> as plain lines: at every tenth of the total and at least once a minute
/// while items are done, so a log shows steady progress without a line per item or per suite.
/// </summary>
internal sealed class PeriodicProgressLine(IAnsiConsole console, string label, TimeProvider time)
{
    /// <summary>Longest silence while items are done; a minute keeps a 12-minute pass at about 20 lines.</summary>
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    private long _lastPrinted = time.GetTimestamp();
    private int _lastTenth;
    private int _lastDone;

    public OverallProgress Progress { get; } = new(time);

    /// <param name="force">Print even when no tenth was crossed and the minute is not over (the pass's end).</param>
    public void Update(bool force)
    {
        var snapshot = Progress.Snapshot();
        var tenth = snapshot.Total > 0 ? snapshot.Done * 10 / snapshot.Total : 10;
        var due = time.GetElapsedTime(_lastPrinted) >= Interval && snapshot.Done > _lastDone;
        if (!force && tenth == _lastTenth && !due)
        {
            return;
        }

        if (snapshot.Done == _lastDone && !force)
        {
            return;
        }

        _lastTenth = tenth;
        _lastDone = snapshot.Done;
        _lastPrinted = time.GetTimestamp();
        console.WriteLine($"{label}: {snapshot.Text}");
    }
}
