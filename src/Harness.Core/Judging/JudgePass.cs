using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Backends;
using Harness.Core.Runs;
using Harness.Core.Suites;

namespace Harness.Core.Judging;

/// <summary>What one judge did on one suite in this invocation.</summary>
public sealed record JudgeOutcome(string JudgeModelId, string Suite, int JudgedNow, string? Failure);

/// <summary>Progress of the judge pass, after every judgement.</summary>
public sealed record JudgeProgress(string JudgeModelId, string Suite, int Completed, int Total);

/// <summary>
/// Runs after the candidates: each judge model named by a suite's <c>judge</c> scorer is loaded once and grades the
/// recorded answers (pointwise, or pairwise in both orders against the <c>against</c> model's answers). Every
/// judgement is committed as it is made, and like the evaluator the store is the only state: running this again
/// judges only what is missing. A judge that fails to load or dies is reported and the run's items stay as recorded.
/// </summary>
public sealed class JudgePass(IModelBackend backend, IJudgementStore store, TimeProvider timeProvider)
{
    /// <param name="judges">The resolved judge models (manifest entries with their files and sha256).</param>
    /// <param name="items">Every item record of the run.</param>
    public async Task<IReadOnlyList<JudgeOutcome>> RunAsync(
        IReadOnlyList<PreparedSuite> suites,
        IReadOnlyList<RunModel> judges,
        IReadOnlyList<ItemRecord> items,
        IProgress<JudgeProgress>? progress,
        CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(suites);
        ArgumentNullException.ThrowIfNull(judges);
        ArgumentNullException.ThrowIfNull(items);
        var judged = new HashSet<(string, string, string, string)>();
        await foreach (var j in store.ReadJudgementsAsync(cancellationToken).ConfigureAwait(false))
        {
            judged.Add((j.ModelId, j.Suite, j.ItemId, j.JudgeModelId));
        }

        var work = suites
            .SelectMany(s => s.Scorers.OfType<JudgeScorer>().Select(scorer => (Prepared: s, scorer.Spec)))
            .GroupBy(w => w.Spec.JudgeModelId, StringComparer.Ordinal);
        var outcomes = new List<JudgeOutcome>();
        foreach (var group in work)
        {
            var judge = judges.FirstOrDefault(j => j.Entry.Id == group.Key);
            if (judge is null)
            {
                outcomes.AddRange(group.Select(w => new JudgeOutcome(group.Key, w.Prepared.Suite.Name, 0,
                    $"judge model '{group.Key}' is not a resolved model of the manifest")));
                continue;
            }

            IModelSession session;
            try
            {
                session = await backend.LoadAsync(judge.Entry, judge.ResolvedPath, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is ModelLoadException or SessionLostException)
            {
                outcomes.AddRange(group.Select(w => new JudgeOutcome(group.Key, w.Prepared.Suite.Name, 0, ex.Message)));
                continue;
            }

            await using (session.ConfigureAwait(false))
            {
                foreach (var (prepared, spec) in group)
                {
                    outcomes.Add(await JudgeSuiteAsync(session, judge, prepared.Suite, spec, items, judged, progress, cancellationToken)
                        .ConfigureAwait(false));
                    if (outcomes[^1].Failure is not null && outcomes[^1].Failure!.StartsWith("the judge's session", StringComparison.Ordinal))
                    {
                        break;
                    }
                }
            }
        }

        return outcomes;
    }

    private async Task<JudgeOutcome> JudgeSuiteAsync(
        IModelSession session, RunModel judge, Suite suite, JudgeSpec spec, IReadOnlyList<ItemRecord> items,
        HashSet<(string, string, string, string)> judged, IProgress<JudgeProgress>? progress, CancellationToken cancellationToken)
    {
        var suiteItems = suite.Items.ToDictionary(i => i.Id, StringComparer.Ordinal);
        var answers = items.Where(i => i.Key.Suite == suite.Name).ToDictionary(i => (i.Key.ModelId, i.Key.ItemId));
        var pending = items
            .Where(i => i.Key.Suite == suite.Name && suiteItems.ContainsKey(i.Key.ItemId))
            .Where(i => spec.Mode == JudgeMode.Pointwise || i.Key.ModelId != spec.AgainstModelId)
            .Where(i => !judged.Contains((i.Key.ModelId, i.Key.Suite, i.Key.ItemId, judge.Entry.Id)))
            .ToList();
        var done = 0;
        foreach (var record in pending)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var item = suiteItems[record.Key.ItemId];
            var question = PromptRenderer.Render(suite, item).PlainText;
            JudgementRecord judgement;
            try
            {
                judgement = spec.Mode switch
                {
                    JudgeMode.Pointwise => await PointwiseAsync(session, judge, spec, record, question, item.Target, cancellationToken).ConfigureAwait(false),
                    JudgeMode.MtBench => await MtBenchAsync(session, judge, spec, suite, item, record, cancellationToken).ConfigureAwait(false),
                    _ => await PairwiseAsync(session, judge, spec, record, question, item.Target,
                        answers.GetValueOrDefault((spec.AgainstModelId!, record.Key.ItemId)), cancellationToken).ConfigureAwait(false),
                };
            }
            catch (SessionLostException ex)
            {
                return new JudgeOutcome(judge.Entry.Id, suite.Name, done, $"the judge's session was lost: {ex.Message}");
            }

            await store.AppendJudgementAsync(judgement, cancellationToken).ConfigureAwait(false);
            judged.Add((record.Key.ModelId, record.Key.Suite, record.Key.ItemId, judge.Entry.Id));
            done++;
            progress?.Report(new JudgeProgress(judge.Entry.Id, suite.Name, done, pending.Count));
        }

        return new JudgeOutcome(judge.Entry.Id, suite.Name, done, null);
    }

