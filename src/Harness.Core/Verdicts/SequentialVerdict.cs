using System.Collections.Immutable;
using Harness.Core.Contention;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;

namespace Harness.Core.Verdicts;

/// <summary>How a sequential verdict was reached, beside the numbers of <see cref="FixedSuiteVerdict"/>.</summary>
/// <param name="ItemsUsed">Items of the order the verdict rests on: up to the decision, or every item in order recorded so far.</param>
/// <param name="ItemsInSuite">Items the suite has.</param>
/// <param name="ItemsRecorded">Records of this (model, suite), used or not (items in flight when it decided are recorded too).</param>
/// <param name="OrderSeed">Seed of the item order (run.json).</param>
/// <param name="Decided">Whether the sequential tests decided; false: stopped undecided (suite exhausted or run interrupted).</param>
/// <param name="PassCapitalAbove">Capital of the bet that the pass rate is above the bar (decides at 1/alpha).</param>
/// <param name="PassCapitalBelow">Capital of the bet that it is below.</param>
/// <param name="LatencyCapitalWithin">Capital of the bet that P(latency &lt;= ceiling) exceeds 0.95; null without a latency ceiling.</param>
/// <param name="LatencyCapitalOver">Capital of the bet that it is below 0.95 (the p95 exceeds the ceiling).</param>
/// <param name="Threshold">1/alpha per side, the capital that decides.</param>
public sealed record SequentialEvidence(
    int ItemsUsed,
    int ItemsInSuite,
    int ItemsRecorded,
    int OrderSeed,
    bool Decided,
    double PassCapitalAbove,
    double PassCapitalBelow,
    double? LatencyCapitalWithin,
    double? LatencyCapitalOver,
    double Threshold);

/// <summary>
/// The sequential state of one (model, suite), fed item records in the suite's recorded order. Immutable.
/// </summary>
/// <remarks>
/// The pass rate is tested by <see cref="TwoSidedBettingTest"/> against the bar. A p95 latency ceiling is a rate too:
/// the p95 is within the ceiling exactly when P(latency &lt;= ceiling) &gt;= 0.95, so the indicator (latency &lt;=
/// ceiling) of each scored item is tested against 0.95 the same way. The state is decided when a test shows the model
/// short (pass rate or latency), or when every test shows it clear. Energy takes no part in stopping (see
/// <see cref="SequentialVerdictCalculator"/>). A failed item that is the model's fault counts as a fail; one that is
/// not (the prompt does not fit, a scorer broke) says nothing about the model and feeds no test.
/// </remarks>
public sealed record SequentialState(
    Requirement Requirement, int ItemsUsed, int Passed, TwoSidedBettingTest PassRate, TwoSidedBettingTest? Latency)
{
    /// <summary>The latency indicator's bar: the p95 is within the ceiling iff P(latency &lt;= ceiling) &gt;= 0.95.</summary>
    public const double LatencyQuantile = 0.95;

    /// <summary>Nothing seen yet.</summary>
    public static SequentialState Start(Requirement requirement)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        return new SequentialState(
            requirement, 0, 0,
            TwoSidedBettingTest.Start(requirement.MinPassRate, requirement.Confidence),
            requirement.MaxP95Latency is null ? null : TwoSidedBettingTest.Start(LatencyQuantile, requirement.Confidence));
    }

    /// <summary>The pass rate or the latency is shown short of its bar.</summary>
    public bool ShownShort => PassRate.Decision == BetDirection.Below || Latency?.Decision == BetDirection.Below;

    /// <summary>The pass rate and the latency (if it has a ceiling) are both shown clear.</summary>
    public bool ShownClear => PassRate.Decision == BetDirection.Above && (Latency is null || Latency.Value.Decision == BetDirection.Above);

    /// <summary>No more items are needed: the verdict is settled either way.</summary>
    public bool Decided => ShownShort || ShownClear;

    /// <summary>The state after one more item in order; a decided state ignores further items.</summary>
    public SequentialState Observe(ItemRecord item)
    {
        ArgumentNullException.ThrowIfNull(item);
        if (Decided)
        {
            return this;
        }

        if (!Coverage.IsAnswer(item))
        {
            return this with { ItemsUsed = ItemsUsed + 1 };
        }

        bool passed = VerdictCalculator.IsPass(item);
        var latency = Latency;
        // Only answered items have a latency to test, as in the fixed-n rule's p95.
        if (latency is { } test && item.Status == ItemStatus.Scored && Requirement.MaxP95Latency is { } ceiling)
        {
            latency = test.Observe(item.Metrics.Timings.Total <= ceiling);
        }

        return this with
        {
            ItemsUsed = ItemsUsed + 1,
            Passed = Passed + (passed ? 1 : 0),
            PassRate = PassRate.Observe(passed),
            Latency = latency,
        };
    }
}

