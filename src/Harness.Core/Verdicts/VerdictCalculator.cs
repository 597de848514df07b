using System.Collections.Immutable;
using System.Globalization;
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
    /// must all belong to that pair.
    /// </summary>
    public static FixedSuiteVerdict Decide(
        string modelId,
        string suite,
        Requirement requirement,
        IReadOnlyCollection<ItemRecord> items)
    {
        ArgumentNullException.ThrowIfNull(requirement);
        ArgumentNullException.ThrowIfNull(items);
        CheckBelongs(modelId, suite, items);
        EnergySummary? energySummary = EnergySummary.Summarize(items, requirement.Confidence);
        double? joulesPerItem = energySummary?.JoulesPerItem.Mean;

        int n = items.Count;
        int passed = items.Count(IsPass);
        ImmutableArray<TimeSpan> latencies = ScoredLatencies(items);
        TimeSpan? p50 = latencies.IsEmpty ? null : Estimators.Quantile(latencies, 0.50);
        TimeSpan? p95 = latencies.IsEmpty ? null : Estimators.Quantile(latencies, 0.95);

        if (n == 0)
        {
            return new FixedSuiteVerdict(
                modelId, suite, requirement, VerdictKind.Undecided, 0, 0, null, null, null, null, joulesPerItem,
                ["no items recorded"]);
        }

        ProportionEstimate rate = Estimators.Wilson(passed, n, requirement.Confidence);
        double flexible = (double)items.Count(IsFlexiblePass) / n;
        string interval = Inv($"{Percent(rate.Interval.Lower)}–{Percent(rate.Interval.Upper)}");
        string confidence = Percent(requirement.Confidence, 0);
        string bar = Percent(requirement.MinPassRate);

        var reasons = ImmutableArray.CreateBuilder<string>();
        bool broken = false;

        VerdictKind rateKind = FixedNPassRate(rate, requirement.MinPassRate);
        bool rateBelow = rateKind == VerdictKind.Insufficient;
        bool rateAbove = rateKind == VerdictKind.Sufficient;
        if (rateBelow)
        {
            broken = true;
            reasons.Add(Inv($"pass rate {passed}/{n}: the {confidence} upper bound {Percent(rate.Interval.Upper)} is below the bar {bar}"));
        }
        else if (rateAbove)
        {
            reasons.Add(Inv($"pass rate {passed}/{n}: the {confidence} lower bound {Percent(rate.Interval.Lower)} clears the bar {bar}"));
        }
        else
        {
            reasons.Add(Inv($"pass rate {passed}/{n}: the {confidence} interval {interval} contains the bar {bar}"));
        }

        bool latencyHolds = true;
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
                broken = true;
                reasons.Add(Inv($"p95 latency {Ms(p95.Value)} exceeds the ceiling {Ms(maxP95)}"));
            }
            else
            {
                reasons.Add(Inv($"p95 latency {Ms(p95.Value)} is within the ceiling {Ms(maxP95)}"));
            }
        }

        EnergyCheck energy = CheckEnergy(requirement.MaxJoulesPerItem, energySummary);
        if (energy.Reason is not null)
        {
            reasons.Add(energy.Reason);
        }

        broken |= energy.Broken;

        VerdictKind kind;
        if (broken)
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
            if (!rateAbove)
            {
                // No "N more items would decide": followed, it decides only about half the time, and testing again
                // after adding items spends the error twice. The sequential rule is the honest way to add items.
                reasons.Add(UndecidedAdvice);
            }
        }

        return new FixedSuiteVerdict(
            modelId, suite, requirement, kind, n, passed, rate, flexible, p50, p95, joulesPerItem, reasons.ToImmutable());
    }

    /// <summary>
    /// The fixed-n rule on the pass rate alone: sufficient when the Wilson lower bound clears the bar, insufficient when
    /// the upper bound is below it, otherwise undecided. (The simulation in tests/Harness.Simulations calls this.)
    /// </summary>
    public static VerdictKind FixedNPassRate(ProportionEstimate rate, double bar)
    {
        ArgumentNullException.ThrowIfNull(rate);
        return rate.Interval.Upper < bar ? VerdictKind.Insufficient
            : rate.Interval.Lower >= bar ? VerdictKind.Sufficient
            : VerdictKind.Undecided;
    }

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
            .Select(g => (ModelId: g.Key, Score: Estimators.MeanWithTInterval(g.Select(PrimaryValue).ToArray(), OpenSuiteConfidence)))
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

    private static bool IsFlexiblePass(ItemRecord item) =>
        item.Status == ItemStatus.Scored && !item.Scores.IsDefaultOrEmpty && item.Scores[0].FlexibleValue >= 1.0;

    /// <summary>The primary (first) scorer's value; failed items score 0.</summary>
    public static double PrimaryValue(ItemRecord item) =>
        item.Status == ItemStatus.Scored && !item.Scores.IsDefaultOrEmpty ? item.Scores[0].Value : 0.0;

    /// <summary>Latency of answered items; a failed item's timings describe the failure, not an answer.</summary>
    internal static ImmutableArray<TimeSpan> ScoredLatencies(IEnumerable<ItemRecord> items) =>
        items.Where(i => i.Status == ItemStatus.Scored).Select(i => i.Metrics.Timings.Total).ToImmutableArray();

    // A ceiling is met only when the whole interval (spread over items, widened by the meter's bound) lies under it,
    // and broken only when it lies wholly above; an estimate proves neither, and a reading missing from some items
    // leaves those items unchecked.
    internal static EnergyCheck CheckEnergy(double? maxJoulesPerItem, EnergySummary? energy)
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
