using System.Collections.Immutable;
using Harness.Core.Runs;
using Harness.Core.Statistics;

namespace Harness.Core.Energy;

/// <summary>
/// The energy of one (model, suite): per item, per generated token and per correct answer, with the source and both
/// kinds of uncertainty (the spread over items, and the meter's own bound). Built from item records only.
/// </summary>
/// <param name="Items">Items recorded, scored or failed.</param>
/// <param name="ItemsWithReading">Items whose record carries a reading of <paramref name="Quality"/>; the figures are over these.</param>
/// <param name="NetOfBaseline">Every reading had the idle baseline subtracted.</param>
/// <param name="JoulesPerItem">Mean attributed joules per item (net when a baseline was taken) with a Student-t interval.</param>
/// <param name="MeterUncertaintyJoulesPerItem">Mean of the per-item counter bounds; null for an estimate.</param>
/// <param name="TotalJoules">Sum over the items with a reading.</param>
/// <param name="JoulesPerGeneratedToken">Whole-item joules over generated tokens; null when nothing was generated.</param>
/// <param name="GenerationJoulesPerToken">Generation-phase joules over the tokens of the items whose phases were resolved.</param>
/// <param name="PromptJoulesPerItem">The part of <paramref name="JoulesPerItem"/>'s mean spent on prompt processing, in the
/// proportion measured over the items whose phases were resolved; with <paramref name="GenerationJoulesPerItem"/> it
/// adds up to that mean.</param>
/// <param name="GenerationJoulesPerItem">The rest of the mean: generation.</param>
/// <param name="ItemsSplit">Items whose window was split into prompt and generation.</param>
/// <param name="JoulesPerCorrectAnswer">All joules over the primary scorer's passes; null when nothing passed.</param>
public sealed record EnergySummary(
    string Source,
    EnergyQuality Quality,
    string Scope,
    int Items,
    int ItemsWithReading,
    bool NetOfBaseline,
    MeanEstimate JoulesPerItem,
    double? MeterUncertaintyJoulesPerItem,
    double TotalJoules,
    double? JoulesPerGeneratedToken,
    double? GenerationJoulesPerToken,
    double? PromptJoulesPerItem,
    double? GenerationJoulesPerItem,
    int ItemsSplit,
    double? JoulesPerCorrectAnswer,
    ImmutableArray<EnergyAttribution> Attributions)
{
    /// <summary>
    /// The interval a ceiling is checked against: the Student-t interval of the mean, widened by the meter's bound.
    /// Null for a single item (no spread to estimate).
    /// Energy is never negative, so neither is its lower end.
    /// </summary>
    public Interval? CheckedInterval =>
        JoulesPerItem.Interval is { } t
            ? new Interval(Math.Max(0, t.Lower - (MeterUncertaintyJoulesPerItem ?? 0)), t.Upper + (MeterUncertaintyJoulesPerItem ?? 0))
            : null;

    /// <summary>
    /// Summarizes the readings of <paramref name="items"/> (all of one model and suite). Measured readings win over
    /// estimated ones when both are present (a resume on another machine); the two are never averaged together.
    /// Null when no item has a reading.
    /// </summary>
    public static EnergySummary? Summarize(IReadOnlyCollection<ItemRecord> items, double confidence)
    {
        ArgumentNullException.ThrowIfNull(items);
        var withReading = items.Where(i => i.Energy is not null).ToList();
        if (withReading.Count == 0)
        {
            return null;
        }

        var quality = withReading.Any(i => i.Energy!.Quality == EnergyQuality.Measured) ? EnergyQuality.Measured : EnergyQuality.Estimated;
        var used = withReading.Where(i => i.Energy!.Quality == quality).ToList();
        var readings = used.Select(i => i.Energy!).ToList();
        var joules = readings.Select(r => r.AttributedJoules).ToList();
        var total = joules.Sum();
        var generated = used.Sum(i => (long)i.Metrics.GeneratedTokens);
        var split = used.Where(i => i.Energy!.PromptJoules is not null && i.Energy.GenerationJoules is not null).ToList();
        var splitTokens = split.Sum(i => (long)i.Metrics.GeneratedTokens);
        var (promptPerItem, generationPerItem) = SplitOfMean(joules.Average(), split.Select(i => i.Energy!).ToList());
        var passed = used.Count(i => i.Passed);
        return new EnergySummary(
            string.Join(", ", readings.Select(r => r.Source).Distinct(StringComparer.Ordinal)),
            quality,
            string.Join("; ", readings.Select(r => r.Scope).Distinct(StringComparer.Ordinal)),
            items.Count,
            used.Count,
            readings.All(r => r.NetJoules is not null),
            // Single items net of the idle baseline can come out below zero (noise); the mean energy the work adds cannot.
            Estimators.MeanWithTInterval(joules, confidence, 0, double.PositiveInfinity),
            quality == EnergyQuality.Measured ? readings.Average(r => r.UncertaintyJoules ?? 0) : null,
            total,
            generated > 0 ? total / generated : null,
            splitTokens > 0 ? split.Sum(i => i.Energy!.GenerationJoules!.Value) / splitTokens : null,
            promptPerItem,
            generationPerItem,
            split.Count,
            passed > 0 ? total / passed : null,
            [.. readings.Select(r => r.Attribution).Distinct().Order()]);
    }

    /// <summary>
    /// The J/item mean cut into prompt and generation in the proportion the split items measured. Only some items are
    /// split (both phases must outlast the meter's resolution, so those are the long ones): the means over them alone
    /// described other items than the J/item mean and could add up to more than it. The parts here always add up to
    /// the mean. Null when no item was split or the split items' net joules are not positive (no proportion to take).
    /// </summary>
    internal static (double? Prompt, double? Generation) SplitOfMean(double meanJoulesPerItem, IReadOnlyCollection<EnergyReading> split)
    {
        var prompt = split.Sum(r => r.PromptJoules ?? 0);
        var generation = split.Sum(r => r.GenerationJoules ?? 0);
        if (split.Count == 0 || !(prompt + generation > 0))
        {
            return (null, null);
        }

        var promptShare = Math.Clamp(prompt / (prompt + generation), 0, 1);
        return (meanJoulesPerItem * promptShare, meanJoulesPerItem * (1 - promptShare));
    }
}
