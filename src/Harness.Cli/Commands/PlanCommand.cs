using System.Collections.Immutable;
using System.ComponentModel;
using System.Globalization;
using Harness.Cli.Running;
using Harness.Cli.ScaleOut;
using Harness.Core.Serialization;
using Harness.Core.Sharding;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class PlanSettings : RunPlanningSettings
{
    [CommandOption("--shards <N>")]
    [Description("How many shards to cut the run into (one per array task / job completion)")]
    public int? Shards { get; init; }

    [CommandOption("--output <PLAN_DIR>")]
    [Description("The plan folder to write (new or empty): run.json, plan.json, later each shard's store and the merged reports")]
    public string? Output { get; init; }

    [CommandOption("--emit <SCHEDULER>")]
    [Description("Also write the job files for a scheduler: slurm (sbatch array + dependent merge), k8s (Indexed Job + merge Job). Repeatable")]
    public string[] Emit { get; init; } = [];

    [CommandOption("--harness-command <CMD>")]
    [Description("The shell command line (words quoted for sh) that starts this harness on a node, for the job files. Default: this build, by absolute path")]
    public string? HarnessCommand { get; init; }

    [CommandOption("--k8s-image <IMAGE>")]
    [Description("Container image of the Kubernetes Job (one with .NET and this harness). Default: a placeholder to replace")]
    public string? KubernetesImage { get; init; }

    [CommandOption("--k8s-volume-claim <NAME>")]
    [Description("PersistentVolumeClaim holding the plan folder, tasks and models at the paths used here. Default: harness-data")]
    public string? KubernetesVolumeClaim { get; init; }

    [CommandOption("--model <ID>")]
    [Description("A model id from the manifest (repeatable). Default: every model")]
    public string[] Models { get; init; } = [];

    [CommandOption("--until-decided")]
    [Description("Fixed suites run in a seeded random order until their sequential verdict decides; each (model, suite) stream stays in one shard")]
    public bool UntilDecided { get; init; }

    [CommandOption("--order-seed <N>")]
    [Description("Seed of the sequential item order. Default: drawn at random; recorded in run.json either way")]
    public int? OrderSeed { get; init; }

    [CommandOption("--judge <ID>")]
    [Description("The manifest model that grades every judged suite, over the judge its suite.yaml names")]
    public string? Judge { get; init; }

    [CommandOption("--json")]
    [Description("Print the plan as JSON on stdout")]
    public bool Json { get; init; }

    public override ValidationResult Validate()
    {
        if (Shards is not { } shards || shards < 1 || shards > 100_000)
        {
            return ValidationResult.Error("--shards <N> is required, from 1 to 100000");
        }

        if (string.IsNullOrWhiteSpace(Output))
        {
            return ValidationResult.Error("--output <PLAN_DIR> is required");
        }

        if (Emit.FirstOrDefault(e => SchedulerEmitters.Find(e) is null) is { } unknown)
        {
            return ValidationResult.Error($"--emit {unknown}: known schedulers are {string.Join(", ", SchedulerEmitters.All.Select(e => e.Name))}");
        }

        if ((KubernetesImage is not null || KubernetesVolumeClaim is not null) && !Emit.Contains("k8s"))
        {
            return ValidationResult.Error("--k8s-image and --k8s-volume-claim go with --emit k8s");
        }

        if (OrderSeed is < 0)
        {
            return ValidationResult.Error("--order-seed must be at least 0");
        }

        return Judge is { Length: 0 } ? ValidationResult.Error("--judge needs a model id") : ValidateEnergy();
    }
}

