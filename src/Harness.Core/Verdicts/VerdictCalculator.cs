using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Contention;
using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Core.Statistics;
using Harness.Core.Suites;

namespace Harness.Core.Verdicts;

/// <summary>Turns stored item records into verdicts (fixed suites) and rankings (open suites). Pure.</summary>
public static class VerdictCalculator
{
    /// <summary>Confidence of the mean-score interval on open suites, which carry no requirement of their own.</summary>
    public const double OpenSuiteConfidence = 0.95;

    /// <summary>
    /// Decides one (model, fixed suite) from its item records, energy readings included. <paramref name="items"/>
    /// must all belong to that pair. <paramref name="plannedItems"/> is the number of items the suite has; items it
    /// has but the records lack are missing (see <see cref="Coverage"/>); null takes the records as the whole suite.
    /// With <paramref name="busyMachine"/> (the model's timings were taken on a busy machine,
    /// <see cref="ContentionThresholds.Check"/>) a latency breach and any energy ceiling are left undecided.
    /// </summary>
    /// <remarks>
    /// Only answers (scored items and the model's own failures) enter the pass rate. Any item that failed for a reason
    /// that is not the model's answer makes the verdict <see cref="VerdictKind.Error"/>. With m missing items out of
    /// N = answers + m and x passes, the pass rate is <i>sufficient</i> only when the Wilson lower bound of x/N (every
    /// missing item counted as failed) clears the bar, and <i>insufficient</i> when the Wilson upper bound of (x+m)/N
    /// (every missing item counted as passed) is below it; with nothing missing both are the usual interval of x/n.
    /// </remarks>
    public static FixedSuiteVerdict Decide(
        string modelId,
        string suite,
        Requirement requirement,
        IReadOnlyCollection<ItemRecord> items,
        int? plannedItems = null,
        BusyMachine? busyMachine = null)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        ArgumentNullException.ThrowIfNull(items);
        CheckBelongs(modelId, suite, items);
        EnergySummary? energySummary = EnergySummary.Summarize(items, requirement.Confidence);
        double? joulesPerItem = energySummary?.JoulesPerItem.Mean;
        Coverage coverage = Coverage.Of(items, plannedItems);

        ItemRecord[] answers = [.. items.Where(Coverage.IsAnswer)];
        int n = answers.Length;
        int passed = answers.Count(IsPass);
        int missing = coverage.Missing;
        ImmutableArray<TimeSpan> latencies = ScoredLatencies(items);
        TimeSpan? p50 = latencies.IsEmpty ? null : Estimators.Quantile(latencies, 0.50);
        TimeSpan? p95 = latencies.IsEmpty ? null : Estimators.Quantile(latencies, 0.95);

        var reasons = ImmutableArray.CreateBuilder<string>();
        reasons.AddRange(ErrorReasons(coverage));
        if (n == 0)
        {
            reasons.Add(coverage.Errored > 0
                ? "no item was answered"
                : missing > 0 ? Inv($"no item recorded: {missing} of {coverage.Total} items missing") : "no items recorded");
            return new FixedSuiteVerdict(
                modelId, suite, requirement, coverage.Errored > 0 ? VerdictKind.Error : VerdictKind.Undecided, 0, 0, null, null,
                null, null, joulesPerItem, reasons.ToImmutable(), coverage);
        }

        ProportionEstimate rate = Estimators.Wilson(passed, n, requirement.Confidence);
        double flexible = (double)answers.Count(IsFlexiblePass) / n;
        // "the 95% lower bound" read as a one-sided 95% bound; it is one end of the two-sided interval (97.5% one-sided).
        string confidence = Inv($"two-sided {Percent(requirement.Confidence, 0)} Wilson");
        string bar = Percent(requirement.MinPassRate);

