using System.Globalization;
using Harness.Core.Comparison;
using Harness.Core.Downloads;
using Harness.Core.Runs;
using Spectre.Console;

namespace Harness.Cli.Output;

/// <summary>Live progress bars with ETA: one per (model, suite) and one per download.</summary>
internal sealed class ProgressObserver(ProgressContext context) : IRunObserver, IProgress<DownloadProgress>, IProgress<DriftProgress>, IProgress<Harness.Core.Judging.JudgeProgress>
{
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
    }

    public void ModelFinished(ModelOutcome outcome)
    {
        if (outcome.Failure is not null)
        {
            context.AddTask($"[red]{Markup.Escape(outcome.ModelId)}: {Markup.Escape(outcome.Status.ToString())}[/]", maxValue: 1).Value = 1;
        }
    }

    public void ItemCompleted(EvaluationProgress progress)
    {
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
        if (!_drift.TryGetValue(value.CandidateModelId, out var task))
        {
            task = context.AddTask($"drift {Markup.Escape(value.CandidateModelId)}", maxValue: Math.Max(1, value.Total));
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

/// <summary>Progress for logs and pipes: a line per model, per suite at every quarter, per download at every tenth.</summary>
internal sealed class LineProgressObserver(IAnsiConsole console) : IRunObserver, IProgress<DownloadProgress>, IProgress<DriftProgress>, IProgress<Harness.Core.Judging.JudgeProgress>
{
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
        var step = Math.Max(1, value.Total / 4);
        if (value.Completed % step == 0 || value.Completed == value.Total)
        {
            console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  drift {value.CandidateModelId}: {value.Completed}/{value.Total}"));
        }
    }

    private readonly Dictionary<string, long> _downloadTenths = [];

    public void ModelStarting(RunModel model, int pendingItems) =>
        console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{model.Entry.Id}: {pendingItems} items to evaluate"));

    public void ModelFinished(ModelOutcome outcome) =>
        console.WriteLine(outcome.Failure is null
            ? string.Create(CultureInfo.InvariantCulture, $"{outcome.ModelId}: {outcome.Status} ({outcome.ItemsRecordedNow} items recorded now)")
            : $"{outcome.ModelId}: {outcome.Status}: {outcome.Failure}");

    public void ItemCompleted(EvaluationProgress progress)
    {
        var step = Math.Max(1, progress.Total / 4);
        if (progress.LastItem is not null && (progress.Completed % step == 0 || progress.Completed == progress.Total))
        {
            console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {progress.ModelId} · {progress.Suite}: {progress.Completed}/{progress.Total}"));
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
