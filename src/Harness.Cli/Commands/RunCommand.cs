using System.Collections.Immutable;
using System.ComponentModel;
using Harness.Cli.Output;
using Harness.Cli.Running;
using Harness.Cli.Workers;
using Harness.Core.Contention;
using Harness.Core.Downloads;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

/// <summary>The options that decide what a run evaluates and how it measures (run, compare, plan).</summary>
internal abstract class RunPlanningSettings : CommandSettings
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

    [CommandOption("--energy <MODE>")]
    [Description("auto: read every usable energy meter (RAPL, NVML, IOReport, EMI), the estimate where none works; estimate: the estimate only. Default: auto")]
    public string Energy { get; init; } = "auto";

    [CommandOption("--watts-per-core <W>")]
    [Description("The estimate's power of one busy core (joules = CPU-seconds x this). Default: 10")]
    public double WattsPerCore { get; init; } = EnergySettings.DefaultWattsPerCore;

    [CommandOption("--gpu-board-watts <W>")]
    [Description("The estimate's GPU board power while serving requests, for models with GPU layers. Default: none (GPU left out of the estimate)")]
    public double? GpuBoardWatts { get; init; }

    [CommandOption("--idle-baseline <SECONDS>")]
    [Description("Measure the machine idle, model loaded, before each model's items, and subtract it (0: no baseline). Default: 3")]
    public double IdleBaselineSeconds { get; init; } = 3;

    [CommandOption("--energy-sample-ms <MS>")]
    [Description("Longest gap between background meter reads (meters that wrap sooner are read more often). Default: 50")]
    public int EnergySampleMs { get; init; } = 50;

    [CommandOption("--busy-other-cpu <PERCENT>")]
    [Description("Latency and energy ceilings measured while other processes used more than this share of the machine's CPU are left undecided. Default: 10")]
    public double BusyOtherCpuPercent { get; init; } = ContentionThresholds.Default.MaxOtherProcessesShare * 100;

    [CommandOption("--busy-steal <PERCENT>")]
    [Description("The same for CPU time a hypervisor stole (virtual machines). Default: 5")]
    public double BusyStealPercent { get; init; } = ContentionThresholds.Default.MaxStealShare * 100;

    /// <summary>The contention thresholds, frozen.</summary>
    public ContentionThresholds ToContentionThresholds() => new(BusyOtherCpuPercent / 100, BusyStealPercent / 100);
    [CommandOption("--item-timeout <SECONDS>")]
    [Description("Deadline of every request, for every model (overrides the manifest's item_timeout_s). Default: derived per request from its size and the model's measured speed (see docs/architecture.md)")]
    public double? ItemTimeoutSeconds { get; init; }

    [CommandOption("--load-timeout <SECONDS>")]
    [Description("Deadline of every model load (overrides the manifest's load_timeout_s). Default: 300 s + 30 s per GiB of model file")]
    public double? LoadTimeoutSeconds { get; init; }

    /// <summary>The watchdog overrides, frozen.</summary>
    public WatchdogOverrides ToWatchdogOverrides() => new(
        ItemTimeoutSeconds is { } item ? TimeSpan.FromSeconds(item) : null,
        LoadTimeoutSeconds is { } load ? TimeSpan.FromSeconds(load) : null);

    /// <summary>The energy options, frozen.</summary>
    public EnergySettings ToEnergySettings() => new(
        Energy == "estimate",
        new EnergyEstimateParameters(WattsPerCore, GpuBoardWatts),
        TimeSpan.FromSeconds(IdleBaselineSeconds),
        TimeSpan.FromMilliseconds(EnergySampleMs));

    /// <summary>Some option that plans a run was given (anything but the defaults).</summary>
    protected bool PlanningGiven =>
        Suites.Length > 0 || Manifest != "models.manifest" || Tasks != "tasks" || EnergyPlanned
        || ItemTimeoutSeconds is not null || LoadTimeoutSeconds is not null;

    private bool EnergyPlanned =>
        Energy != "auto" || WattsPerCore != EnergySettings.DefaultWattsPerCore || GpuBoardWatts is not null || IdleBaselineSeconds != 3 || EnergySampleMs != 50
        || ToContentionThresholds() != ContentionThresholds.Default;

    /// <summary>Checks the energy options; null when they are fine.</summary>
    protected ValidationResult ValidateEnergy()
    {
        if (Energy is not ("auto" or "estimate"))
        {
            return ValidationResult.Error($"--energy must be auto or estimate, got '{Energy}'");
        }

        if ((ItemTimeoutSeconds is { } item && !(item > 0)) || (LoadTimeoutSeconds is { } load && !(load > 0)))
        {
            return ValidationResult.Error("--item-timeout and --load-timeout must be a positive number of seconds");
        }

        if (!(WattsPerCore > 0) || GpuBoardWatts is <= 0 || !(IdleBaselineSeconds >= 0) || EnergySampleMs < 1)
        {
            return ValidationResult.Error("--watts-per-core and --gpu-board-watts must be positive, --idle-baseline at least 0 and --energy-sample-ms at least 1");
        }

        if (!(BusyOtherCpuPercent is >= 0 and <= 100) || !(BusyStealPercent is >= 0 and <= 100))
        {
            return ValidationResult.Error("--busy-other-cpu and --busy-steal are percentages from 0 to 100");
        }

        return ValidationResult.Success();
    }

}

/// <summary>The options of every command that plans a run into the results folder (run, compare) or resumes one.</summary>
internal abstract class PlannedRunSettings : RunPlanningSettings
{
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
        var planned = plannedElsewhere || PlanningGiven;
        return Resume is not null && planned
            ? ValidationResult.Error($"--resume continues the plan stored in run.json; it takes no --models, --suite, --tasks, energy or contention options, timeouts or {ownOptions}")
            : ValidateEnergy();
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

