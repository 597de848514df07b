using System.Collections.Immutable;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Suites;

namespace Harness.Core.Comparison;

/// <summary>What happened to one model's drift and perplexity measurement in this invocation.</summary>
/// <param name="Absent">Why drift and perplexity are not measured for this candidate at all (a backend without
/// next-token distributions): a stated absence, recorded in the store, not a failure.</param>
public sealed record DriftOutcome(string ModelId, int ItemsMeasuredNow, string? Failure, string? Absent = null);

/// <summary>Progress of the drift pass, reported after every item.</summary>
/// <param name="Candidate">The candidate's place among <paramref name="Candidates"/>, from 1, for an overall count.</param>
public sealed record DriftProgress(string CandidateModelId, int Completed, int Total, int Candidate = 1, int Candidates = 1);

/// <summary>
/// The second half of <c>harness compare</c>: for every candidate, the base and the candidate are loaded side by
/// side and fed the same text per item (the rendered prompt followed by the base's recorded answer). The base
/// returns its top-k next-token distribution at every position, the candidate is probed at exactly those tokens,
/// and the per-position drift is committed per item. Only two models are held at a time (the base is loaded
/// once), and nothing of vocabulary size is stored. Each model's perplexity on the reference text is recorded too.
/// Like the evaluator, the store is the only state: running this again measures only what is missing.
/// A candidate whose backend (or the base's) cannot return next-token distributions gets a <see cref="DriftAbsence"/>
/// instead: it is compared on quality and cost only, and the report says why drift is missing.
/// </summary>
public sealed class ComparisonMeasurer(IModelBackend backend, IComparisonStore store, TimeProvider timeProvider)
{
    public async Task<IReadOnlyList<DriftOutcome>> MeasureAsync(
        ComparisonPlan plan,
        IReadOnlyList<RunModel> models,
        IReadOnlyList<Suite> suites,
        IReadOnlyList<ItemRecord> items,
        IReadOnlyList<string> referenceDocuments,
        IProgress<DriftProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(suites);
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(referenceDocuments);
        var baseModel = models.FirstOrDefault(m => m.Entry.Id == plan.BaseModelId)
            ?? throw new ArgumentException($"the base model '{plan.BaseModelId}' is not among the run's resolved models", nameof(models));

        var baseAnswers = items
            .Where(i => i.Key.ModelId == plan.BaseModelId && i.Status == ItemStatus.Scored)
            .ToDictionary(i => (i.Key.Suite, i.Key.ItemId));
        var measured = new HashSet<(string, string, string)>();
        await foreach (var record in store.ReadDriftAsync(cancellationToken).ConfigureAwait(false))
        {
            measured.Add((record.CandidateModelId, record.Suite, record.ItemId));
        }

        var withPerplexity = (await store.ReadPerplexityAsync(cancellationToken).ConfigureAwait(false))
            .Where(p => p.ReferenceSha256 == plan.ReferenceSha256)
            .Select(p => p.ModelId)
            .ToHashSet(StringComparer.Ordinal);

        var absent = (await store.ReadDriftAbsencesAsync(cancellationToken).ConfigureAwait(false))
            .Where(a => a.BaseModelId == plan.BaseModelId)
            .ToDictionary(a => a.CandidateModelId, a => a.Reason, StringComparer.Ordinal);

        var outcomes = new List<DriftOutcome>();
        await using var baseHolder = new SessionHolder(backend, baseModel);
        if (!withPerplexity.Contains(baseModel.Entry.Id))
        {
            try
            {
                if (await baseHolder.GetAsync(cancellationToken).ConfigureAwait(false) is not { } baseProbe)
                {
                    // Nothing can be compared by distribution with this base; each candidate says so once.
                    var reason = "the base " + NoDistributions(baseModel.Entry.Id);
                    foreach (var candidateId in plan.CandidateModelIds)
                    {
                        outcomes.Add(await RecordAbsenceAsync(plan, candidateId, reason, absent, cancellationToken).ConfigureAwait(false));
                    }

                    return outcomes;
                }

                await MeasurePerplexityAsync(plan, baseModel.Entry.Id, baseProbe, referenceDocuments, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ModelLoadException or SessionLostException or BackendException)
            {
                // Without the base nothing can be compared; every candidate reports the same reason.
                return [.. plan.CandidateModelIds.Select(id => new DriftOutcome(id, 0, $"base model '{baseModel.Entry.Id}': {ex.Message}"))];
            }
        }

        var place = 0;
        foreach (var candidateId in plan.CandidateModelIds)
        {
            place++;
            cancellationToken.ThrowIfCancellationRequested();
            if (absent.TryGetValue(candidateId, out var recorded))
            {
                // The plan's models and their backends do not change on a resume: no need to load it again to learn this.
                outcomes.Add(new DriftOutcome(candidateId, 0, null, recorded));
                continue;
            }

            var candidate = models.FirstOrDefault(m => m.Entry.Id == candidateId);
            if (candidate is null)
            {
                outcomes.Add(new DriftOutcome(candidateId, 0, "the model could not be resolved (see the run's model records)"));
                continue;
            }

            var pending = suites
                .SelectMany(s => s.Items.Select(i => (Suite: s, Item: i)))
                .Where(p => baseAnswers.ContainsKey((p.Suite.Name, p.Item.Id)) && !measured.Contains((candidateId, p.Suite.Name, p.Item.Id)))
                .ToList();
            var needsPerplexity = !withPerplexity.Contains(candidateId);
            if (pending.Count == 0 && !needsPerplexity)
            {
                outcomes.Add(new DriftOutcome(candidateId, 0, null));
                continue;
            }

            var placed = progress is null ? null : new PlacedProgress(progress, place, plan.CandidateModelIds.Length);
            outcomes.Add(await MeasureCandidateAsync(plan, baseHolder, candidate, pending, baseAnswers, needsPerplexity, referenceDocuments, absent, placed, cancellationToken).ConfigureAwait(false));
        }

        return outcomes;
    }

    private static string NoDistributions(string modelId) =>
        $"{modelId}'s backend cannot {BackendCapabilities.Describe(BackendAbilities.TokenDistributions)}";

    private async Task<DriftOutcome> RecordAbsenceAsync(
        ComparisonPlan plan, string candidateId, string reason, Dictionary<string, string> recorded, CancellationToken cancellationToken)
    {
        if (!recorded.TryGetValue(candidateId, out var known) || known != reason)
        {
            await store.RecordDriftAbsenceAsync(new DriftAbsence(plan.BaseModelId, candidateId, reason, timeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
            recorded[candidateId] = reason;
        }

        return new DriftOutcome(candidateId, 0, null, reason);
    }

    private async Task<DriftOutcome> MeasureCandidateAsync(
        ComparisonPlan plan,
        SessionHolder baseHolder,
        RunModel candidate,
        List<(Suite Suite, SuiteItem Item)> pending,
        Dictionary<(string, string), ItemRecord> baseAnswers,
        bool needsPerplexity,
        IReadOnlyList<string> referenceDocuments,
        Dictionary<string, string> absent,
        IProgress<DriftProgress>? progress,
        CancellationToken cancellationToken)
    {
        var id = candidate.Entry.Id;
        var done = 0;
        try
        {
            var session = await backend.LoadAsync(candidate.Entry, candidate.ResolvedPath, cancellationToken).ConfigureAwait(false);
            await using (session.ConfigureAwait(false))
            {
                if (session is not ITokenDistributionProbe candidateProbe)
                {
                    return await RecordAbsenceAsync(plan, id, NoDistributions(id), absent, cancellationToken).ConfigureAwait(false);
                }

                if (needsPerplexity)
                {
                    await MeasurePerplexityAsync(plan, id, candidateProbe, referenceDocuments, cancellationToken).ConfigureAwait(false);
                }

                if (pending.Count == 0)
                {
                    return new DriftOutcome(id, 0, null);
                }

                if (await baseHolder.GetAsync(cancellationToken).ConfigureAwait(false) is not { } baseProbe)
                {
                    return await RecordAbsenceAsync(plan, id, "the base " + NoDistributions(plan.BaseModelId), absent, cancellationToken).ConfigureAwait(false);
                }

                progress?.Report(new DriftProgress(id, 0, pending.Count));
                foreach (var (suite, item) in pending)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var record = await MeasureItemAsync(plan, baseProbe, candidateProbe, id, suite, item, baseAnswers[(suite.Name, item.Id)], cancellationToken).ConfigureAwait(false);
                    await store.AppendDriftAsync(record, cancellationToken).ConfigureAwait(false);
                    done++; // not inside the ?. call: without a progress sink the count must still move
                    progress?.Report(new DriftProgress(id, done, pending.Count));
                }
            }

            return new DriftOutcome(id, done, null);
        }
        catch (Exception ex) when (ex is ModelLoadException or SessionLostException or BackendException)
        {
            // A lost base session is reloaded for the next candidate; the records committed so far stand.
            if (ex is SessionLostException)
            {
                await baseHolder.ResetAsync().ConfigureAwait(false);
            }

            return new DriftOutcome(id, done, ex.Message);
        }
    }

    private async Task<DriftRecord> MeasureItemAsync(
        ComparisonPlan plan, ITokenDistributionProbe baseProbe, ITokenDistributionProbe candidateProbe, string candidateId,
        Suite suite, SuiteItem item, ItemRecord baseAnswer, CancellationToken cancellationToken)
    {
        var prompt = PromptRenderer.Render(suite, item);
        var answer = baseAnswer.RawOutput;
        try
        {
            if (suite.Prompt.Continuation is not null)
            {
                // Partial scoring: the base's answer is a choice inside the context; the text it scored follows that context.
                var chosen = Math.Max(0, item.Choices.IndexOf(baseAnswer.RawOutput));
                prompt = PromptRenderer.RenderChoiceContexts(suite.Prompt, item)[chosen];
                answer = PromptRenderer.RenderContinuation(suite.Prompt, item);
            }
            var baseTrace = await baseProbe.TraceAsync(new DistributionTraceRequest(prompt, answer, plan.TopK, []), cancellationToken).ConfigureAwait(false);
            var candidateTrace = await candidateProbe.TraceAsync(
                new DistributionTraceRequest(prompt, answer, 1, DistributionDrift.ProbesFor(baseTrace)), cancellationToken).ConfigureAwait(false);
            var drift = DistributionDrift.Measure(baseTrace, candidateTrace);
            return new DriftRecord(plan.BaseModelId, candidateId, suite.Name, item.Id, plan.TopK,
                [.. drift.Select(d => (float)d.KlDivergence)], [.. drift.Select(d => (float)d.DeltaP)],
                drift.Count(d => d.TopTokenAgrees), null, timeProvider.GetUtcNow());
        }
        catch (Exception ex) when (ex is BackendException or ArgumentException)
        {
            // One item that cannot be traced (too long for a context, a tokenizer mismatch) is recorded as such.
            return new DriftRecord(plan.BaseModelId, candidateId, suite.Name, item.Id, plan.TopK, [], [], 0, ex.Message, timeProvider.GetUtcNow());
        }
    }

    private async Task MeasurePerplexityAsync(
        ComparisonPlan plan, string modelId, ITokenDistributionProbe probe, IReadOnlyList<string> documents, CancellationToken cancellationToken)
    {
        var nll = 0.0;
        var tokens = 0L;
        for (var i = 0; i < documents.Count; i++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            DistributionTrace trace;
            try
            {
                trace = await probe.TraceAsync(
                    new DistributionTraceRequest(new RenderedPrompt([], documents[i]), "", 1, [], PlainText: true), cancellationToken).ConfigureAwait(false);
            }
            catch (BackendException ex)
            {
                throw new BackendException($"{plan.ReferencePath}: document {i + 1}: {ex.Message}", ex);
            }

            foreach (var position in trace.Positions)
            {
                nll -= position.NextTokenLogProbability;
                tokens++;
            }
        }

        if (tokens == 0)
        {
            throw new BackendException($"{plan.ReferencePath}: the reference text has no token to predict");
        }

        await store.RecordPerplexityAsync(
            new PerplexityRecord(modelId, plan.ReferenceSha256, documents.Count, tokens, nll, timeProvider.GetUtcNow()), cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The base session, loaded on first use and kept for every candidate.</summary>
    private sealed class SessionHolder(IModelBackend backend, RunModel model) : IAsyncDisposable
    {
        private IModelSession? _session;

        /// <summary>The base's probe; null when its backend cannot return next-token distributions.</summary>
        public async Task<ITokenDistributionProbe?> GetAsync(CancellationToken cancellationToken)
        {
            _session ??= await backend.LoadAsync(model.Entry, model.ResolvedPath, cancellationToken).ConfigureAwait(false);
            return _session as ITokenDistributionProbe;
        }

        public async Task ResetAsync()
        {
            if (_session is { } session)
            {
                _session = null;
                await session.DisposeAsync().ConfigureAwait(false);
            }
        }

        public ValueTask DisposeAsync() => new(ResetAsync());
    }
}

/// <summary>Stamps each report with the candidate's place, synchronously (<see cref="Progress{T}"/> would post it).</summary>
file sealed class PlacedProgress(IProgress<DriftProgress> inner, int place, int count) : IProgress<DriftProgress>
{
    public void Report(DriftProgress value) => inner.Report(value with { Candidate = place, Candidates = count });
}