    private async Task<JudgementRecord> PointwiseAsync(
        IModelSession session, RunModel judge, JudgeSpec spec, ItemRecord record, string question, string? reference, CancellationToken cancellationToken)
    {
        if (record.Status != ItemStatus.Scored)
        {
            return Failed(judge, spec, record, [], $"the candidate failed this item: {record.Error}");
        }

        var prompt = JudgePrompts.Pointwise(spec, question, reference, record.RawOutput);
        var (call, error) = await AskAsync(session, prompt, JudgePrompts.PointwiseGrammar(spec), "single", o => JudgePrompts.ParsePointwise(spec, o)?.ToString(CultureInfo.InvariantCulture), cancellationToken)
            .ConfigureAwait(false);
        if (error is not null || call.Parsed is null)
        {
            return Failed(judge, spec, record, [call], error ?? $"the judge's output '{call.RawOutput}' is not a score from {spec.ScaleMin} to {spec.ScaleMax}");
        }

        var score = int.Parse(call.Parsed, CultureInfo.InvariantCulture);
        return new JudgementRecord(record.Key.ModelId, record.Key.Suite, record.Key.ItemId, judge.Entry.Id, judge.FileSha256, spec,
            score, spec.Normalize(score), score >= spec.PassAt, [call], null, timeProvider.GetUtcNow());
    }

    // MT-bench: each turn graded on its own prompt (turn 2 sees the whole conversation); the item's score is the mean of
    // its turns' ratings, so the mean over items is MT-bench's mean over turns when every item has all its turns.
    private async Task<JudgementRecord> MtBenchAsync(
        IModelSession session, RunModel judge, JudgeSpec spec, Suite suite, SuiteItem item, ItemRecord record, CancellationToken cancellationToken)
    {
        if (record.Status != ItemStatus.Scored)
        {
            return Failed(judge, spec, record, [], $"the candidate failed this item: {record.Error}");
        }

        var prompts = spec.MtBench!;
        var turnCount = suite.Prompt.TurnCount;
        var answers = record.Turns is { } turns ? [.. turns.Select(t => t.Output.Trim())] : ImmutableArray.Create(record.RawOutput.Trim());
        if (turnCount > 2 || answers.Length != turnCount)
        {
            return Failed(judge, spec, record, [], string.Create(CultureInfo.InvariantCulture,
                $"MT-bench grades one or two turns; this item has {turnCount} turns and {answers.Length} recorded answers"));
        }

        var questions = Enumerable.Range(0, turnCount).Select(t => PromptRenderer.RenderTemplate(suite.Prompt.TurnTemplate(t), item)).ToImmutableArray();
        var category = item.Fields.TryGetValue(MtBenchFields.Category, out var c) && c.ValueKind == System.Text.Json.JsonValueKind.String ? c.GetString() : null;
        var references = ImmutableArray<string>.Empty;
        if (prompts.NeedsReference(category))
        {
            var found = Enumerable.Range(1, turnCount).Select(t => item.Fields.TryGetValue(MtBenchFields.Reference(t), out var r)
                && r.ValueKind == System.Text.Json.JsonValueKind.String ? r.GetString() : null).ToList();
            if (found.Any(r => r is null))
            {
                return Failed(judge, spec, record, [], $"category '{category}' is graded against reference answers, and the item lacks a field "
                    + string.Join(" or ", Enumerable.Range(1, turnCount).Select(MtBenchFields.Reference)));
            }

            references = [.. found.Select(r => r!)];
        }

        var conversation = new MtBenchConversation(questions, answers, references);
        var calls = ImmutableArray.CreateBuilder<JudgeCall>();
        var ratings = new List<double>();
        for (var turn = 1; turn <= turnCount; turn++)
        {
            var (prompt, rendered) = MtBenchJudge.Render(prompts, conversation, turn);
            var order = string.Create(CultureInfo.InvariantCulture, $"turn-{turn} {prompt.Name}");
            var (call, error) = await AskAsync(session, rendered, MtBenchJudge.Settings, order,
                o => MtBenchJudge.ParseRating(o)?.ToString(CultureInfo.InvariantCulture), cancellationToken).ConfigureAwait(false);
            calls.Add(call);
            if (error is not null || call.Parsed is null)
            {
                return Failed(judge, spec, record, calls.ToImmutable(), error ?? $"the judge's output for turn {turn} has no [[rating]] from 1 to 10");
            }

            ratings.Add(double.Parse(call.Parsed, CultureInfo.InvariantCulture));
        }

        var mean = ratings.Average();
        return new JudgementRecord(record.Key.ModelId, record.Key.Suite, record.Key.ItemId, judge.Entry.Id, judge.FileSha256, spec,
            mean, (mean - 1) / 9, mean >= spec.PassAt, calls.ToImmutable(), null, timeProvider.GetUtcNow());
    }