    [CommandOption("--until-decided")]
    [Description("Fixed suites run their items in a seeded random order and stop as soon as the anytime-valid sequential verdict decides (docs/statistics.md)")]
    public bool UntilDecided { get; init; }

    [CommandOption("--order-seed <N>")]
    [Description("Seed of the sequential item order. Default: drawn at random; recorded in run.json either way")]
    public int? OrderSeed { get; init; }

    [CommandOption("--judge <ID>")]
    [Description("The manifest model that grades every judged suite (e.g. mt-bench), over the judge its suite.yaml names")]
    public string? Judge { get; init; }

    [CommandOption("--plan <PLAN_DIR>")]
    [Description("Run one shard of a plan folder written by harness plan (running it again resumes it); every other option is read from the plan")]
    public string? Plan { get; init; }

    [CommandOption("--shard <INDEX>")]
    [Description("With --plan: the shard to run, 0..N-1. Default: $SLURM_ARRAY_TASK_ID or $JOB_COMPLETION_INDEX")]
    public int? Shard { get; init; }

    public override ValidationResult Validate()
    {
        if (OrderSeed is < 0)
        {
            return ValidationResult.Error("--order-seed must be at least 0");
        }

        if (Judge is { Length: 0 })
        {
            return ValidationResult.Error("--judge needs a model id");
        }

        if (Shard is not null && Plan is null)
        {
            return ValidationResult.Error("--shard needs --plan <PLAN_DIR>");
        }

        if (Shard is < 0)
        {
            return ValidationResult.Error("--shard must be at least 0");
        }

        if (Plan is not null && (Resume is not null || PlanningGiven || Results != "results" || Models.Length > 0 || UntilDecided || OrderSeed is not null || Judge is not null))
        {
            return ValidationResult.Error("--plan runs the plan stored in the plan folder; it takes no --resume, --results, --models, --suite, --tasks, energy or contention options, timeouts, --model, --until-decided, --order-seed or --judge");
        }

        return ValidateResume(Models.Length > 0 || UntilDecided || OrderSeed is not null || Judge is not null, "--model, --until-decided, --order-seed or --judge");
    }
}

internal sealed class RunCommand : AsyncCommand<RunSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, RunSettings settings, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var scorers = new Scoring.HarnessScorers();
        var service = HarnessBackends.CreateRunService(http, scorers);
        if (settings.Plan is { } planDirectory)
        {
            return await RunShardAsync(service, planDirectory, settings, cancellationToken);
        }

        var result = await RunWithDisplayAsync(settings.Json, (observer, downloads) => settings.Resume is { } resume
            ? service.ResumeAsync(resume, observer, downloads, cancellationToken)
            : service.StartAsync(
                new NewRunOptions(settings.Manifest, settings.Tasks, [.. settings.Suites], [.. settings.Models], settings.Results,
                    Energy: settings.ToEnergySettings(), Contention: settings.ToContentionThresholds(),
                    UntilDecided: settings.UntilDecided, OrderSeed: settings.OrderSeed, Timeouts: settings.ToWatchdogOverrides(),
                    JudgeModelId: settings.Judge),
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
            : result.Report.HasErrors() ? ExitCodes.VerdictErrors : ExitCodes.Success;
    }

    private static async Task<int> RunShardAsync(RunService service, string planDirectory, RunSettings settings, CancellationToken cancellationToken)
    {
        var index = settings.Shard ?? SchedulerJob.ShardIndexFromEnvironment()
            ?? throw new Core.Suites.InputFileException(planDirectory, null,
                "which shard? give --shard <INDEX>, or run inside a Slurm array task (SLURM_ARRAY_TASK_ID) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX)");
        var result = await RunWithDisplayAsync(settings.Json, (observer, downloads) => service.RunShardAsync(planDirectory, index, observer, downloads, cancellationToken));
        if (settings.Json)
        {
            Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(result, Core.Serialization.HarnessJson.IndentedOptions));
        }
        else
        {
            AnsiConsole.MarkupLine(Markup.Escape(
                $"shard {result.Index} of {result.ShardCount} finished: {result.ItemsRecorded} items recorded ({result.ItemsRecordedNow} now) of {result.ItemsAssigned} planned, in {result.ShardDirectory}"));
            foreach (var outcome in result.Outcomes.Where(o => o.Status is not ModelRunStatus.Completed))
            {
                AnsiConsole.MarkupLine(Markup.Escape($"  {outcome.ModelId}: {outcome.Status}: {outcome.Failure}"));
            }

            AnsiConsole.MarkupLine(Markup.Escape($"when every shard has finished: harness merge {Path.GetDirectoryName(Path.GetDirectoryName(result.ShardDirectory))}"));
        }

        return result.Outcomes.Any(o => o.Status is ModelRunStatus.LoadFailed or ModelRunStatus.Crashed) ? ExitCodes.ModelFailures : ExitCodes.Success;
    }

    internal static async Task<T> RunWithDisplayAsync<T>(
        bool json, Func<IRunObserver?, IProgress<DownloadProgress>?, Task<T>> run)
        where T : class
    {
        if (json)
        {
            return await run(null, null);
        }

        if (!AnsiConsole.Profile.Capabilities.Interactive)
        {
            var lines = new LineProgressObserver(AnsiConsole.Console, TimeProvider.System);
            return await run(lines, lines);
        }

        T? result = null;
        await AnsiConsole.Progress()
            .AutoClear(false)
            // Finished suites leave the display: with dozens of them the overall line on top would scroll away.
            .HideCompleted(true)
            .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(),
                new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .StartAsync(async context =>
            {
                var observer = new ProgressObserver(context, TimeProvider.System);
                result = await run(observer, observer);
            });
        return result!;
    }
}
