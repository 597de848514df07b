using Harness.Core.Energy;
using Harness.Core.Runs;
using Harness.Tests.Serialization;

namespace Harness.Tests.Energy;

public sealed class EnergySummaryTests
{
    private static EnergyReading Reading(
        double net, double? prompt = null, double? generation = null, EnergyQuality quality = EnergyQuality.Measured, string source = "rapl",
        EnergyAttribution attribution = EnergyAttribution.Exclusive) => new(
        source, quality, $"{source} scope", attribution, TimeSpan.FromSeconds(1), net + 1, 1, net,
        quality == EnergyQuality.Measured ? 0.2 : null, prompt, generation, []);

    private static ItemRecord Item(string id, bool passed, EnergyReading? energy) =>
        SampleRecords.Item("m", "s", id, passed) with { Energy = energy };

    [Fact]
    public void Per_item_per_token_and_per_correct_answer_are_worked_from_the_readings()
    {
        // Each sample item generates 8 tokens. Joules 2, 4, 6; two of three pass.
        ItemRecord[] items =
        [
            Item("a", true, Reading(2, prompt: 0.5, generation: 1.5)),
            Item("b", true, Reading(4, prompt: 1, generation: 3)),
            Item("c", false, Reading(6)),
        ];

        var summary = EnergySummary.Summarize(items, 0.95)!;

        Assert.Equal(4, summary.JoulesPerItem.Mean, 9);
        Assert.Equal(2, summary.JoulesPerItem.StandardDeviation, 9);
        Assert.Equal(12, summary.TotalJoules, 9);
        Assert.Equal(12.0 / 24, summary.JoulesPerGeneratedToken!.Value, 9);
        Assert.Equal(6, summary.JoulesPerCorrectAnswer!.Value, 9);
        // Phases measured on the two split items only (prompt 1.5 J of 6 J: a quarter; generation 4.5 J over 16
        // tokens); the per-item parts are that quarter of the whole 4 J mean, so they add up to it.
        Assert.Equal(2, summary.ItemsSplit);
        Assert.Equal(1, summary.PromptJoulesPerItem!.Value, 9);
        Assert.Equal(3, summary.GenerationJoulesPerItem!.Value, 9);
        Assert.Equal(4.5 / 16, summary.GenerationJoulesPerToken!.Value, 9);
        Assert.Equal(0.2, summary.MeterUncertaintyJoulesPerItem!.Value, 9);
        Assert.True(summary.NetOfBaseline);
        Assert.Equal("rapl", summary.Source);
        Assert.Equal(EnergyQuality.Measured, summary.Quality);
        // The checked interval is the t interval widened by the meter's bound on each side.
        Assert.Equal(summary.JoulesPerItem.Interval!.Upper + 0.2, summary.CheckedInterval!.Upper, 9);
    }

    [Fact]
    public void Prompt_and_generation_parts_add_up_to_the_joules_per_item_even_when_only_long_items_are_split()
    {
        // Only the long items outlast the meter's resolution in both phases: two of 20 J are split, eight of 1 J are
        // not. Their own means (5 + 15 J) would be four times the 4.8 J mean they sit beside.
        ItemRecord[] items =
        [
            Item("long-1", true, Reading(20, prompt: 5, generation: 15)),
            Item("long-2", true, Reading(20, prompt: 5, generation: 15)),
            .. Enumerable.Range(0, 8).Select(i => Item($"short-{i}", true, Reading(0.5 + (i % 2)))),
        ];

        var summary = EnergySummary.Summarize(items, 0.95)!;

        Assert.Equal(4.8, summary.JoulesPerItem.Mean, 9);
        Assert.Equal(summary.JoulesPerItem.Mean, summary.PromptJoulesPerItem!.Value + summary.GenerationJoulesPerItem!.Value, 9);
        Assert.Equal(1.2, summary.PromptJoulesPerItem.Value, 9);
    }

    [Fact]
    public void No_bound_of_the_energy_interval_is_negative()
    {
        // Net of the idle baseline, short items read near zero and one reads below it; the mean work cannot be negative.
        ItemRecord[] items = [Item("a", true, Reading(0.02)), Item("b", true, Reading(-0.015)), Item("c", true, Reading(0.001)), Item("d", true, Reading(0.0))];

        var summary = EnergySummary.Summarize(items, 0.95)!;

        Assert.Equal(0, summary.JoulesPerItem.Interval!.Lower);
        Assert.True(summary.JoulesPerItem.Interval.Upper > summary.JoulesPerItem.Mean);
        Assert.Equal(0, summary.CheckedInterval!.Lower);
    }

    [Fact]
    public void Nothing_passed_gives_no_joules_per_correct_answer()
    {
        var summary = EnergySummary.Summarize([Item("a", false, Reading(3))], 0.95)!;

        Assert.Null(summary.JoulesPerCorrectAnswer);
        Assert.Null(summary.JoulesPerItem.Interval);
        Assert.Null(summary.CheckedInterval);
    }

    [Fact]
    public void Measured_and_estimated_readings_are_never_averaged_together()
    {
        ItemRecord[] items =
        [
            Item("a", true, Reading(2)),
            Item("b", true, Reading(100, quality: EnergyQuality.Estimated, source: "estimate")),
            Item("c", true, null),
        ];

        var summary = EnergySummary.Summarize(items, 0.95)!;

        Assert.Equal(EnergyQuality.Measured, summary.Quality);
        Assert.Equal(1, summary.ItemsWithReading);
        Assert.Equal(3, summary.Items);
        Assert.Equal(2, summary.JoulesPerItem.Mean, 9);
    }

    [Fact]
    public void An_estimate_has_no_meter_bound_and_no_item_with_a_reading_gives_no_summary()
    {
        var estimated = EnergySummary.Summarize([Item("a", true, Reading(5, quality: EnergyQuality.Estimated, source: "estimate"))], 0.95)!;

        Assert.Equal(EnergyQuality.Estimated, estimated.Quality);
        Assert.Null(estimated.MeterUncertaintyJoulesPerItem);
        Assert.Null(EnergySummary.Summarize([Item("a", true, null)], 0.95));
    }
}
