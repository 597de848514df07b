using Harness.Core.Energy;
using Harness.Tests.Fakes;

namespace Harness.Tests.Energy;

public sealed class EnergyRecorderTests
{
    private static readonly EnergyChannel Package = new("package-0", EnergyDomain.Package);
    private static readonly EnergyChannel Dram = new("dram-0", EnergyDomain.Dram);

    private static TimeSpan Ms(double ms) => TimeSpan.FromMilliseconds(ms);

    [Fact]
    public async Task Gross_is_what_the_counters_counted_and_net_subtracts_the_idle_baseline_over_the_window()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package, Dram) { Watts = [3, 1] };
        await using var recorder = EnergyRecorder.Start([meter], clock, sampleInterval: null);

        // Idle: 4 W for 2 s. Then an item at 10 W + 2 W for 0.5 s: 6 J gross, 6 - 4 x 0.5 = 4 J net.
        var idleStart = recorder.Mark();
        clock.Advance(TimeSpan.FromSeconds(2));
        var baseline = recorder.UseBaseline(idleStart, recorder.Mark());
        meter.Watts = [10, 2];
        var start = recorder.Mark();
        clock.Advance(Ms(500));
        var reading = recorder.Measure(start, recorder.Mark(), EnergyAttribution.Exclusive, generation: null);

        Assert.Equal(8, baseline.GrossJoules, 9);
        Assert.Equal(6, reading.GrossJoules, 9);
        Assert.Equal(4, reading.BaselineWatts!.Value, 9);
        Assert.Equal(4, reading.NetJoules!.Value, 9);
        Assert.Equal(4, reading.AttributedJoules, 9);
        Assert.Equal(Ms(500), reading.Window);
        Assert.Equal("fake", reading.Source);
        Assert.Equal(EnergyQuality.Measured, reading.Quality);
        Assert.Equal(["fake:package-0", "fake:dram-0"], reading.Channels.Select(c => c.Name));
        Assert.Equal([5.0, 1.0], reading.Channels.Select(c => Math.Round(c.Joules, 9)));
    }

    [Fact]
    public async Task The_uncertainty_is_one_counter_update_at_the_window_power_and_one_step_per_edge_plus_the_baselines_share()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package) { Watts = [4], UpdateInterval = Ms(100), ResolutionJoules = 0.001 };
        await using var recorder = EnergyRecorder.Start([meter], clock, sampleInterval: null);
        var idle = recorder.Mark();
        clock.Advance(TimeSpan.FromSeconds(2));
        var baseline = recorder.UseBaseline(idle, recorder.Mark());
        meter.Watts = [10];
        var start = recorder.Mark();
        clock.Advance(Ms(500));
        var reading = recorder.Measure(start, recorder.Mark(), EnergyAttribution.Exclusive, null);

        // Baseline alone: 2 x (4 W x 0.1 s + 0.001 J) = 0.802 J over its 2 s.
        Assert.Equal(0.802, baseline.UncertaintyJoules!.Value, 9);
        // Item: 2 x (10 W x 0.1 s + 0.001 J) = 2.002 J, plus 0.802 J x 0.5 s / 2 s = 0.2005 J.
        Assert.Equal(2.2025, reading.UncertaintyJoules!.Value, 9);
    }

    [Fact]
    public async Task Without_a_baseline_net_is_null_and_the_attributed_figure_is_gross()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package) { Watts = [7] };
        await using var recorder = EnergyRecorder.Start([meter], clock, null);
        Assert.Null(await recorder.MeasureIdleBaselineAsync(TimeSpan.Zero, CancellationToken.None));
        var start = recorder.Mark();
        clock.Advance(TimeSpan.FromSeconds(1));
        var reading = recorder.Measure(start, recorder.Mark(), EnergyAttribution.Exclusive, null);

        Assert.Null(reading.NetJoules);
        Assert.Null(reading.BaselineWatts);
        Assert.Equal(7, reading.AttributedJoules, 9);
    }

    [Fact]
    public async Task A_window_is_split_into_prompt_and_generation_at_the_boundary_the_timings_give()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package) { Watts = [2], UpdateInterval = Ms(10) };
        await using var recorder = EnergyRecorder.Start([meter], clock, null);
        var idle = recorder.Mark();
        clock.Advance(TimeSpan.FromSeconds(1));
        recorder.UseBaseline(idle, recorder.Mark());

        // Power is 20 W for 0.5 s, then 10 W for 0.5 s; reads every 100 ms. The timings put the boundary at 0.45 s,
        // between the reads at 0.4 s and 0.5 s, where it is interpolated: 9 J before it, 1 J + 5 J after.
        var start = recorder.Mark();
        meter.Watts = [20];
        for (var t = 100; t <= 1000; t += 100)
        {
            clock.Advance(Ms(100));
            recorder.Mark();
            if (t == 500)
            {
                meter.Watts = [10];
            }
        }

        var end = recorder.Mark();
        var reading = recorder.Measure(start, end, EnergyAttribution.Exclusive, generation: Ms(550));

        // 15 J gross; the baseline's 2 W comes off each phase in proportion to its length.
        Assert.Equal(15, reading.GrossJoules, 9);
        Assert.Equal(9 - 2 * 0.45, reading.PromptJoules!.Value, 6);
        Assert.Equal(6 - 2 * 0.55, reading.GenerationJoules!.Value, 6);
        Assert.Equal(reading.NetJoules!.Value, reading.PromptJoules.Value + reading.GenerationJoules.Value, 9);
    }

    [Fact]
    public async Task Phases_shorter_than_two_counter_updates_are_not_split()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package) { Watts = [10], UpdateInterval = Ms(100) };
        await using var recorder = EnergyRecorder.Start([meter], clock, null);
        var start = recorder.Mark();
        for (var i = 0; i < 10; i++)
        {
            clock.Advance(Ms(100));
            recorder.Mark();
        }

        // The prompt took 150 ms: less than two updates of a 100 ms counter.
        var reading = recorder.Measure(start, recorder.Mark(), EnergyAttribution.Exclusive, generation: Ms(850));

        Assert.Null(reading.PromptJoules);
        Assert.Null(reading.GenerationJoules);
        Assert.Equal(10, reading.GrossJoules, 9);
    }

    [Fact]
    public async Task A_window_with_nothing_generated_is_all_prompt()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package) { Watts = [10] };
        await using var recorder = EnergyRecorder.Start([meter], clock, null);
        var start = recorder.Mark();
        clock.Advance(Ms(300));
        var reading = recorder.Measure(start, recorder.Mark(), EnergyAttribution.Exclusive, generation: TimeSpan.Zero);

        Assert.Equal(3, reading.PromptJoules!.Value, 9);
        Assert.Equal(0, reading.GenerationJoules!.Value);
    }

    [Fact]
    public async Task An_estimate_has_no_uncertainty_bound_and_cannot_be_mixed_with_a_measured_meter()
    {
        var clock = new ManualClock();
        var estimate = new FakeEnergyMeter(clock, new EnergyChannel("cpu", EnergyDomain.Process)) { Source = "estimate", Quality = EnergyQuality.Estimated, Watts = [5] };
        await using (var recorder = EnergyRecorder.Start([estimate], clock, null))
        {
            var start = recorder.Mark();
            clock.Advance(TimeSpan.FromSeconds(1));
            var reading = recorder.Measure(start, recorder.Mark(), EnergyAttribution.Exclusive, null);
            Assert.Equal(EnergyQuality.Estimated, reading.Quality);
            Assert.Null(reading.UncertaintyJoules);
            Assert.Equal(5, reading.GrossJoules, 9);
        }

        var measured = new FakeEnergyMeter(clock, Package);
        Assert.Throws<ArgumentException>(() => EnergyRecorder.Start([measured, estimate], clock, null));
        Assert.Equal(0, measured.OpenCounters);
        Assert.Equal(0, estimate.OpenCounters);
    }

    [Fact]
    public void An_unusable_meter_fails_the_start_with_its_reason_and_closes_the_meters_already_open()
    {
        var clock = new ManualClock();
        var first = new FakeEnergyMeter(clock, Package);
        var off = new FakeEnergyMeter(clock, Dram) { Source = "off", Usable = false };

        var ex = Assert.Throws<EnergyMeterException>(() => EnergyRecorder.Start([first, off], clock, null));

        Assert.Contains("'off'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("switched off", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, first.OpenCounters);
    }

    [Fact]
    public async Task A_counter_that_stops_reading_fails_every_later_mark_and_keeps_the_reason()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package) { Watts = [1], FailAfterReads = 2 };
        await using var recorder = EnergyRecorder.Start([meter], clock, null);
        recorder.Mark();

        Assert.Throws<EnergyMeterException>(() => recorder.Mark());
        meter.FailAfterReads = null;
        var again = Assert.Throws<EnergyMeterException>(() => recorder.Mark());
        Assert.Contains("device gone", again.Message, StringComparison.Ordinal);
        Assert.Contains("device gone", recorder.Failure, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_meters_add_up_and_their_sources_are_joined()
    {
        var clock = new ManualClock();
        var cpu = new FakeEnergyMeter(clock, Package) { Source = "rapl", Watts = [15] };
        var gpu = new FakeEnergyMeter(clock, new EnergyChannel("gpu-0", EnergyDomain.Gpu)) { Source = "nvml", Watts = [200] };
        await using var recorder = EnergyRecorder.Start([cpu, gpu], clock, null);
        var start = recorder.Mark();
        clock.Advance(Ms(200));
        var reading = recorder.Measure(start, recorder.Mark(), EnergyAttribution.Exclusive, null);

        Assert.Equal("rapl+nvml", reading.Source);
        Assert.Equal(43, reading.GrossJoules, 9);
        Assert.Equal(["rapl:package-0", "nvml:gpu-0"], reading.Channels.Select(c => c.Name));
    }

    [Fact]
    public async Task Disposing_closes_every_counter()
    {
        var clock = new ManualClock();
        var meter = new FakeEnergyMeter(clock, Package);
        var recorder = EnergyRecorder.Start([meter], clock, TimeSpan.FromMilliseconds(5));
        Assert.Equal(1, meter.OpenCounters);
        await recorder.DisposeAsync();
        Assert.Equal(0, meter.OpenCounters);
    }
}
