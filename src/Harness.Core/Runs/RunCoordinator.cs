using Harness.Core.Backends;
using Harness.Core.Contention;
using Harness.Core.Energy;

namespace Harness.Core.Runs;

/// <summary>What happened to each model of a run in this invocation.</summary>
public sealed record ModelOutcome(string ModelId, ModelRunStatus Status, int ItemsRecordedNow, string? Failure);

/// <summary>Observes a run for progress display; every member is optional to act on.</summary>
public interface IRunObserver
{
    /// <summary>
    /// Before the first model: the items each model has left, for an overall count and ETA. An <c>--until-decided</c>
    /// suite may stop before its last item, so a model's figure is an upper bound until its <see cref="ModelStarting"/>.
    /// </summary>
    void RunStarting(IReadOnlyDictionary<string, int> pendingItemsPerModel)
    {
    }

    void ModelStarting(RunModel model, int pendingItems);
    void ModelFinished(ModelOutcome outcome);
    void ItemCompleted(EvaluationProgress progress);
}

/// <summary>
/// Runs each model of a run in turn: load, evaluate the pending items, record the outcome. A model that
/// cannot load, or whose sessions keep dying (see <see cref="ModelSessions"/>), is recorded as failed and the run goes on
/// with the next model; a single item that ends its session is recorded and the model goes on in a fresh session.
/// With <paramref name="energy"/>, each model's meters are opened after it loads, the idle baseline is measured
/// with the model loaded, and every item record carries its energy. With <paramref name="contention"/>, the machine's
/// contention over each model's items is recorded with the model's outcome.
/// </summary>
public sealed class RunCoordinator(
    IModelBackend backend, IRunStore store, TimeProvider timeProvider, EnergyOptions? energy = null, ContentionOptions? contention = null)
{
    public async Task<IReadOnlyList<ModelOutcome>> RunAsync(
        IReadOnlyList<RunModel> models,
        IReadOnlyList<PreparedSuite> suites,
        IRunObserver? observer,
        CancellationToken cancellationToken)
    {
        var outcomes = new List<ModelOutcome>(models.Count);
        var evaluator = new ModelEvaluator(store, timeProvider);
        if (observer is not null)
        {
            var recorded = await store.GetRecordedKeysAsync(cancellationToken).ConfigureAwait(false);
            // Without the records a sequential suite counts all its unrecorded items: the upper bound is enough here.
            observer.RunStarting(models.ToDictionary(
                m => m.Entry.Id, m => suites.Sum(s => ModelEvaluator.PendingItems(m.Entry.Id, s, recorded, [])), StringComparer.Ordinal));
        }

        foreach (var model in models)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var outcome = await RunModelAsync(model, suites, evaluator, observer, cancellationToken).ConfigureAwait(false);
            outcomes.Add(outcome);
            observer?.ModelFinished(outcome);
        }

        return outcomes;
    }

    private async Task<ModelOutcome> RunModelAsync(
        RunModel model, IReadOnlyList<PreparedSuite> suites, ModelEvaluator evaluator, IRunObserver? observer, CancellationToken cancellationToken)
    {
        var id = model.Entry.Id;
        var recorded = await store.GetRecordedKeysAsync(cancellationToken).ConfigureAwait(false);
        // Sequential suites replay their state from the records; the others need only the keys.
        var records = new List<ItemRecord>();
        if (suites.Any(s => s.SequentialOrder is not null))
        {
            await foreach (var item in store.ReadItemsAsync(cancellationToken).ConfigureAwait(false))
            {
                if (item.Key.ModelId == id)
                {
                    records.Add(item);
                }
            }
        }

        var pending = suites.Sum(s => ModelEvaluator.PendingItems(id, s, recorded, records));
        var previous = (await store.ReadModelsAsync(cancellationToken).ConfigureAwait(false)).FirstOrDefault(m => m.ModelId == id);
        if (pending == 0 && previous?.Status == ModelRunStatus.Completed)
        {
            return new ModelOutcome(id, ModelRunStatus.Completed, 0, null);
        }

        observer?.ModelStarting(model, pending);
        IModelSession session;
        try
        {
            session = await backend.LoadAsync(model.Entry, model.ResolvedPath, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is ModelLoadException or SessionLostException)
        {
            var status = ex is ModelLoadException ? ModelRunStatus.LoadFailed : ModelRunStatus.Crashed;
            await RecordAsync(id, status, previous?.LoadInfo, null, ex.Message).ConfigureAwait(false);
            return new ModelOutcome(id, status, 0, ex.Message);
        }

        var done = 0;
        var counting = new Progress(p =>
        {
            done += p.LastItem is null ? 0 : 1;
            observer?.ItemCompleted(p);
        });
        // A session lost to one item is replaced by a fresh one (the model reloaded), so the run goes on past a poison item.
        var sessions = new ModelSessions(session, ct => backend.LoadAsync(model.Entry, model.ResolvedPath, ct));
        await using (sessions.ConfigureAwait(false))
        {
            await RecordAsync(id, ModelRunStatus.Loaded, session.LoadInfo, PeakOf(session), null).ConfigureAwait(false);
            var metered = MeteredSession.Of(sessions);
            var (recorder, facts) = await StartEnergyAsync(model, metered, cancellationToken).ConfigureAwait(false);
            ContentionRecorder? busy = null;
            try
            {
                if (facts is not null)
                {
                    await RecordAsync(id, ModelRunStatus.Loaded, session.LoadInfo, PeakOf(session), null, facts).ConfigureAwait(false);
                }

                // After the idle baseline: the window is the items' own, where timings are taken.
                busy = StartContention(metered);
                try
                {
                    await evaluator.EvaluateAsync(id, sessions, suites, recorded, counting, cancellationToken, recorder, records).ConfigureAwait(false);
                }
                catch (SessionLostException ex)
                {
                    await RecordAsync(id, ModelRunStatus.Crashed, session.LoadInfo, PeakOf(sessions), ex.Message, Finish(facts, recorder), busy?.Finish()).ConfigureAwait(false);
                    return new ModelOutcome(id, ModelRunStatus.Crashed, done, ex.Message);
                }

                await RecordAsync(id, ModelRunStatus.Completed, session.LoadInfo, PeakOf(sessions), null, Finish(facts, recorder), busy?.Finish()).ConfigureAwait(false);
                return new ModelOutcome(id, ModelRunStatus.Completed, done, null);
            }
            finally
            {
                if (recorder is not null)
                {
                    await recorder.DisposeAsync().ConfigureAwait(false);
                }

                if (busy is not null)
                {
                    await busy.DisposeAsync().ConfigureAwait(false);
                }
            }
        }
    }

    // A meter that cannot open costs the model its energy figures, never its items: the reason is recorded instead.
    private async Task<(EnergyRecorder? Recorder, ModelEnergy? Facts)> StartEnergyAsync(
        RunModel model, IModelSession session, CancellationToken cancellationToken)
    {
        if (energy is null)
        {
            return (null, null);
        }

        var powerAtStart = energy.Power.Read();
        var (meters, notReported) = EnergyScopeRule.Apply(
            model.Backend?.Energy ?? EnergyScope.WorkerProcess, energy.Meters.MetersFor(model.Entry, session));
        if (notReported is not null)
        {
            // No recorder: the model's items carry no reading, and the reason stands in the model's energy facts.
            return (null, new ModelEnergy("none", EnergyQuality.Measured, notReported, energy.SampleInterval, null, powerAtStart, null, notReported));
        }

        EnergyRecorder recorder;
        try
        {
            recorder = EnergyRecorder.Start(meters, timeProvider, energy.SampleInterval);
        }
        catch (EnergyMeterException ex)
        {
            var probes = meters.Select(m => m.Probe()).ToList();
            return (null, new ModelEnergy(
                string.Join('+', probes.Select(p => p.Source)), probes.FirstOrDefault()?.Quality ?? EnergyQuality.Measured,
                string.Join("; ", probes.Select(p => p.Scope)), energy.SampleInterval, null, powerAtStart, null, ex.Message));
        }

        EnergyReading? baseline = null;
        try
        {
            baseline = await recorder.MeasureIdleBaselineAsync(energy.IdleBaseline, cancellationToken).ConfigureAwait(false);
        }
        catch (EnergyMeterException)
        {
            // Recorded through recorder.Failure below.
        }

        return (recorder, new ModelEnergy(
            recorder.Source, recorder.Quality, recorder.Scope, recorder.SampleInterval, baseline, powerAtStart, null, recorder.Failure));
    }

    // The worker's own CPU time is the model's, not contention: it is subtracted from the machine's busy time.
    private ContentionRecorder? StartContention(IModelSession session) =>
        contention is null
            ? null
            : ContentionRecorder.Start(contention.Probe, timeProvider, contention.SampleInterval,
                session is IReportsProcessorTime worker ? () => WorkerCpu(worker) : null);

    // A worker that died can no longer be read; the recorder then uses the last time it read.
    private static TimeSpan? WorkerCpu(IReportsProcessorTime worker)
    {
        try
        {
            return worker.TotalProcessorTime;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return null;
        }
    }

    private ModelEnergy? Finish(ModelEnergy? facts, EnergyRecorder? recorder) =>
        facts is null || energy is null ? facts : facts with { PowerAtEnd = energy.Power.Read(), Failure = facts.Failure ?? recorder?.Failure };

    // Outcome records are written even when the run is being cancelled: they are what a resume reads.
    private Task RecordAsync(
        string id, ModelRunStatus status, ModelLoadInfo? info, long? peak, string? failure, ModelEnergy? facts = null, ModelContention? busy = null) =>
        store.RecordModelAsync(new ModelRunRecord(id, status, info, peak, failure, timeProvider.GetUtcNow(), facts, busy), CancellationToken.None);

    // The highest peak of every session the model ran in.
    private static long? PeakOf(ModelSessions sessions) =>
        sessions.Current is { } current && current != sessions.First
            ? Math.Max(PeakOf(sessions.First) ?? 0, PeakOf(current) ?? 0)
            : PeakOf(sessions.First);

    private static long? PeakOf(IModelSession session) =>
        session is IReportsPeakMemory memory ? memory.PeakResidentMemoryBytes : session.LoadInfo.ResidentMemoryAfterLoadBytes;

    /// <summary>What the energy meters see of a model's sessions: the first one's facts, every worker's CPU time.</summary>
    private sealed class MeteredSession(ModelSessions sessions, IReportsProcessorTime times) : IModelSession, IReportsProcessorTime
    {
        public static IModelSession Of(ModelSessions sessions) =>
            sessions.ProcessorTime is { } times ? new MeteredSession(sessions, times) : sessions.First;

        public ModelLoadInfo LoadInfo => sessions.First.LoadInfo;

        public TimeSpan TotalProcessorTime => times.TotalProcessorTime;

        public TimeSpan BusyTime => times.BusyTime;

        public Task<GenerationResult> GenerateAsync(GenerationRequest request, CancellationToken cancellationToken) =>
            throw new NotSupportedException("the meters' view of a session does not generate");

        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }

    // Synchronous IProgress: System.Progress<T> posts to the thread pool, which would reorder reports.
    private sealed class Progress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }
}
