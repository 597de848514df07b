using System.Collections.Immutable;
using System.ComponentModel;
using Harness.Cli.Output;
using Harness.Cli.Running;
using Harness.Cli.Workers;
using Harness.Core.Downloads;
using Harness.Core.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

/// <summary>The options of every command that plans a run (run, compare) or resumes one.</summary>
internal abstract class PlannedRunSettings : CommandSettings
{
    [CommandOption("--models <FILE>")]
    [Description("Model manifest. Default: models.manifest")]
    public string Manifest { get; init; } = "models.manifest";

    [CommandOption("--suite <DIR>")]
    [Description("A suite folder (repeatable). Default: every suite under --tasks")]
    public string[] Suites { get; init; } = [];

    [CommandOption("--tasks <DIR>")]
    [Description("Folder holding the suites. Default: tasks")]
    public string Tasks { get; init; } = "tasks";

    [CommandOption("--results <DIR>")]
    [Description("Where run folders are created. Default: results")]
    public string Results { get; init; } = "results";

    [CommandOption("--resume <RUN_DIR>")]
    [Description("Finish an interrupted run; every other option is read from its run.json")]
    public string? Resume { get; init; }

    /// <summary>A resume continues the plan in run.json, so no option that plans may come with it.</summary>
    /// <param name="plannedElsewhere">The command's own planning options were given.</param>
    /// <param name="ownOptions">Their names, for the message.</param>
    protected ValidationResult ValidateResume(bool plannedElsewhere, string ownOptions)
    {
        var planned = plannedElsewhere || Suites.Length > 0 || Manifest != "models.manifest" || Tasks != "tasks";
        return Resume is not null && planned
            ? ValidationResult.Error($"--resume continues the plan stored in run.json; it takes no --models, --suite, --tasks or {ownOptions}")
            : ValidationResult.Success();
    }
}

internal sealed class RunSettings : PlannedRunSettings
{
    [CommandOption("--model <ID>")]
    [Description("A model id from the manifest (repeatable). Default: every model")]
    public string[] Models { get; init; } = [];

    [CommandOption("--json")]
    [Description("No progress display; print a machine-readable summary on stdout")]
    public bool Json { get; init; }

    public override ValidationResult Validate() => ValidateResume(Models.Length > 0, "--model");
}

internal sealed class RunCommand : AsyncCommand<RunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RunSettings settings, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var service = RunService.WithWorkers(http);

        var result = await RunWithDisplayAsync(settings.Json, (observer, downloads) => settings.Resume is { } resume
            ? service.ResumeAsync(resume, observer, downloads, cancellationToken)
            : service.StartAsync(
                new NewRunOptions(settings.Manifest, settings.Tasks, [.. settings.Suites], [.. settings.Models], settings.Results),
                observer, downloads, cancellationToken));

        if (settings.Json)
        {
            Console.Out.WriteLine(SummaryWriter.ToJson(result));
        }
        else
        {
            SummaryWriter.WriteTables(AnsiConsole.Console, result);
        }

        return result.Outcomes.Any(o => o.Status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed)
            ? ExitCodes.ModelFailures
            : ExitCodes.Success;
    }

    internal static async Task<RunResult> RunWithDisplayAsync(
        bool json, Func<IRunObserver?, IProgress<DownloadProgress>?, Task<RunResult>> run)
    {
        if (json)
        {
            return await run(null, null);
        }

        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var lines = new LineProgressObserver(AnsiConsole.Console);
            return await run(lines, lines);
        }

        RunResult? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var observer = new ProgressObserver(context);
                result = await run(observer, observer);
            });
        return result!;
    }
}