/// <summary>
/// Sequential verdicts (docs/statistics.md): items in a seeded random order, anytime-valid betting tests updated after
/// each, stop as soon as decided. Error at most alpha/2 per side however many items are added or when the run stops.
/// </summary>
public static class SequentialVerdictCalculator
{
    /// <summary>
    /// Replays the records of one (model, suite) along <paramref name="order"/> until the state is decided or the next
    /// item in order has no record (a run still going or interrupted: what follows a gap waits for it, so the replay
    /// always sees the items in the recorded order). Deterministic: same records, same state.
    /// </summary>
    public static SequentialState Replay(Requirement requirement, ImmutableArray<string> order, IReadOnlyDictionary<string, ItemRecord> recordsById)
    {
        ArgumentNullException.ThrowIfNull(recordsById);
        var state = SequentialState.Start(requirement);
        foreach (var id in order)
        {
            if (state.Decided || !recordsById.TryGetValue(id, out var record))
            {
                break;
            }

            state = state.Observe(record);
        }

        return state;
    }

    /// <summary>
    /// Decides one (model, fixed suite) by the sequential rule from its records, replayed in <paramref name="order"/>.
    /// The energy ceiling takes no part in stopping: it is checked once, by the fixed-n rule, over the items used.
    /// </summary>
    public static FixedSuiteVerdict Decide(
        string modelId,
        string suite,
        Requirement requirement,
        ImmutableArray<string> order,
        int orderSeed,
        IReadOnlyCollection<ItemRecord> items,
        BusyMachine? busyMachine = null)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        ArgumentNullException.ThrowIfNull(items);
        VerdictCalculator.CheckBelongs(modelId, suite, items);
        var byId = items.ToDictionary(i => i.Key.ItemId, StringComparer.Ordinal);
        var state = Replay(requirement, order, byId);
        var used = order.Take(state.ItemsUsed).Select(id => byId[id]).ToArray();

        double threshold = 1.0 / state.PassRate.Above.Alpha;
        var evidence = new SequentialEvidence(
            state.ItemsUsed, order.Length, items.Count, orderSeed, state.Decided,
            state.PassRate.Above.Capital, state.PassRate.Below.Capital,
            state.Latency?.Above.Capital, state.Latency?.Below.Capital, threshold);

        EnergySummary? energySummary = EnergySummary.Summarize(used, requirement.Confidence);
        double? joulesPerItem = energySummary?.JoulesPerItem.Mean;
        // Items the rule never needed are not missing: coverage counts the items used. An errored one among them still
        // means the suite was not really evaluated, exactly as in the fixed-n rule.
        var coverage = Coverage.Of(used, plannedItems: null);
        if (used.Length == 0)
        {
            return new FixedSuiteVerdict(
                modelId, suite, requirement, VerdictKind.Undecided, 0, 0, null, null, null, null, joulesPerItem,
                ["no items recorded in the sequential order yet"], coverage, Sequential: evidence);
        }

        int n = used.Length;
        var latencies = VerdictCalculator.ScoredLatencies(used);
        TimeSpan? p50 = latencies.IsEmpty ? null : Estimators.Quantile(latencies, 0.50);
        TimeSpan? p95 = latencies.IsEmpty ? null : Estimators.Quantile(latencies, 0.95);
        double flexible = (double)used.Count(VerdictCalculator.IsFlexiblePass) / n;
        var outcomes = used
            .Where(Coverage.IsAnswer)
            .Select(VerdictCalculator.IsPass)
            .ToArray();
        ProportionEstimate? rate = outcomes.Length == 0
            ? null
            : new ProportionEstimate(state.Passed, outcomes.Length, (double)state.Passed / outcomes.Length,
                BettingConfidenceSequence.Interval(outcomes, requirement.Confidence), requirement.Confidence);