    // Both orders, so a judge that favours a position scores the two answers as a tie.
    private async Task<JudgementRecord> PairwiseAsync(
        IModelSession session, RunModel judge, JudgeSpec spec, ItemRecord record, string question, string? reference,
        ItemRecord? other, CancellationToken cancellationToken)
    {
        if (record.Status != ItemStatus.Scored)
        {
            return Failed(judge, spec, record, [], $"the candidate failed this item: {record.Error}");
        }

        if (other is not { Status: ItemStatus.Scored })
        {
            return Failed(judge, spec, record, [], $"'{spec.AgainstModelId}' has no answer to this item to compare with");
        }

        var (first, firstError) = await AskAsync(session, JudgePrompts.Pairwise(spec, question, reference, record.RawOutput, other.RawOutput),
            JudgePrompts.PairwiseGrammar, "candidate-first", JudgePrompts.ParsePairwise, cancellationToken).ConfigureAwait(false);
        var (second, secondError) = await AskAsync(session, JudgePrompts.Pairwise(spec, question, reference, other.RawOutput, record.RawOutput),
            JudgePrompts.PairwiseGrammar, "candidate-second", JudgePrompts.ParsePairwise, cancellationToken).ConfigureAwait(false);
        if (firstError is not null || secondError is not null || first.Parsed is not { } firstVerdict || second.Parsed is not { } secondVerdict)
        {
            return Failed(judge, spec, record, [first, second], firstError ?? secondError ?? "the judge's output is not A, B or tie");
        }

        var score = (Points(firstVerdict, candidate: "A") + Points(secondVerdict, candidate: "B")) / 2;
        return new JudgementRecord(record.Key.ModelId, record.Key.Suite, record.Key.ItemId, judge.Entry.Id, judge.FileSha256, spec,
            score, score, score > 0.5, [first, second], null, timeProvider.GetUtcNow());
    }

    private static double Points(string verdict, string candidate) => verdict == "tie" ? 0.5 : verdict == candidate ? 1 : 0;

    private static async Task<(JudgeCall Call, string? Error)> AskAsync(
        IModelSession session, RenderedPrompt prompt, string grammar, string order, Func<string, string?> parse, CancellationToken cancellationToken) =>
        await AskAsync(session, prompt, JudgePrompts.SettingsFor(grammar), order, parse, cancellationToken).ConfigureAwait(false);

    private static async Task<(JudgeCall Call, string? Error)> AskAsync(
        IModelSession session, RenderedPrompt prompt, GenerationSettings settings, string order, Func<string, string?> parse, CancellationToken cancellationToken)
    {
        try
        {
            var result = await session.GenerateAsync(new GenerationRequest(prompt, settings), cancellationToken).ConfigureAwait(false);
            return (new JudgeCall(order, result.PromptText, result.Text, parse(result.Text)), null);
        }
        catch (BackendException ex)
        {
            return (new JudgeCall(order, prompt.PlainText, "", null), ex.Message);
        }
    }

    private JudgementRecord Failed(RunModel judge, JudgeSpec spec, ItemRecord record, ImmutableArray<JudgeCall> calls, string error) =>
        new(record.Key.ModelId, record.Key.Suite, record.Key.ItemId, judge.Entry.Id, judge.FileSha256, spec, 0, 0, false, calls, error,
            timeProvider.GetUtcNow());
}
