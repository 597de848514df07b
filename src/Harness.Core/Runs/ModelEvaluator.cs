using System.Collections.Immutable;
using System.Diagnostics;
using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Harness.Core.Verdicts;

namespace Harness.Core.Runs;

/// <summary>
/// Runs every not-yet-recorded item of the given suites through one model session, scores it and commits
/// each record as soon as its item finishes. The store is the only state: a resume simply runs this again.
/// Generate suites go through continuous batching when the session offers it, except suites with a latency
/// requirement: their latency is meant per request, so they run one item at a time.
/// With an <see cref="EnergyRecorder"/>, every record carries the energy of its window: from request to answer for an
/// item that ran alone, from the previous completion for an item of a batch.
/// A suite with a <see cref="PreparedSuite.SequentialOrder"/> runs in that order and stops as soon as its sequential
/// verdict decides; with batching, items are admitted in order in waves of the batch's width, and every item of a wave
/// is recorded even when an earlier one of the wave decided.
/// </summary>
public sealed class ModelEvaluator(IRunStore store, TimeProvider timeProvider)
{
    /// <summary>Name of the length-normalised accuracy recorded beside the primary score of log-likelihood items.</summary>
    public const string NormalizedChoiceScorer = "acc_norm";

    /// <exception cref="SessionLostException">The session died; items recorded so far stay recorded.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; the item in flight is not recorded.</exception>
    /// <param name="recorded">Keys already in the store (read once by the caller); their items are skipped.</param>
    /// <param name="energy">Reads each item's energy; null records none. A meter that fails leaves later items without
    /// energy and never costs an item.</param>
    /// <param name="recordedItems">The records behind <paramref name="recorded"/>; needed only by sequential suites,
    /// whose state is replayed from them.</param>
    public async Task EvaluateAsync(
        string modelId,
        IModelSession session,
        IReadOnlyList<PreparedSuite> suites,
        IReadOnlySet<ItemKey> recorded,
        IProgress<EvaluationProgress>? progress,
        CancellationToken cancellationToken,
        EnergyRecorder? energy = null,
        IReadOnlyCollection<ItemRecord>? recordedItems = null)
    {
        // One session and no way to renew it: the first lost session ends the model's run, as it always did.
        var sessions = new ModelSessions(session, reload: null);
        await EvaluateAsync(modelId, sessions, suites, recorded, progress, cancellationToken, energy, recordedItems).ConfigureAwait(false);
    }

    /// <summary>
    /// Like the single-session overload, but an item whose request ends its session (a crash, or the watchdog's kill)
    /// is recorded instead of ending the model's run: a crash is retried once in a fresh session and recorded as
    /// <see cref="ItemFailureKind.WorkerCrash"/> when it ends that one too; a timeout is recorded at once as
    /// <see cref="ItemFailureKind.Timeout"/> (its deadline was already generous, and a retry would double a hang's cost).
    /// A batch that loses its session leaves the rest of its suite to run one item at a time, so the item that ends
    /// a worker is found.
    /// </summary>
    /// <exception cref="SessionLostException">The model is given up on (see <see cref="ModelSessions"/>); items recorded so far stay recorded.</exception>
    public async Task EvaluateAsync(
        string modelId,
        ModelSessions sessions,
        IReadOnlyList<PreparedSuite> suites,
        IReadOnlySet<ItemKey> recorded,
        IProgress<EvaluationProgress>? progress,
        CancellationToken cancellationToken,
        EnergyRecorder? energy = null,
        IReadOnlyCollection<ItemRecord>? recordedItems = null)
    {
        foreach (var prepared in suites)
        {
            var suite = prepared.Suite;
            if (prepared.SequentialOrder is { } order && suite.Requirement is { } requirement)
            {
                await EvaluateSequentialAsync(modelId, sessions, prepared, order, requirement, recordedItems ?? [], progress, energy, cancellationToken)
                    .ConfigureAwait(false);
                continue;
            }

            var pending = suite.Items.Where(i => !recorded.Contains(new ItemKey(modelId, suite.Name, i.Id))).ToList();
            var completed = suite.Items.Length - pending.Count;
            progress?.Report(new EvaluationProgress(modelId, suite.Name, completed, suite.Items.Length, null));
            if (pending.Count == 0)
            {
                continue;
            }

            var session = await sessions.GetAsync(cancellationToken).ConfigureAwait(false);
            if (UsesBatching(session, suite))
            {
                var done = new HashSet<string>(StringComparer.Ordinal);
                try
                {
                    await EvaluateBatchedAsync(modelId, (IBatchedTextGenerator)session, prepared, pending, completed, progress, energy,
                        record => done.Add(record.Key.ItemId), cancellationToken).ConfigureAwait(false);
                    sessions.Answered();
                    continue;
                }
                catch (SessionLostException lost)
                {
                    await sessions.LostAsync(lost).ConfigureAwait(false);
                    completed += done.Count;
                    pending = [.. pending.Where(i => !done.Contains(i.Id))];
                }
            }

            foreach (var item in pending)
            {
                cancellationToken.ThrowIfCancellationRequested();
                var record = await EvaluateWithRetryAsync(modelId, sessions, prepared, item, energy, cancellationToken).ConfigureAwait(false);
                await store.AppendItemAsync(record, cancellationToken).ConfigureAwait(false);
                completed++;
                progress?.Report(new EvaluationProgress(modelId, suite.Name, completed, suite.Items.Length, record));
            }
        }
    }

