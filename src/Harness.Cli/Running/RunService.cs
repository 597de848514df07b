using System.Collections.Immutable;
using System.Globalization;
using Harness.Cli.Workers;
using Harness.Core.Backends;
using Harness.Core.Comparison;
using Harness.Core.Contention;
using Harness.Core.Downloads;
using Harness.Core.Energy;
using Harness.Core.Judging;
using Harness.Core.Hosting;
using Harness.Core.Models;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Energy;
using Harness.Store.Sqlite;

namespace Harness.Cli.Running;

/// <summary>What the user asked for, frozen once from the command line.</summary>
/// <param name="SuiteDirectories">Empty: every suite under <paramref name="TasksDirectory"/>.</param>
/// <param name="ModelIds">Empty: every model of the manifest.</param>
/// <param name="Comparison">Set by <c>harness compare</c>; then the models are its base and candidates.</param>
/// <param name="Energy">How energy is measured; null: <see cref="EnergySettings.Default"/>.</param>
/// <param name="Contention">When the machine counts as busy; null: <see cref="ContentionThresholds.Default"/>.</param>
/// <param name="UntilDecided">Every fixed suite stops as soon as its sequential verdict decides (<c>--until-decided</c>).</param>
/// <param name="OrderSeed">Seed of the sequential item order; null draws one (it is recorded in run.json either way).</param>
/// <param name="Timeouts">CLI deadlines that replace every model's derived (or manifest) ones; null: none.</param>
internal sealed record NewRunOptions(
    string ManifestPath,
    string TasksDirectory,
    ImmutableArray<string> SuiteDirectories,
    ImmutableArray<string> ModelIds,
    string ResultsDirectory,
    ComparisonOptions? Comparison = null,
    EnergySettings? Energy = null,
    ContentionThresholds? Contention = null,
    bool UntilDecided = false,
    int? OrderSeed = null,
    WatchdogOverrides? Timeouts = null,
    string? JudgeModelId = null);

/// <summary><c>--item-timeout</c> and <c>--load-timeout</c>: fixed deadlines for every model, over the manifest's.</summary>
internal sealed record WatchdogOverrides(TimeSpan? ItemTimeout, TimeSpan? LoadTimeout)
{
    /// <summary>The entry with these deadlines in place of its own; what run.json records is what the watchdog used.</summary>
    public ModelEntry Apply(ModelEntry entry) => entry with
    {
        Backend = entry.Backend with { ItemTimeout = ItemTimeout ?? entry.Backend.ItemTimeout, LoadTimeout = LoadTimeout ?? entry.Backend.LoadTimeout },
    };
}

/// <summary>The energy options of a run, frozen from the command line; all of them go into run.json.</summary>
/// <param name="ForceEstimate">Use the CPU-time estimate even where a meter could measure.</param>
/// <param name="IdleBaseline">Idle measurement with each model loaded, before its items; zero takes none.</param>
internal sealed record EnergySettings(bool ForceEstimate, EnergyEstimateParameters Estimate, TimeSpan IdleBaseline, TimeSpan SampleInterval)
{
    public const double DefaultWattsPerCore = 10;

    public static EnergySettings Default { get; } =
        new(false, new EnergyEstimateParameters(DefaultWattsPerCore, null), TimeSpan.FromSeconds(3), TimeSpan.FromMilliseconds(50));
}

/// <summary>The machine's energy meters, power-state reader and contention probe; tests pass fakes.</summary>
internal sealed record EnergyHardware(Func<ImmutableArray<IEnergyMeter>> Meters, IPowerStateProbe Power, IContentionProbe? Contention = null)
{
    /// <summary>How often the load average is read during a model's items: the kernel updates it every 5 s.</summary>
    public static readonly TimeSpan ContentionSampleInterval = TimeSpan.FromSeconds(5);

    public static EnergyHardware ThisMachine(TimeProvider timeProvider) =>
        new(() => EnergyMeterCatalog.HardwareMeters(timeProvider), EnergyMeterCatalog.PowerStateProbe(), Harness.Energy.Contention.ContentionProbes.ForThisMachine());
}