        // The worst case (missing items failed) decides "sufficient", the best case (missing items passed) "insufficient".
        Interval? bounds = missing == 0
            ? null
            : new Interval(
                Estimators.Wilson(passed, n + missing, requirement.Confidence).Interval.Lower,
                Estimators.Wilson(passed + missing, n + missing, requirement.Confidence).Interval.Upper);
        double lower = bounds?.Lower ?? rate.Interval.Lower;
        double upper = bounds?.Upper ?? rate.Interval.Upper;
        bool broken = false;
        VerdictKind rateKind = PassRateKind(lower, upper, requirement.MinPassRate);
        bool rateBelow = rateKind == VerdictKind.Insufficient;
        bool rateAbove = rateKind == VerdictKind.Sufficient;
        if (missing == 0)
        {
            string interval = Inv($"{Percent(rate.Interval.Lower)}–{Percent(rate.Interval.Upper)}");
            reasons.Add(rateBelow
                ? Inv($"pass rate {passed}/{n}: the {confidence} upper bound {Percent(upper)} is below the bar {bar}")
                : rateAbove
                    ? Inv($"pass rate {passed}/{n}: the {confidence} lower bound {Percent(lower)} clears the bar {bar}")
                    : Inv($"pass rate {passed}/{n}: the {confidence} interval {interval} contains the bar {bar}"));
        }
        else
        {
            string observed = Inv($"pass rate {passed}/{n} with {missing} of {coverage.Total} items missing");
            reasons.Add(rateBelow
                ? Inv($"{observed}: even counting them as passes, the {confidence} upper bound {Percent(upper)} is below the bar {bar}")
                : rateAbove
                    ? Inv($"{observed}: counting them as failures, the {confidence} lower bound {Percent(lower)} clears the bar {bar}")
                    : Inv($"{observed}: the {confidence} bounds {Percent(lower)} (missing counted as failures) to {Percent(upper)} (as passes) contain the bar {bar}"));
        }

        broken |= rateBelow;

        bool latencyHolds = true;
        bool latencyBroken = false;
        if (requirement.MaxP95Latency is { } maxP95)
        {
            if (p95 is null)
            {
                latencyHolds = false;
                reasons.Add("p95 latency not measured: no item was scored");
            }
            else if (p95 > maxP95)
            {
                latencyHolds = false;
                latencyBroken = true;
                reasons.Add(Inv($"p95 latency {Ms(p95.Value)} exceeds the ceiling {Ms(maxP95)}"));
            }
            else
            {
                reasons.Add(Inv($"p95 latency {Ms(p95.Value)} is within the ceiling {Ms(maxP95)}"));
            }
        }

        if (latencyBroken && busyMachine is not null)
        {
            // Contention only adds time: a p95 within the ceiling stands, a breach may be the other work's doing.
            latencyBroken = false;
            reasons[^1] = $"{reasons[^1]}: {busyMachine.Undecided}";
        }

        broken |= latencyBroken;

        EnergyCheck energy = CheckEnergy(requirement.MaxJoulesPerItem, energySummary, busyMachine);

        if (energy.Reason is not null)
        {
            reasons.Add(energy.Reason);
        }

        broken |= energy.Broken;

        VerdictKind kind;
        if (coverage.Errored > 0)
        {
            // Errored items are not answers: until their cause is fixed the suite was not really evaluated.
            kind = VerdictKind.Error;
        }
        else if (broken)
        {
            kind = VerdictKind.Insufficient;
        }
        else if (rateAbove && latencyHolds && energy.Holds)
        {
            kind = VerdictKind.Sufficient;
        }
        else
        {
            kind = VerdictKind.Undecided;
            if (!rateAbove && missing > 0)
            {
                reasons.Add(Inv($"{missing} items were never recorded (crashed, cancelled or not reached): `harness run --resume` evaluates them"));
            }
            else if (!rateAbove)
            {
                // No "N more items would decide": followed, it decides only about half the time, and testing again
                // after adding items spends the error twice. The sequential rule is the honest way to add items.
                reasons.Add(UndecidedAdvice);
            }
        }