        string bar = VerdictCalculator.Percent(requirement.MinPassRate);
        string of = VerdictCalculator.Inv($"{state.ItemsUsed} of {order.Length} items");
        var reasons = ImmutableArray.CreateBuilder<string>();
        reasons.AddRange(VerdictCalculator.ErrorReasons(coverage));
        string Capital(double value) => VerdictCalculator.Inv($"{value:0.##}");
        string limit = Capital(threshold);

        reasons.Add(state.PassRate.Decision switch
        {
            BetDirection.Above => VerdictCalculator.Inv(
                $"pass rate {state.Passed}/{outcomes.Length}: the sequential test shows it above the bar {bar} after {state.PassRate.DecidedAfter} scored items (capital {Capital(state.PassRate.Above.Capital)} >= {limit})"),
            BetDirection.Below => VerdictCalculator.Inv(
                $"pass rate {state.Passed}/{outcomes.Length}: the sequential test shows it below the bar {bar} after {state.PassRate.DecidedAfter} scored items (capital {Capital(state.PassRate.Below.Capital)} >= {limit})"),
            _ => VerdictCalculator.Inv(
                $"pass rate {state.Passed}/{outcomes.Length}: the sequential test has not decided against the bar {bar} (capital above {Capital(state.PassRate.Above.Capital)}, below {Capital(state.PassRate.Below.Capital)}, decides at {limit})"),
        });

        if (requirement.MaxP95Latency is { } ceiling && state.Latency is { } latency)
        {
            string ms = VerdictCalculator.Ms(ceiling);
            string measured = p95 is { } value ? VerdictCalculator.Inv($"p95 {VerdictCalculator.Ms(value)}") : "p95 not measured";
            reasons.Add(latency.Decision switch
            {
                BetDirection.Above => VerdictCalculator.Inv($"{measured}: the sequential test shows more than 95% of items within the ceiling {ms}"),
                BetDirection.Below => VerdictCalculator.Inv($"{measured}: the sequential test shows fewer than 95% of items within the ceiling {ms}"),
                _ => VerdictCalculator.Inv($"{measured}: the sequential test has not decided the ceiling {ms} (capital within {Capital(latency.Above.Capital)}, over {Capital(latency.Below.Capital)})"),
            });
        }

        // On a busy machine a latency shown short may be the other work's doing, and an energy figure errs either way:
        // the same rule as the fixed-n verdict (VerdictCalculator.Decide).
        bool latencyShort = state.Latency?.Decision == BetDirection.Below;
        if (latencyShort && busyMachine is not null)
        {
            latencyShort = false;
            reasons[^1] = $"{reasons[^1]}: {busyMachine.Undecided}";
        }

        var energy = VerdictCalculator.CheckEnergy(requirement.MaxJoulesPerItem, energySummary, busyMachine);

        if (energy.Reason is not null)
        {
            reasons.Add(energy.Reason + " (fixed-n check over the items used)");
        }

        VerdictKind kind;
        if (coverage.Errored > 0)
        {
            kind = VerdictKind.Error;
        }
        else if (state.PassRate.Decision == BetDirection.Below || latencyShort || energy.Broken)
        {
            kind = VerdictKind.Insufficient;
        }
        else if (state.ShownClear && energy.Holds)
        {
            kind = VerdictKind.Sufficient;
        }
        else
        {
            kind = VerdictKind.Undecided;
        }

        reasons.Add(state.Decided
            ? VerdictCalculator.Inv($"decided after {of} (sequential rule)")
            : state.ItemsUsed < order.Length
                ? VerdictCalculator.Inv($"undecided after {of}: the run has not reached the rest (resume it)")
                : VerdictCalculator.Inv($"undecided after all {order.Length} items: the rate is too close to the bar for this suite to decide"));

        return new FixedSuiteVerdict(
            modelId, suite, requirement, kind, n, state.Passed, rate, flexible, p50, p95, joulesPerItem, reasons.ToImmutable(),
            coverage, Sequential: evidence);
    }
}