/// <summary>What <c>harness compare</c> asks for on top of a run.</summary>
internal sealed record ComparisonOptions(string BaseModelId, ImmutableArray<string> CandidateModelIds, int TopK, string ReferencePath);

/// <param name="Drift">Drift outcomes of a comparison run; empty otherwise.</param>
/// <param name="Judging">What each judge did on each judged suite; empty when no suite is judged.</param>
internal sealed record RunResult(
    string RunDirectory, RunManifest Manifest, IReadOnlyList<ModelOutcome> Outcomes, RunReport Report, IReadOnlyList<DriftOutcome> Drift,
    IReadOnlyList<JudgeOutcome>? Judging = null);

/// <summary>
/// Plans a run (or reads back the plan of one being resumed), runs it through the coordinator and rebuilds
/// the reports from the store. Everything that decides a score is in run.json before the first item.
/// </summary>
internal sealed partial class RunService(
    BackendRegistry backends, ModelResolver resolver, TimeProvider timeProvider, EnergyHardware energy, Scoring.HarnessScorers? scorers = null)
{
    private readonly ScorerRegistry _registry = scorers?.Registry ?? ScorerRegistry.Default;

    // Every model goes to the backend of its kind; run, drift pass and judge pass load through this one.
    private readonly RoutingBackend backend = new(backends);

    public async Task<RunResult> StartAsync(NewRunOptions options, IRunObserver? observer, IProgress<DownloadProgress>? downloads, CancellationToken cancellationToken)
    {
        var draft = await DraftAsync(options, cancellationToken);
        var runDirectory = Path.GetFullPath(Path.Combine(options.ResultsDirectory, draft.RunId));
        Directory.CreateDirectory(runDirectory);
        using var folderLock = RunFolderLock.Acquire(runDirectory);
        try
        {
            var frozen = await FreezeAsync(draft, options, downloads, cancellationToken);
            await RunManifestFile.WriteAsync(frozen.Manifest, runDirectory, cancellationToken);
            return await ExecuteAsync(runDirectory, frozen.Manifest, frozen.Models, frozen.Failures, frozen.Judges, draft.Prepared, observer, cancellationToken);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && ex is not RunCancelledException)
        {
            throw new RunCancelledException(runDirectory, draft.Comparison is not null, ex);
        }
    }

    /// <summary>A new run as planned before its folder exists: every input read and checked, every backend asked.</summary>
    private sealed record RunDraft(
        ModelManifest Manifest,
        ImmutableArray<Suite> Suites,
        ComparisonPlan? Comparison,
        ImmutableArray<ModelEntry> Entries,
        ImmutableArray<ModelEntry> JudgeEntries,
        SequentialPlan? Sequential,
        ImmutableArray<PreparedSuite> Prepared,
        ImmutableSortedDictionary<string, BackendDescription> Descriptions,
        DateTimeOffset CreatedAt,
        string RunId);

    /// <summary>A new run's run.json and the models behind it, resolved (downloaded where needed) and described.</summary>
    private sealed record FrozenRun(
        RunManifest Manifest, IReadOnlyList<RunModel> Models, IReadOnlyList<ResolutionFailure> Failures,
        IReadOnlyList<RunModel> Judges, IReadOnlyList<ResolutionFailure> JudgeFailures);

    private async Task<RunDraft> DraftAsync(NewRunOptions options, CancellationToken cancellationToken)
    {
        var manifest = new ManifestLoader().Load(options.ManifestPath);
        var suites = options.SuiteDirectories.IsEmpty
            ? SuiteLoader.LoadAll(options.TasksDirectory)
            : [.. options.SuiteDirectories.Select(SuiteLoader.Load)];
        if (suites.IsEmpty)
        {
            throw new InputFileException(options.TasksDirectory, null, "no suite found (a suite is a folder with suite.yaml)");
        }

        if (options.JudgeModelId is { } judgeModelId)
        {
            if (!suites.Any(JudgeOverride.IsJudged))
            {
                throw new InputFileException(options.TasksDirectory, null, $"--judge {judgeModelId} names a judge, but no suite of this run has a judge scorer");
            }

            suites = [.. suites.Select(s => JudgeOverride.IsJudged(s) ? JudgeOverride.Apply(s, judgeModelId) : s)];
        }

        ComparisonPlan? plan = null;
        var modelIds = options.ModelIds;
        if (options.Comparison is { } comparison)
        {
            var reference = ReferenceText.Load(comparison.ReferencePath);
            plan = new ComparisonPlan(comparison.BaseModelId, comparison.CandidateModelIds, comparison.TopK, reference.Path, reference.Sha256);
            modelIds = [comparison.BaseModelId, .. comparison.CandidateModelIds];
        }

        var timeouts = options.Timeouts ?? new WatchdogOverrides(null, null);
        var entries = SelectModels(manifest, modelIds).Select(timeouts.Apply).ToImmutableArray();
        var sequential = PlanSequential(suites, options);
        var prepared = Prepare(suites, sequential);
        var judgeEntries = JudgeEntries(manifest, prepared).Select(timeouts.Apply).ToImmutableArray();
        // A local file that is not there is a typo or a forgotten download, not a model that failed: refuse the run
        // before its folder exists rather than leave a results folder with nothing evaluated in it.
        ThrowIfMissing(ModelFileCheck.Check(manifest.FilePath, [.. entries, .. judgeEntries], readHeaders: false), null);
        // A suite a backend cannot serve is refused here, with the backend's reason, before the run folder exists.
        var descriptions = await BackendPlanning.CheckAsync(
            backends, manifest.FilePath, Needs(entries, prepared, judgeEntries),
            plan is null
                ? "no run folder was created; leave the pair out with --models or --suites"
                : "no run folder was created; compare only models whose backend can serve every suite, or leave the suite out with --suites",
            cancellationToken);
        var createdAt = timeProvider.GetUtcNow();
        var runId = string.Create(CultureInfo.InvariantCulture, $"{createdAt:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..6]}");
        return new RunDraft(manifest, suites, plan, entries, judgeEntries, sequential, prepared, descriptions, createdAt, runId);
    }

    private async Task<FrozenRun> FreezeAsync(
        RunDraft draft, NewRunOptions options, IProgress<DownloadProgress>? downloads, CancellationToken cancellationToken)
    {
        var manifest = draft.Manifest;
        var (models, failures) = Described(
            await ResolveAllAsync(draft.Entries, Path.GetDirectoryName(manifest.FilePath)!, null, downloads, cancellationToken), draft.Descriptions);
        var (judges, judgeFailures) = Described(
            await ResolveAllAsync(draft.JudgeEntries, Path.GetDirectoryName(manifest.FilePath)!, null, downloads, cancellationToken), draft.Descriptions);
        var runManifest = new RunManifest(
            RunManifest.CurrentSchemaVersion, draft.RunId, draft.CreatedAt, manifest.FilePath, manifest.ContentSha256,
            [.. models, .. failures.Select(f => f.Model)],
            [.. draft.Suites.Select(ToRunSuite)],
            HostProbe.Probe(),
            BuildVersions([.. draft.Entries, .. draft.JudgeEntries]).AddRange(scorers?.VersionsFor(draft.Suites) ?? ImmutableSortedDictionary<string, string>.Empty),
            draft.Comparison,
            PlanEnergy(options.Energy ?? EnergySettings.Default),
            draft.JudgeEntries.IsEmpty ? null : new JudgePlan([.. judges, .. judgeFailures.Select(f => f.Model)]),
            energy.Contention is { } probe ? new ContentionPlan(probe.Source, EnergyHardware.ContentionSampleInterval, options.Contention ?? ContentionThresholds.Default) : null,
            draft.Sequential,
            WatchdogOf([.. draft.Entries, .. draft.JudgeEntries]));
        return new FrozenRun(runManifest, models, failures, judges, judgeFailures);
    }

    public async Task<RunResult> ResumeAsync(string runDirectory, IRunObserver? observer, IProgress<DownloadProgress>? downloads, CancellationToken cancellationToken)
    {
        runDirectory = Path.GetFullPath(runDirectory);
        var runManifest = await RunManifestFile.ReadAsync(runDirectory, cancellationToken);
        // Taken before anything is checked or resolved: a second resume of the same folder stops here, untouched.
        using var folderLock = RunFolderLock.Acquire(runDirectory);
        var suites = LoadPlannedSuites(runManifest);

        var judgeModels = runManifest.Judges?.Models ?? [];
        // A model that resolved when the run started and whose file is gone now would be recorded as failed to load
        // over the items it already has: refuse before anything is written, so restoring the file and resuming again
        // loses nothing. A model that was missing from the start (no sha256 recorded) fails again, as it did then.
        ThrowIfMissing(
            ModelFileCheck.Check(runManifest.ManifestPath, [.. runManifest.Models.Concat(judgeModels).Where(m => m.FileSha256.Length > 0).Select(m => m.Entry)], readHeaders: false),
            runDirectory);
        try
        {
            var (models, failures, judges) = await ResolveAsPlannedAsync(runManifest, runManifest.Models, judgeModels, downloads, cancellationToken);
            return await ExecuteAsync(runDirectory, runManifest, models, failures, judges, Prepare(suites, runManifest.Sequential), observer, cancellationToken);
        }
        catch (OperationCanceledException ex) when (cancellationToken.IsCancellationRequested && ex is not RunCancelledException)
        {
            throw new RunCancelledException(runDirectory, runManifest.Comparison is not null, ex);
        }
    }

    // The suites as planned, each checked against the sha256 run.json recorded: a changed suite is a new run, not a resume.
    /// <param name="only">The names of the suites to load (a shard's); null: every suite of the run.</param>
    internal static ImmutableArray<Suite> LoadPlannedSuites(RunManifest runManifest, IReadOnlySet<string>? only = null) =>
    [.. runManifest.Suites.Where(planned => only is null || only.Contains(planned.Name)).Select(planned =>
    {
        var suite = SuiteLoader.Load(planned.Directory);
        if (!string.Equals(suite.ContentSha256, planned.ContentSha256, StringComparison.Ordinal))
        {
            throw new InputFileException(Path.Combine(planned.Directory, "suite.yaml"), null,
                $"suite '{planned.Name}' changed since run {runManifest.RunId} was planned (sha256 {planned.ContentSha256} -> {suite.ContentSha256}); start a new run to evaluate the new version");
        }

        // The scorers as planned: a --judge of the first invocation is in them, not in the suite's file.
        return suite with { Scorers = planned.Scorers };
    })];

    /// <param name="runDirectory">The run being resumed; null for a new run.</param>
    private static void ThrowIfMissing(ImmutableArray<InputFileException> missing, string? runDirectory)
    {
        if (missing.IsEmpty)
        {
            return;
        }

        var advice = runDirectory is null
            ? "no run folder was created; fix the path in the manifest or put the file there (harness validate checks every model)"
            : $"nothing in {runDirectory} was changed; put the file back and resume again";
        throw missing.Length == 1
            ? new InputFileException(missing[0].FilePath, missing[0].Line, $"{missing[0].Problem}; {advice}")
            : new InputFileException(missing[0].FilePath, null,
                $"{missing.Length} model files are missing: {string.Join("; ", missing.Select(m => $"line {m.Line}: {m.Problem}"))}; {advice}");
    }

    private async Task<RunResult> ExecuteAsync(
        string runDirectory, RunManifest runManifest, IReadOnlyList<RunModel> models, IReadOnlyList<ResolutionFailure> failures,
        IReadOnlyList<RunModel> judges, IReadOnlyList<PreparedSuite> suites, IRunObserver? observer, CancellationToken cancellationToken)
    {
        // Read before any model runs, so a changed reference stops a resume before it spends time.
        var reference = runManifest.Comparison is { } plan ? LoadReference(plan) : null;
        var store = await SqliteRunStore.OpenAsync(runDirectory, cancellationToken);
        await using (store)
        {
            var outcomes = await RecordFailuresAsync(store, failures, observer, cancellationToken);
            outcomes.AddRange(await Coordinator(store, runManifest, runManifest.Energy).RunAsync(models, suites, observer, cancellationToken));
            IReadOnlyList<DriftOutcome> drift = [];
            if (runManifest.Comparison is { } comparison && reference is not null)
            {
                var items = new List<ItemRecord>();
                await foreach (var item in store.ReadItemsAsync(cancellationToken))
                {
                    items.Add(item);
                }

                drift = await new ComparisonMeasurer(backend, store, timeProvider).MeasureAsync(
                    comparison, models, [.. suites.Select(s => s.Suite)], items, reference.Documents,
                    observer as IProgress<DriftProgress>, cancellationToken);
            }

            var judging = await JudgeAsync(store, suites, judges, observer, cancellationToken);

            var report = await ReportService.WriteAsync(runDirectory, runManifest, store, cancellationToken);
            return new RunResult(runDirectory, runManifest, outcomes, report, drift, judging);
        }
    }

    // The judge pass over every recorded item of the judged suites, after the candidates ran; nothing without a judged suite.
    private async Task<IReadOnlyList<JudgeOutcome>> JudgeAsync(
        SqliteRunStore store, IReadOnlyList<PreparedSuite> suites, IReadOnlyList<RunModel> judges, IRunObserver? observer, CancellationToken cancellationToken)
    {
        if (!suites.Any(s => s.Scorers.OfType<JudgeScorer>().Any()))
        {
            return [];
        }

        var recorded = new List<ItemRecord>();
        await foreach (var item in store.ReadItemsAsync(cancellationToken))
        {
            recorded.Add(item);
        }

        return await new JudgePass(backend, store, timeProvider).RunAsync(suites, judges, recorded, observer as IProgress<JudgeProgress>, cancellationToken);
    }

    // A model that did not resolve is recorded as failed to load; the run goes on with the others.
    private async Task<List<ModelOutcome>> RecordFailuresAsync(
        SqliteRunStore store, IReadOnlyList<ResolutionFailure> failures, IRunObserver? observer, CancellationToken cancellationToken)
    {
        var outcomes = new List<ModelOutcome>();
        foreach (var failure in failures)
        {
            await store.RecordModelAsync(
                new ModelRunRecord(failure.Model.Entry.Id, ModelRunStatus.LoadFailed, null, null, failure.Message, timeProvider.GetUtcNow()),
                cancellationToken);
            var outcome = new ModelOutcome(failure.Model.Entry.Id, ModelRunStatus.LoadFailed, 0, failure.Message);
            outcomes.Add(outcome);
            observer?.ModelFinished(outcome);
        }

        return outcomes;
    }

    // The coordinator of a run (or a shard), measuring with the meters of the given energy plan.
    private RunCoordinator Coordinator(SqliteRunStore store, RunManifest runManifest, EnergyPlan? energyPlan)
    {
        var contention = runManifest.Contention is { } sampling && energy.Contention is { } probe
            ? new ContentionOptions(probe, sampling.SampleInterval)
            : null;
        return new RunCoordinator(backend, store, timeProvider, EnergyOptionsFor(energyPlan), contention);
    }

    private EnergyPlan PlanEnergy(EnergySettings settings)
    {
        var choice = EnergyMeterCatalog.Choose(energy.Meters(), settings.ForceEstimate);
        return new EnergyPlan(choice.Probes, choice.Selected, settings.Estimate, settings.SampleInterval, settings.IdleBaseline, energy.Power.Read());
    }

    // A resume reads the sources the run started with: a run's items are never measured by two different meters.
    private EnergyOptions? EnergyOptionsFor(EnergyPlan? plan)
    {
        if (plan is null)
        {
            return null; // a run planned before energy was measured
        }

        var measured = energy.Meters().Where(m => plan.Selected.Contains(m.Probe().Source)).ToList();
        return new EnergyOptions(new SessionEnergyMeters(measured, plan.Estimate), energy.Power, plan.SampleInterval, plan.IdleBaseline);
    }

    private static ReferenceText LoadReference(ComparisonPlan plan)
    {
        var reference = ReferenceText.Load(plan.ReferencePath);
        if (!string.Equals(reference.Sha256, plan.ReferenceSha256, StringComparison.Ordinal))
        {
            throw new InputFileException(plan.ReferencePath, null,
                $"the reference text changed since the run started (sha256 {plan.ReferenceSha256} -> {reference.Sha256}); start a new comparison");
        }

        return reference;
    }

    private sealed record ResolutionFailure(RunModel Model, string Message);

    private async Task<(IReadOnlyList<RunModel> Models, IReadOnlyList<ResolutionFailure> Failures)> ResolveAllAsync(
        ImmutableArray<ModelEntry> entries, string manifestDirectory, IReadOnlyDictionary<string, string>? expectedSha256,
        IProgress<DownloadProgress>? downloads, CancellationToken cancellationToken)
    {
        var models = new List<RunModel>();
        var failures = new List<ResolutionFailure>();
        foreach (var entry in entries)
        {
            try
            {
                var model = await resolver.ResolveAsync(entry, manifestDirectory, downloads, cancellationToken);
                if (expectedSha256 is not null && expectedSha256.TryGetValue(entry.Id, out var expected) && expected.Length > 0
                    && !string.Equals(expected, model.FileSha256, StringComparison.OrdinalIgnoreCase))
                {
                    throw new ModelResolutionException(entry.Id,
                        $"model '{entry.Id}': {model.ResolvedPath} changed since the run started (sha256 {expected} -> {model.FileSha256})");
                }

                models.Add(model);
            }
            catch (ModelResolutionException ex)
            {
                // A missing file or a wrong checksum fails this model only; the others still run.
                failures.Add(new ResolutionFailure(new RunModel(entry, "", "", 0), ex.Message));
            }
        }

        return (models, failures);
    }

    private static ImmutableArray<ModelEntry> SelectModels(ModelManifest manifest, ImmutableArray<string> ids)
    {
        if (ids.IsEmpty)
        {
            return manifest.Models;
        }

        var unknown = ids.Where(id => manifest.Models.All(m => m.Id != id)).ToList();
        if (unknown.Count > 0)
        {
            throw new InputFileException(manifest.FilePath, null,
                $"no model with id {string.Join(", ", unknown.Select(u => $"'{u}'"))}; known: {string.Join(", ", manifest.Models.Select(m => m.Id))}");
        }

        return [.. manifest.Models.Where(m => ids.Contains(m.Id))];
    }

    // Every judge a suite names must be a model of the manifest; it is resolved like the candidates.
    private static ImmutableArray<ModelEntry> JudgeEntries(ModelManifest manifest, ImmutableArray<PreparedSuite> suites)
    {
        var entries = ImmutableArray.CreateBuilder<ModelEntry>();
        foreach (var prepared in suites)
        {
            foreach (var spec in prepared.Scorers.OfType<JudgeScorer>().Select(j => j.Spec))
            {
                var entry = manifest.Models.FirstOrDefault(m => m.Id == spec.JudgeModelId)
                    ?? throw new InputFileException(Path.Combine(prepared.Suite.Directory, "suite.yaml"), null,
                        $"the judge model '{spec.JudgeModelId}' is not in {manifest.FilePath} (name another with --judge <model-id>); known: {string.Join(", ", manifest.Models.Select(m => m.Id))}");
                if (!entries.Any(e => e.Id == entry.Id))
                {
                    entries.Add(entry);
                }
            }
        }

        return entries.ToImmutable();
    }

    // --until-decided takes every fixed suite; requirement.sequential asks for one. A judged suite is scored after its
    // items have run, so no verdict exists while they run: it always runs in full. So does every suite of a comparison,
    // whose paired tests need every model on the same items.
    private static SequentialPlan? PlanSequential(ImmutableArray<Suite> suites, NewRunOptions options)
    {
        if (options.Comparison is not null)
        {
            return null;
        }

        var orders = ImmutableSortedDictionary.CreateBuilder<string, ImmutableArray<string>>(StringComparer.Ordinal);
        var seed = options.OrderSeed ?? System.Security.Cryptography.RandomNumberGenerator.GetInt32(int.MaxValue);
        foreach (var suite in suites)
        {
            if (suite.Requirement is not { } requirement || !(options.UntilDecided || requirement.Sequential))
            {
                continue;
            }

            if (suite.Scorers.Any(s => s.Name == JudgeSpec.ScorerName))
            {
                if (requirement.Sequential)
                {
                    throw new InputFileException(Path.Combine(suite.Directory, "suite.yaml"), null,
                        "requirement.sequential cannot be used with a judge scorer: the judge scores items after the run, so nothing can stop it early");
                }

                continue;
            }

            // A bar of 0 is met by any model and a bar of 1 needs every item: neither has anything to bet on.
            if (requirement.MinPassRate is <= 0 or >= 1)
            {
                if (requirement.Sequential)
                {
                    throw new InputFileException(Path.Combine(suite.Directory, "suite.yaml"), null,
                        "requirement.sequential needs a min_pass_rate strictly between 0 and 1");
                }

                continue;
            }

            orders[suite.Name] = ItemOrder.Shuffle(suite, seed);
        }

        return orders.Count == 0
            ? null
            : new SequentialPlan(options.UntilDecided ? SequentialPlan.UntilDecided : SequentialPlan.SuiteRequested, seed, orders.ToImmutable());
    }

    private ImmutableArray<PreparedSuite> Prepare(ImmutableArray<Suite> suites, SequentialPlan? sequential) =>
        [.. suites.Select(suite =>
        {
            try
            {
                return new PreparedSuite(
                    suite, [.. suite.Scorers.Select(spec => _registry.Create(spec, suite.Directory))], sequential?.OrderOf(suite.Name));
            }
            catch (ArgumentException ex)
            {
                throw new InputFileException(Path.Combine(suite.Directory, "suite.yaml"), null, ex.Message);
            }
        })];

    private static RunSuite ToRunSuite(Suite suite) => new(
        suite.Name, suite.Version, suite.Kind, suite.Directory, suite.ContentSha256, suite.Request,
        suite.Generation, suite.Scorers, suite.Requirement, suite.Items.Length);

    // The versions of the backends this run uses (not of every backend of the build); each model's own details come with its load.
    private ImmutableSortedDictionary<string, string> BuildVersions(IEnumerable<ModelEntry> entries)
    {
        var used = UsedProviders(entries).ToList();
        var versions = ImmutableSortedDictionary<string, string>.Empty
            .Add("harness", typeof(RunService).Assembly.GetName().Version?.ToString() ?? "unknown")
            .Add("backend", string.Join('+', used.Select(p => p.Backend.Name).Distinct()));
        foreach (var pair in used.SelectMany(p => p.Versions))
        {
            versions = versions.SetItem(pair.Key, pair.Value);
        }

        return versions;
    }

    private IEnumerable<IBackendProvider> UsedProviders(IEnumerable<ModelEntry> entries) =>
        entries.Select(e => e.Backend.Kind).Distinct().Order()
            .Select(kind => backends.TryGet(kind, out var provider) ? provider : null).OfType<IBackendProvider>();

    // The rules that derived deadlines, where a backend of this run has a watchdog (the worker-process ones).
    private WatchdogSettings? WatchdogOf(IEnumerable<ModelEntry> entries) =>
        UsedProviders(entries).Select(p => (p.Backend as WorkerProcessBackend)?.Watchdog).FirstOrDefault(w => w is not null);

    // What each model will be asked: its suites' request kinds and a judge's generations.
    private static List<BackendNeed> Needs(
        ImmutableArray<ModelEntry> entries, ImmutableArray<PreparedSuite> suites, ImmutableArray<ModelEntry> judges)
    {
        var needs = new List<BackendNeed>();
        foreach (var entry in entries)
        {
            // The drift pass of compare is not a need: a model whose backend has no next-token distributions (a served
            // one) is compared on its items, and the report states the absence of drift with the reason.
            needs.AddRange(suites.Select(s => new BackendNeed(entry, s.Suite.Name, $"suite '{s.Suite.Name}'", BackendPlanning.For(s.Suite.Request))));
        }

        foreach (var judge in judges)
        {
            foreach (var suite in suites.Where(s => s.Scorers.OfType<JudgeScorer>().Any(j => j.Spec.JudgeModelId == judge.Id)))
            {
                needs.Add(new BackendNeed(judge, suite.Suite.Name, $"judging suite '{suite.Suite.Name}'", BackendAbilities.Generate));
                // Pointwise and pairwise verdicts are read from grammar-constrained output; MT-bench's judge writes free text.
                if (suite.Scorers.OfType<JudgeScorer>().Any(j => j.Spec.JudgeModelId == judge.Id && j.Spec.Mode != JudgeMode.MtBench))
                {
                    needs.Add(new BackendNeed(judge, suite.Suite.Name, $"judging suite '{suite.Suite.Name}'", BackendAbilities.GrammarConstrainedGeneration));
                }
            }
        }

        return needs;
    }

    private static (IReadOnlyList<RunModel>, IReadOnlyList<ResolutionFailure>) Described(
        (IReadOnlyList<RunModel> Models, IReadOnlyList<ResolutionFailure> Failures) resolved,
        ImmutableSortedDictionary<string, BackendDescription> descriptions)
    {
        RunModel With(RunModel model) => descriptions.TryGetValue(model.Entry.Id, out var description)
            ? model with { Backend = RunBackend.From(model.Entry.Backend.Kind, description) }
            : model;
        return ([.. resolved.Models.Select(With)], [.. resolved.Failures.Select(f => f with { Model = With(f.Model) })]);
    }

    /// <summary>
    /// Resolves <paramref name="models"/> and <paramref name="judgeModels"/> of a planned run on this machine (its cache or
    /// a shared filesystem), each to the bytes whose sha256 run.json recorded, and keeps what the backends said when the
    /// run was planned: the energy scope of a model's items never changes mid-run, nor between a plan's nodes.
    /// </summary>
    private async Task<(IReadOnlyList<RunModel> Models, IReadOnlyList<ResolutionFailure> Failures, IReadOnlyList<RunModel> Judges)> ResolveAsPlannedAsync(
        RunManifest runManifest, IReadOnlyList<RunModel> models, IReadOnlyList<RunModel> judgeModels,
        IProgress<DownloadProgress>? downloads, CancellationToken cancellationToken)
    {
        var manifestDirectory = Path.GetDirectoryName(runManifest.ManifestPath)!;
        var planned = models.Concat(judgeModels).Where(m => m.Backend is not null)
            .GroupBy(m => m.Entry.Id).ToDictionary(g => g.Key, g => g.First().Backend!, StringComparer.Ordinal);
        var (resolved, failures) = Planned(
            await ResolveAllAsync([.. models.Select(m => m.Entry)], manifestDirectory,
                models.ToDictionary(m => m.Entry.Id, m => m.FileSha256, StringComparer.Ordinal), downloads, cancellationToken), planned);
        var (judges, _) = Planned(
            await ResolveAllAsync([.. judgeModels.Select(m => m.Entry)], manifestDirectory,
                judgeModels.ToDictionary(m => m.Entry.Id, m => m.FileSha256, StringComparer.Ordinal), downloads, cancellationToken), planned);
        return (resolved, failures, judges);
    }

    private static (IReadOnlyList<RunModel>, IReadOnlyList<ResolutionFailure>) Planned(
        (IReadOnlyList<RunModel> Models, IReadOnlyList<ResolutionFailure> Failures) resolved, Dictionary<string, RunBackend> planned)
    {
        RunModel With(RunModel model) => planned.TryGetValue(model.Entry.Id, out var backend) ? model with { Backend = backend } : model;
        return ([.. resolved.Models.Select(With)], [.. resolved.Failures.Select(f => f with { Model = With(f.Model) })]);
    }
}