    /// <summary>
    /// Items of <paramref name="prepared"/> still to run for <paramref name="modelId"/>: those without a record, or none
    /// for a sequential suite whose verdict is already decided.
    /// </summary>
    public static int PendingItems(string modelId, PreparedSuite prepared, IReadOnlySet<ItemKey> recorded, IReadOnlyCollection<ItemRecord> recordedItems)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        ArgumentNullException.ThrowIfNull(recorded);
        var suite = prepared.Suite;
        if (prepared.SequentialOrder is { } order && suite.Requirement is { } requirement
            && SequentialVerdictCalculator.Replay(requirement, order, OwnRecords(modelId, suite.Name, recordedItems)).Decided)
        {
            return 0;
        }

        return suite.Items.Count(i => !recorded.Contains(new ItemKey(modelId, suite.Name, i.Id)));
    }

    private static Dictionary<string, ItemRecord> OwnRecords(string modelId, string suiteName, IEnumerable<ItemRecord> records)
    {
        var own = new Dictionary<string, ItemRecord>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            if (record.Key.ModelId == modelId && record.Key.Suite == suiteName)
            {
                own[record.Key.ItemId] = record;
            }
        }

        return own;
    }

    // The state is replayed from the store's records along the recorded order, so a run killed at any point resumes
    // exactly where the order and the records say it stands. Each wave is the next items in order without a record.
    private async Task EvaluateSequentialAsync(
        string modelId,
        ModelSessions sessions,
        PreparedSuite prepared,
        ImmutableArray<string> order,
        Requirement requirement,
        IReadOnlyCollection<ItemRecord> recordedItems,
        IProgress<EvaluationProgress>? progress,
        EnergyRecorder? energy,
        CancellationToken cancellationToken)
    {
        var suite = prepared.Suite;
        var own = OwnRecords(modelId, suite.Name, recordedItems);
        var itemsById = suite.Items.ToDictionary(i => i.Id, StringComparer.Ordinal);
        var state = SequentialState.Start(requirement);
        var position = 0;
        void Advance()
        {
            while (!state.Decided && position < order.Length && own.TryGetValue(order[position], out var record))
            {
                state = state.Observe(record);
                position++;
            }
        }

        Advance();
        progress?.Report(new EvaluationProgress(modelId, suite.Name, own.Count, suite.Items.Length, null));
        // As in a full suite, a batch that loses its worker leaves the rest to run one item at a time in a fresh one.
        var batched = UsesBatching(await sessions.GetAsync(cancellationToken).ConfigureAwait(false), suite);
        while (!state.Decided)
        {
            var session = await sessions.GetAsync(cancellationToken).ConfigureAwait(false);
            var width = batched ? ((IBatchedTextGenerator)session).ParallelSequences : 1;
            var wave = order.Skip(position).Where(id => !own.ContainsKey(id)).Take(width).Select(id => itemsById[id]).ToList();
            if (wave.Count == 0)
            {
                break;
            }

            if (batched)
            {
                try
                {
                    await EvaluateBatchedAsync(modelId, (IBatchedTextGenerator)session, prepared, wave, own.Count, progress, energy,
                        record => own[record.Key.ItemId] = record, cancellationToken).ConfigureAwait(false);
                    sessions.Answered();
                }
                catch (SessionLostException lost)
                {
                    await sessions.LostAsync(lost).ConfigureAwait(false);
                    batched = false;
                }
            }
            else
            {
                cancellationToken.ThrowIfCancellationRequested();
                var record = await EvaluateWithRetryAsync(modelId, sessions, prepared, wave[0], energy, cancellationToken).ConfigureAwait(false);
                await store.AppendItemAsync(record, cancellationToken).ConfigureAwait(false);
                own[record.Key.ItemId] = record;
                progress?.Report(new EvaluationProgress(modelId, suite.Name, own.Count, suite.Items.Length, record));
            }

            Advance();
        }

        if (state.Decided)
        {
            // Decided before the suite ran out: the items still unrun are not owed, so progress ends here.
            progress?.Report(new EvaluationProgress(modelId, suite.Name, own.Count, own.Count, null));
        }
    }

    /// <summary>Tries per item when its request ends the worker by crashing; a timeout is never retried.</summary>
    public const int TriesPerCrashingItem = 2;

    private async Task<ItemRecord> EvaluateWithRetryAsync(
        string modelId, ModelSessions sessions, PreparedSuite prepared, SuiteItem item, EnergyRecorder? energy, CancellationToken cancellationToken)
    {
        var crashes = new List<string>();
        while (true)
        {
            var session = await sessions.GetAsync(cancellationToken).ConfigureAwait(false);
            var start = TryMark(energy);
            var started = timeProvider.GetTimestamp();
            try
            {
                var record = await EvaluateItemAsync(modelId, session, prepared, item, cancellationToken).ConfigureAwait(false);
                sessions.Answered();
                return record with { Energy = Measure(energy, start, EnergyAttribution.Exclusive, GenerationPhase(record)) };
            }
            catch (SessionLostException lost)
            {
                var elapsed = timeProvider.GetElapsedTime(started);
                // Throws when the model is given up on; the item then stays unrecorded and a resume tries it again.
                await sessions.LostAsync(lost).ConfigureAwait(false);
                crashes.Add(lost.Message);
                if (lost.Kind == ItemFailureKind.Timeout || crashes.Count >= TriesPerCrashingItem)
                {
                    var key = new ItemKey(modelId, prepared.Suite.Name, item.Id);
                    var error = crashes.Count == 1
                        ? lost.Message
                        : $"the item ended its worker on each of {crashes.Count} tries: {string.Join(" | then: ", crashes)}";
                    var failed = FailedRecord(key, PromptRenderer.Render(prepared.Suite, item), error, lost.Kind);
                    return failed with
                    {
                        Metrics = failed.Metrics with { Timings = new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, elapsed) },
                    };
                }
            }
        }
    }

    /// <summary>Whether <paramref name="suite"/> is evaluated with continuous batching on <paramref name="session"/>.</summary>
    public static bool UsesBatching(IModelSession session, Suite suite) =>
        suite.Request == RequestKind.Generate
        && session is IBatchedTextGenerator { ParallelSequences: > 1 }
        && suite.Requirement?.MaxP95Latency is null
        && suite.Generation.Grammar is null
        // A later turn needs the earlier answers; conversations run one item at a time.
        && suite.Prompt.Followups.IsEmpty;

    private async Task EvaluateBatchedAsync(
        string modelId,
        IBatchedTextGenerator generator,
        PreparedSuite prepared,
        List<SuiteItem> pending,
        int completed,
        IProgress<EvaluationProgress>? progress,
        EnergyRecorder? energy,
        Action<ItemRecord> recorded,
        CancellationToken cancellationToken)
    {
        var suite = prepared.Suite;
        var previous = TryMark(energy);
        var prompts = pending.Select(item => PromptRenderer.Render(suite, item)).ToList();
        var requests = prompts.Select(prompt => new GenerationRequest(prompt, suite.Generation)).ToList();
        await foreach (var outcome in generator.GenerateBatchAsync(requests, cancellationToken).ConfigureAwait(false))
        {
            var item = pending[outcome.Index];
            var key = new ItemKey(modelId, suite.Name, item.Id);
            var record = outcome.Result is { } result
                ? GeneratedRecord(key, prepared, item, result)
                : FailedRecord(key, prompts[outcome.Index], outcome.Error ?? "the backend gave neither a result nor an error",
                    outcome.FailureKind ?? ItemFailureKind.Backend);
            // Sequences of a batch share every decode: the energy since the previous completion goes to this one.
            var now = TryMark(energy);
            record = record with { Energy = Measure(energy, previous, now, EnergyAttribution.BatchInterval, generation: null) };
            previous = now;
            await store.AppendItemAsync(record, cancellationToken).ConfigureAwait(false);
            // Told as soon as it is stored, so a caller whose batch loses its worker knows which items are done.
            recorded(record);
            completed++;
            progress?.Report(new EvaluationProgress(modelId, suite.Name, completed, suite.Items.Length, record));
        }
    }

    private async Task<ItemRecord> EvaluateItemAsync(
        string modelId, IModelSession session, PreparedSuite prepared, SuiteItem item, CancellationToken cancellationToken)
    {
        var suite = prepared.Suite;
        var key = new ItemKey(modelId, suite.Name, item.Id);
        var prompt = PromptRenderer.Render(suite, item);
        try
        {
            return suite.Request switch
            {
                RequestKind.Generate => await GenerateAsync(key, session, prepared, item, prompt, cancellationToken).ConfigureAwait(false),
                RequestKind.LogLikelihood => await RankChoicesAsync(key, session, prepared, item, prompt, cancellationToken).ConfigureAwait(false),
                _ => throw new UnreachableException(),
            };
        }
        catch (BackendException ex)
        {
            // One bad item (NaN logits, a prompt longer than the context) must not end the model's run:
            // it is recorded as failed, counts as not passed, and the reason is kept as evidence.
            return FailedRecord(key, prompt, ex.Message, ex.Kind);
        }
    }

    private static EnergyMark? TryMark(EnergyRecorder? energy)
    {
        try
        {
            return energy?.Mark();
        }
        catch (EnergyMeterException)
        {
            // The recorder keeps the failure for the model's record; the item itself is never lost to a meter.
            return null;
        }
    }

    private static EnergyReading? Measure(EnergyRecorder? energy, EnergyMark? start, EnergyAttribution attribution, TimeSpan? generation) =>
        Measure(energy, start, TryMark(energy), attribution, generation);

    private static EnergyReading? Measure(
        EnergyRecorder? energy, EnergyMark? start, EnergyMark? end, EnergyAttribution attribution, TimeSpan? generation) =>
        energy is not null && start is not null && end is not null ? energy.Measure(start, end, attribution, generation) : null;

    // A failed item has no phases to split; a log-likelihood item has no generation phase.
    private static TimeSpan? GenerationPhase(ItemRecord record) =>
        record.Status == ItemStatus.Scored ? record.Metrics.Timings.Generation : null;

    private ItemRecord FailedRecord(ItemKey key, RenderedPrompt prompt, string error, ItemFailureKind kind) =>
        new(key, ItemStatus.Failed, prompt.PlainText, "", null, [], [], false,
            new ItemMetrics(0, 0, new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero)),
            error, timeProvider.GetUtcNow(), Failure: kind);

    private async Task<ItemRecord> GenerateAsync(
        ItemKey key, IModelSession session, PreparedSuite prepared, SuiteItem item, RenderedPrompt prompt, CancellationToken cancellationToken)
    {
        var result = await session.GenerateAsync(new GenerationRequest(prompt, prepared.Suite.Generation), cancellationToken).ConfigureAwait(false);
        if (prepared.Suite.Prompt.Followups.IsEmpty)
        {
            return GeneratedRecord(key, prepared, item, result);
        }

        // A conversation: each later turn is sent with every earlier turn and answer.
        var results = new List<GenerationResult> { result };
        for (var turn = 1; turn < prepared.Suite.Prompt.TurnCount; turn++)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var next = PromptRenderer.RenderTurn(prepared.Suite.Prompt, item, [.. results.Select(r => r.Text)]);
            results.Add(await session.GenerateAsync(new GenerationRequest(next, prepared.Suite.Generation), cancellationToken).ConfigureAwait(false));
        }

        return ConversationRecord(key, prepared, item, results);
    }

    // Scorers see the last answer; the metrics add up the turns, except the time to first token, which is the first turn's.
    private ItemRecord ConversationRecord(ItemKey key, PreparedSuite prepared, SuiteItem item, List<GenerationResult> results)
    {
        var last = results[^1];
        var scores = ScoreAll(prepared.Scorers, item, last.Text);
        var timings = new RequestTimings(
            results[0].Timings.TimeToFirstToken,
            Sum(results, r => r.Timings.PromptEvaluation),
            Sum(results, r => r.Timings.Generation),
            Sum(results, r => r.Timings.Total));
        var turns = results.Select(r => new TurnRecord(r.PromptText, r.Text, r.FinishReason, r.PromptTokens, r.GeneratedTokens, r.Timings)).ToImmutableArray();
        return new ItemRecord(key, ItemStatus.Scored, last.PromptText, last.Text, last.FinishReason, [], scores, scores[0].Passed,
            new ItemMetrics(results.Sum(r => r.PromptTokens), results.Sum(r => r.GeneratedTokens), timings), null, timeProvider.GetUtcNow(),
            Turns: turns);
    }

    private static TimeSpan Sum(List<GenerationResult> results, Func<GenerationResult, TimeSpan> part) =>
        results.Aggregate(TimeSpan.Zero, (total, r) => total + part(r));

    private ItemRecord GeneratedRecord(ItemKey key, PreparedSuite prepared, SuiteItem item, GenerationResult result)
    {
        var scores = ScoreAll(prepared.Scorers, item, result.Text);
        return new ItemRecord(key, ItemStatus.Scored, result.PromptText, result.Text, result.FinishReason, [], scores,
            scores[0].Passed, new ItemMetrics(result.PromptTokens, result.GeneratedTokens, result.Timings), null, timeProvider.GetUtcNow());
    }

    private async Task<ItemRecord> RankChoicesAsync(
        ItemKey key, IModelSession session, PreparedSuite prepared, SuiteItem item, RenderedPrompt prompt, CancellationToken cancellationToken)
    {
        if (session is not ILogLikelihoodScorer scorer)
        {
            throw new BackendException($"the backend of model '{key.ModelId}' cannot score log-likelihoods, which suite '{key.Suite}' needs");
        }

        var result = prepared.Suite.Prompt.Continuation is null
            ? await scorer.ScoreContinuationsAsync(new LogLikelihoodRequest(prompt, item.Choices), cancellationToken).ConfigureAwait(false)
            : await ScorePartialAsync(scorer, prepared.Suite.Prompt, item, cancellationToken).ConfigureAwait(false);
        var choices = result.Continuations;
        var best = ArgMax(choices, c => c.LogProbability);
        // Partial scoring scores one continuation under every choice's context: the same length divides every sum, so
        // acc_norm is acc (lm-eval reports acc alone for such tasks). Otherwise lm-eval's len(choice).
        var bestNormalized = prepared.Suite.Prompt.Continuation is null
            ? ArgMax(choices, c => c.LogProbability / NormalizationLength(c.Continuation))
            : best;
        var scores = ScoreAll(prepared.Scorers, item, choices[best].Continuation);
        var normalizedPassed = choices[bestNormalized].Continuation == item.Target;
        scores = scores.Add(new Score(NormalizedChoiceScorer, normalizedPassed ? 1 : 0, choices[bestNormalized].Continuation,
            normalizedPassed ? 1 : 0, choices[bestNormalized].Continuation, null));
        var continuationTokens = choices.Sum(c => c.TokenCount);
        return new ItemRecord(key, ItemStatus.Scored, result.PromptText, choices[best].Continuation, null, choices, scores,
            scores[0].Passed, new ItemMetrics(result.PromptTokens + continuationTokens, 0, result.Timings), null, timeProvider.GetUtcNow());
    }

    /// <summary>
    /// Partial scoring (lm-eval's multiple-input tasks such as Winogrande): the one continuation is scored under each
    /// choice's context, one ordinary request per choice, so every backend and the worker protocol serve it unchanged.
    /// Each score is relabelled with its choice text so the chosen answer compares with the target; acc_norm equals
    /// acc there (every choice is scored on the same continuation, see RankChoicesAsync). The result's prompt is the first choice's context (as
    /// <see cref="PromptRenderer.Render(PromptTemplate, SuiteItem)"/> renders it); its token count and timings are
    /// the sums over the requests.
    /// </summary>
    private static async Task<LogLikelihoodResult> ScorePartialAsync(
        ILogLikelihoodScorer scorer, PromptTemplate template, SuiteItem item, CancellationToken cancellationToken)
    {
        var contexts = PromptRenderer.RenderChoiceContexts(template, item);
        ImmutableArray<string> continuation = [PromptRenderer.RenderContinuation(template, item)];
        var scores = ImmutableArray.CreateBuilder<ContinuationScore>(contexts.Length);
        string? promptText = null;
        var promptTokens = 0;
        var timings = new RequestTimings(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        for (var i = 0; i < contexts.Length; i++)
        {
            var result = await scorer.ScoreContinuationsAsync(new LogLikelihoodRequest(contexts[i], continuation), cancellationToken).ConfigureAwait(false);
            if (result.Continuations.Length != 1)
            {
                throw new BackendException($"the backend returned {result.Continuations.Length} continuation scores for one continuation");
            }
            scores.Add(result.Continuations[0] with { Continuation = item.Choices[i] });
            promptText ??= result.PromptText;
            promptTokens += result.PromptTokens;
            timings = new RequestTimings(
                timings.TimeToFirstToken + result.Timings.TimeToFirstToken,
                timings.PromptEvaluation + result.Timings.PromptEvaluation,
                timings.Generation + result.Timings.Generation,
                timings.Total + result.Timings.Total);
        }
        return new LogLikelihoodResult(promptText ?? "", promptTokens, scores.MoveToImmutable(), timings);
    }

    /// <summary>
    /// The divisor of lm-eval's acc_norm (lm_eval/api/task.py process_results, multiple_choice): <c>len(choice)</c>, Python's
    /// length in Unicode code points of the choice as doc_to_choice gives it, without the target delimiter that the
    /// continuation starts with. Suites store the continuation (delimiter + choice) and lm-eval's delimiter is a single space
    /// for every catalogue task, so one leading space is not counted. Bytes would differ for non-ASCII choices (lm-eval calls
    /// that variant acc_bytes), UTF-16 units for characters outside the BMP, and counting the space shifts which choice wins.
    /// </summary>
    internal static int NormalizationLength(string continuation)
    {
        var choice = continuation.StartsWith(' ') ? continuation[1..] : continuation;
        var codePoints = 0;
        foreach (var _ in choice.EnumerateRunes())
        {
            codePoints++;
        }

        // lm-eval would divide by zero for an empty choice; one keeps the score finite.
        return Math.Max(1, codePoints);
    }

    private static ImmutableArray<Score> ScoreAll(ImmutableArray<IScorer> scorers, SuiteItem item, string output)
    {
        var input = new ScoringInput(item, output);
        var builder = ImmutableArray.CreateBuilder<Score>(scorers.Length + 1);
        foreach (var scorer in scorers)
        {
            builder.Add(scorer.Score(input));
        }

        return builder.ToImmutable();
    }

    // First maximum wins, so ties resolve to the earlier choice deterministically.
    private static int ArgMax(ImmutableArray<ContinuationScore> choices, Func<ContinuationScore, double> value)
    {
        if (choices.IsDefaultOrEmpty)
        {
            throw new BackendException("the backend returned no continuation scores");
        }

        var best = 0;
        for (var i = 1; i < choices.Length; i++)
        {
            if (value(choices[i]) > value(choices[best]))
            {
                best = i;
            }
        }

        return best;
    }
}