        return new FixedSuiteVerdict(
            modelId, suite, requirement, kind, n, passed, rate, flexible, p50, p95, joulesPerItem,
            reasons.ToImmutable(), coverage, bounds);
    }

    /// <summary>
    /// One sentence per group of errored items: "12 of 300 items not evaluated (contextOverflow), e.g. item 007: …".
    /// Empty when nothing errored.
    /// </summary>
    public static ImmutableArray<string> ErrorReasons(Coverage coverage)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        return [.. coverage.Errors.Select(e =>
        {
            string kind = e.Kind.ToString();
            kind = char.ToLowerInvariant(kind[0]) + kind[1..];
            return Inv($"{e.Count} of {coverage.Total} items not evaluated ({kind}, not the model's answer), e.g. item {e.ExampleItemId}: {e.ExampleError}");
        })];
    }

    /// <summary>
    /// The fixed-n rule on the pass rate alone: sufficient when the Wilson lower bound clears the bar, insufficient when
    /// the upper bound is below it, otherwise undecided. (The simulation in tests/Harness.Simulations calls this.)
    /// </summary>
    public static VerdictKind FixedNPassRate(ProportionEstimate rate, double bar)
    {
        ArgumentNullException.ThrowIfNull(rate);
        return PassRateKind(rate.Interval.Lower, rate.Interval.Upper, bar);
    }

    private static VerdictKind PassRateKind(double lower, double upper, double bar) =>
        upper < bar ? VerdictKind.Insufficient
        : lower >= bar ? VerdictKind.Sufficient
        : VerdictKind.Undecided;

    /// <summary>What an undecided fixed-n pass rate tells the user to do.</summary>
    public const string UndecidedAdvice =
        "undecided: the interval contains the bar; run with --until-decided for a verdict whose error holds however many items are added";

    /// <summary>
    /// Ranks models on an open suite by mean primary score (failed items score 0). Models without items are left out.
    /// </summary>
    public static ImmutableArray<OpenSuiteStanding> Rank(string suite, IReadOnlyCollection<ItemRecord> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        var scores = items
            .Where(i => i.Key.Suite == suite)
            .GroupBy(i => i.Key.ModelId, StringComparer.Ordinal)
            .Select(g => (ModelId: g.Key, Score: Estimators.MeanWithTInterval(g.Select(PrimaryValue).ToArray(), OpenSuiteConfidence, 0, 1)))
            .OrderByDescending(s => s.Score.Mean)
            .ThenBy(s => s.ModelId, StringComparer.Ordinal)
            .ToArray();

        var standings = ImmutableArray.CreateBuilder<OpenSuiteStanding>(scores.Length);
        for (int i = 0; i < scores.Length; i++)
        {
            // Competition ranking: a tie shares the better rank and the next model skips past it.
            int rank = i > 0 && scores[i].Score.Mean == scores[i - 1].Score.Mean ? standings[i - 1].Rank : i + 1;
            standings.Add(new OpenSuiteStanding(scores[i].ModelId, suite, rank, scores[i].Score));
        }

        return standings.MoveToImmutable();
    }

    /// <summary>Failed items count as not passed whatever their flag says.</summary>
    public static bool IsPass(ItemRecord item) => item.Status == ItemStatus.Scored && item.Passed;

    internal static bool IsFlexiblePass(ItemRecord item) =>
        item.Status == ItemStatus.Scored && !item.Scores.IsDefaultOrEmpty && item.Scores[0].FlexibleValue >= 1.0;

    /// <summary>The primary (first) scorer's value; failed items score 0.</summary>
    public static double PrimaryValue(ItemRecord item) =>
        item.Status == ItemStatus.Scored && !item.Scores.IsDefaultOrEmpty ? item.Scores[0].Value : 0.0;

    /// <summary>Latency of answered items; a failed item's timings describe the failure, not an answer.</summary>
    internal static ImmutableArray<TimeSpan> ScoredLatencies(IEnumerable<ItemRecord> items) =>
        items.Where(i => i.Status == ItemStatus.Scored).Select(i => i.Metrics.Timings.Total).ToImmutableArray();

    // On a busy machine neither a pass nor a breach stands: meters read the whole machine and the idle baseline may
    // have been taken while others ran, so the error goes either way.
    internal static EnergyCheck CheckEnergy(double? maxJoulesPerItem, EnergySummary? energy, BusyMachine? busyMachine)
    {
        EnergyCheck check = CheckEnergy(maxJoulesPerItem, energy);
        return busyMachine is not null && maxJoulesPerItem is not null && (check.Holds || check.Broken)
            ? new EnergyCheck(false, false, $"{check.Reason}: {busyMachine.Undecided}")
            : check;
    }

    // A ceiling is met only when the whole interval (spread over items, widened by the meter's bound) lies under it,
    // and broken only when it lies wholly above; an estimate proves neither, and a reading missing from some items
    // leaves those items unchecked.
    private static EnergyCheck CheckEnergy(double? maxJoulesPerItem, EnergySummary? energy)
    {
        if (maxJoulesPerItem is not { } ceiling)
        {
            return new EnergyCheck(Holds: true, Broken: false, Reason: null);
        }

        if (energy is null)
        {
            return new EnergyCheck(false, false, Inv($"energy not measured: the ceiling of {ceiling:0.###} J/item cannot be checked"));
        }

        var mean = energy.JoulesPerItem.Mean;
        if (energy.Quality == EnergyQuality.Estimated)
        {
            return new EnergyCheck(false, false,
                Inv($"energy only estimated ({mean:0.###} J/item, {energy.Scope}): the ceiling of {ceiling:0.###} J/item needs a measured meter"));
        }

        if (energy.ItemsWithReading < energy.Items)
        {
            return new EnergyCheck(false, false,
                Inv($"energy measured for {energy.ItemsWithReading} of {energy.Items} items: the ceiling of {ceiling:0.###} J/item cannot be checked for the rest"));
        }

        var net = energy.NetOfBaseline ? "net of idle" : "gross";
        if (energy.CheckedInterval is not { } interval)
        {
            return new EnergyCheck(false, false, Inv($"energy {mean:0.###} J/item ({net}) from one item has no interval to check the ceiling {ceiling:0.###} J/item"));
        }

        var range = Inv($"{mean:0.###} J/item ({net}, {interval.Lower:0.###}–{interval.Upper:0.###} with the meter's bound, source {energy.Source})");
        if (interval.Upper <= ceiling)
        {
            return new EnergyCheck(true, false, Inv($"energy {range} is within the ceiling {ceiling:0.###} J/item"));
        }

        return interval.Lower > ceiling
            ? new EnergyCheck(false, true, Inv($"energy {range} exceeds the ceiling {ceiling:0.###} J/item"))
            : new EnergyCheck(false, false, Inv($"energy {range} straddles the ceiling {ceiling:0.###} J/item: more items or a finer meter would decide"));
    }

    internal static void CheckBelongs(string modelId, string suite, IEnumerable<ItemRecord> items)
    {
        foreach (ItemRecord item in items)
        {
            if (item.Key.ModelId != modelId || item.Key.Suite != suite)
            {
                throw new ArgumentException(
                    $"Item {item.Key} does not belong to model '{modelId}' on suite '{suite}'.", nameof(items));
            }
        }
    }

    internal static string Percent(double value, int decimals = 1) =>
        (value * 100).ToString(decimals == 0 ? "0" : "0.0", CultureInfo.InvariantCulture) + "%";

    internal static string Ms(TimeSpan value) => value.TotalMilliseconds.ToString("0.#", CultureInfo.InvariantCulture) + " ms";

    internal static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    internal readonly record struct EnergyCheck(bool Holds, bool Broken, string? Reason);
}
