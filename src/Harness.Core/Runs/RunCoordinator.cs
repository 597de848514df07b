using Harness.Core.Backends;

namespace Harness.Core.Runs;

/// <summary>What happened to each model of a run in this invocation.</summary>
public sealed record ModelOutcome(string ModelId, ModelRunStatus Status, int ItemsRecordedNow, string? Failure);

/// <summary>Observes a run for progress display; every member is optional to act on.</summary>
public interface IRunObserver
{
    void ModelStarting(RunModel model, int pendingItems);
    void ModelFinished(ModelOutcome outcome);
    void ItemCompleted(EvaluationProgress progress);
}

/// <summary>
/// Runs each model of a run in turn: load, evaluate the pending items, record the outcome. A model that
/// cannot load or whose session dies is recorded as failed and the run goes on with the next model.
/// </summary>
public sealed class RunCoordinator(IModelBackend backend, IRunStore store, TimeProvider timeProvider)
{
    public async Task<IReadOnlyList<ModelOutcome>> RunAsync(
        IReadOnlyList<RunModel> models,
        IReadOnlyList<PreparedSuite> suites,
        IRunObserver? observer,
        CancellationToken cancellationToken)
    {
        var outcomes = new List<ModelOutcome>(models.Count);
        var evaluator = new ModelEvaluator(store, timeProvider);
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
        var pending = suites.Sum(s => s.Suite.Items.Count(i => !recorded.Contains(new ItemKey(id, s.Suite.Name, i.Id))));
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
        await using (session.ConfigureAwait(false))
        {
            await RecordAsync(id, ModelRunStatus.Loaded, session.LoadInfo, PeakOf(session), null).ConfigureAwait(false);
            try
            {
                await evaluator.EvaluateAsync(id, session, suites, recorded, counting, cancellationToken).ConfigureAwait(false);
            }
            catch (SessionLostException ex)
            {
                await RecordAsync(id, ModelRunStatus.Crashed, session.LoadInfo, PeakOf(session), ex.Message).ConfigureAwait(false);
                return new ModelOutcome(id, ModelRunStatus.Crashed, done, ex.Message);
            }

            await RecordAsync(id, ModelRunStatus.Completed, session.LoadInfo, PeakOf(session), null).ConfigureAwait(false);
            return new ModelOutcome(id, ModelRunStatus.Completed, done, null);
        }
    }

    // Outcome records are written even when the run is being cancelled: they are what a resume reads.
    private Task RecordAsync(string id, ModelRunStatus status, ModelLoadInfo? info, long? peak, string? failure) =>
        store.RecordModelAsync(new ModelRunRecord(id, status, info, peak, failure, timeProvider.GetUtcNow()), CancellationToken.None);

    private static long? PeakOf(IModelSession session) =>
        session is IReportsPeakMemory memory ? memory.PeakResidentMemoryBytes : session.LoadInfo.ResidentMemoryAfterLoadBytes;

    // Synchronous IProgress: System.Progress<T> posts to the thread pool, which would reorder reports.
    private sealed class Progress(Action<EvaluationProgress> report) : IProgress<EvaluationProgress>
    {
        public void Report(EvaluationProgress value) => report(value);
    }
}