/// <summary>
/// <c>harness plan</c>: plans a run as a shard plan folder, to run on a cluster scheduler's array (or by hand, shard by
/// shard) and merge with <c>harness merge</c>.
/// </summary>
internal sealed class PlanCommand : AsyncCommand<PlanSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, PlanSettings settings, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        using var scorers = new Scoring.HarnessScorers();
        var service = HarnessBackends.CreateRunService(http, scorers);
        var options = new NewRunOptions(settings.Manifest, settings.Tasks, [.. settings.Suites], [.. settings.Models], "unused",
            Energy: settings.ToEnergySettings(), Contention: settings.ToContentionThresholds(),
            UntilDecided: settings.UntilDecided, OrderSeed: settings.OrderSeed, Timeouts: settings.ToWatchdogOverrides(),
            JudgeModelId: settings.Judge);
        var result = await service.PlanAsync(options, settings.Output!, settings.Shards!.Value, null, cancellationToken);

        var emitted = new List<string>();
        if (settings.Emit.Length > 0)
        {
            var spec = new SchedulerJobSpec(
                result.PlanDirectory, result.Manifest.RunId, result.Plan.Shards.Length,
                new ShardResources(result.Plan.Shards.Max(s => s.Resources.Cpus), result.Plan.Shards.Max(s => s.Resources.MemoryBytes)),
                settings.HarnessCommand ?? HarnessCommandLine.ThisBuild(),
                SharedPaths(result), settings.KubernetesImage, settings.KubernetesVolumeClaim);
            // Every scheduler's files are made before any is written: a plan gets all the job files asked for, or none.
            var files = new List<EmittedFile>();
            foreach (var name in settings.Emit.Distinct(StringComparer.Ordinal))
            {
                try
                {
                    files.AddRange(SchedulerEmitters.Find(name)!.Emit(spec));
                }
                catch (ArgumentException ex)
                {
                    throw new Core.Suites.InputFileException(result.PlanDirectory, null,
                        $"the plan was written, but no job files: {name}: {ex.Message}; run the shards by hand (harness run --plan {result.PlanDirectory} --shard I) or plan again into a new folder");
                }
            }

            foreach (var file in files)
            {
                var path = Path.GetFullPath(Path.Combine(result.PlanDirectory, file.RelativePath));
                Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                AtomicFile.WriteAllText(path, file.Content);
                if (file.Executable && !OperatingSystem.IsWindows())
                {
                    File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute);
                }

                emitted.Add(file.RelativePath);
            }
        }

        if (settings.Json)
        {
            Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(
                new { result.PlanDirectory, result.Manifest.RunId, result.PlanSha256, result.Plan.CostModel, result.Plan.Shards, Emitted = emitted },
                HarnessJson.IndentedOptions));
            return ExitCodes.Success;
        }

        Write(AnsiConsole.Console, result, emitted);
        return ExitCodes.Success;
    }

    // Every absolute path a node must see at the same place: the plan, the manifest's folder, the suites, local model files.
    private static ImmutableArray<string> SharedPaths(PlanResult result) =>
    [
        .. new[] { result.PlanDirectory, Path.GetDirectoryName(result.Manifest.ManifestPath)! }
            .Concat(result.Manifest.Suites.Select(s => s.Directory))
            .Concat(result.Manifest.Models.Concat(result.Manifest.Judges?.Models ?? [])
                .Where(m => !m.Served && m.Entry.Source.Url is null && m.ResolvedPath.Length > 0).Select(m => m.ResolvedPath))
            .Select(Path.GetFullPath)
            .Distinct(StringComparer.Ordinal),
    ];

    private static void Write(IAnsiConsole console, PlanResult result, List<string> emitted)
    {
        var plan = result.Plan;
        var total = plan.Shards.Sum(s => s.ExpectedCost);
        console.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture,
            $"plan {result.Manifest.RunId}: {plan.Shards.Length} shards, {result.Manifest.Models.Length} models x {result.Manifest.Suites.Length} suites, {plan.Shards.Sum(s => s.ItemCount)} (model, item) pairs, in {result.PlanDirectory}")));
        var table = new Table().AddColumns("shard", "models (loads)", "items", "expected cost", "CPUs", "memory");
        foreach (var shard in plan.Shards)
        {
            table.AddRow(
                shard.Index.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(shard.ModelIds.IsEmpty ? "(none)" : string.Join(", ", shard.ModelIds)),
                shard.ItemCount.ToString(CultureInfo.InvariantCulture),
                total > 0 ? string.Create(CultureInfo.InvariantCulture, $"{shard.ExpectedCost / total:P1}") : "-",
                shard.Resources.Cpus.ToString(CultureInfo.InvariantCulture),
                string.Create(CultureInfo.InvariantCulture, $"{shard.Resources.MemoryBytes / (1024.0 * 1024 * 1024):0.0} GiB"));
        }

        console.Write(table);
        foreach (var file in emitted)
        {
            console.MarkupLine(Markup.Escape($"wrote {Path.Combine(result.PlanDirectory, file)}"));
        }

        console.MarkupLine(Markup.Escape($"run each shard: harness run --plan {result.PlanDirectory} --shard <0..{plan.Shards.Length - 1}>; then: harness merge {result.PlanDirectory}"));
    }
}
