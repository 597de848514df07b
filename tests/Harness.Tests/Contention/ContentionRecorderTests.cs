using Harness.Core.Contention;
using Harness.Tests.Fakes;

namespace Harness.Tests.Contention;

public sealed class ContentionRecorderTests
{
    [Fact]
    public async Task Other_processes_are_the_machine_busy_time_less_the_harness_and_its_worker()
    {
        var clock = new ManualClock();
        // Two cores for 10 s: 20 s of machine time; 8 s idle and 1 s stolen leave 11 s busy, of which the harness used 1
        // and its worker 6: the other 4 s (20 %) were someone else's.
        var probe = new FakeContentionProbe(FakeContentionProbe.At(1000, 600, 50, 0.4), FakeContentionProbe.At(1020, 608, 51, 2.1));
        var harness = TimeSpan.FromSeconds(3);
        TimeSpan? worker = TimeSpan.FromSeconds(10);
        await using var recorder = ContentionRecorder.Start(probe, clock, null, () => worker, () => harness, logicalCores: 2);

        clock.Advance(TimeSpan.FromSeconds(10));
        harness += TimeSpan.FromSeconds(1);
        worker += TimeSpan.FromSeconds(6);
        var contention = recorder.Finish();

        Assert.Equal(0.20, contention.OtherProcessesShare!.Value, 9);
        Assert.Equal(0.05, contention.StealShare!.Value, 9);
        Assert.Equal(0.05, contention.HarnessShare!.Value, 9);
        Assert.Equal(0.30, contention.WorkerShare!.Value, 9);
        Assert.Equal((0.4, 2.1, 2.1), (contention.LoadAverage1mAtStart, contention.LoadAverage1mAtEnd, contention.LoadAverage1mMax));
        Assert.Equal(TimeSpan.FromSeconds(10), contention.Window);
        Assert.Equal(2, contention.LogicalCores);
        Assert.Equal(2, contention.Samples);
        Assert.Equal("fake", contention.Source);
        Assert.Null(contention.Unavailable);
    }

    [Fact]
    public async Task Background_reads_keep_the_highest_load_average_in_between()
    {
        var probe = new FakeContentionProbe(
            FakeContentionProbe.At(0, 0, 0, 0.5), FakeContentionProbe.At(0, 0, 0, 3.5), FakeContentionProbe.At(0, 0, 0, 1.0));
        await using var recorder = ContentionRecorder.Start(probe, TimeProvider.System, TimeSpan.FromMilliseconds(1), harnessCpu: () => TimeSpan.Zero);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (probe.Reads < 3 && DateTime.UtcNow < deadline)
        {
            await Task.Delay(5);
        }

        var contention = recorder.Finish();

        Assert.True(probe.Reads >= 3);
        Assert.Equal(3.5, contention.LoadAverage1mMax);
        Assert.Equal(1.0, contention.LoadAverage1mAtEnd);
        Assert.True(contention.Samples >= 3);
    }

    [Fact]
    public async Task A_worker_that_died_counts_with_the_last_cpu_time_read_not_as_another_process()
    {
        var clock = new ManualClock();
        var probe = new FakeContentionProbe(FakeContentionProbe.At(0, 0, null, null), FakeContentionProbe.At(10, 0, null, null));
        TimeSpan? worker = TimeSpan.Zero;
        await using var recorder = ContentionRecorder.Start(probe, clock, null, () => worker, () => TimeSpan.Zero, logicalCores: 1);
        clock.Advance(TimeSpan.FromSeconds(10));

        worker = null;
        var contention = recorder.Finish();

        // Nothing read since the start, so the whole busy time is unexplained; the worker's share stays at zero, not null.
        Assert.Equal(0, contention.WorkerShare);
        Assert.Equal(1, contention.OtherProcessesShare);
        Assert.Null(contention.StealShare);
    }

    [Fact]
    public async Task Without_machine_cpu_times_the_shares_are_missing_and_the_record_says_why()
    {
        var probe = new FakeContentionProbe(new ContentionReading(null, 1.5));
        await using var recorder = ContentionRecorder.Start(probe, new ManualClock(), null, harnessCpu: () => TimeSpan.Zero);

        var contention = recorder.Finish();

        Assert.Null(contention.OtherProcessesShare);
        Assert.Null(contention.HarnessShare);
        Assert.Equal(1.5, contention.LoadAverage1mMax);
        Assert.Equal("machine CPU times are not available (fake)", contention.Unavailable);
    }

    [Fact]
    public void A_tick_of_rounding_never_makes_a_share_negative_or_above_one()
    {
        var start = new MachineCpuTimes(TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero);
        var end = new MachineCpuTimes(TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(1), TimeSpan.Zero);

        var shares = ContentionRecorder.Shares(start, end, TimeSpan.FromSeconds(1.01), null)!.Value;

        Assert.Equal(0, shares.Other);
        Assert.Null(shares.Worker);
        Assert.Null(ContentionRecorder.Shares(start, start, TimeSpan.Zero, null));
        Assert.Null(ContentionRecorder.Shares(null, end, TimeSpan.Zero, null));
    }

    [Fact]
    public void Thresholds_name_what_was_over_and_nothing_when_nothing_was()
    {
        var quiet = Contention(other: 0.04, steal: 0.01);
        var busy = Contention(other: 0.43, steal: 0.07);

        Assert.Null(ContentionThresholds.Default.Check(quiet));
        Assert.Null(ContentionThresholds.Default.Check(null));
        Assert.Null(ContentionThresholds.Default.Check(Contention(other: null, steal: null)));
        Assert.Equal("other processes used 43% of the CPU and the hypervisor stole 7% of the CPU", ContentionThresholds.Default.Check(busy)!.Reason);
        Assert.Equal("other processes used 4% of the CPU", new ContentionThresholds(0.03, 0.05).Check(quiet)!.Reason);
        Assert.Equal("undecided: measured on a busy machine (x)", new BusyMachine("x").Undecided);
    }

    internal static ModelContention Contention(double? other, double? steal) => new(
        "fake", 2, new DateTimeOffset(2026, 12, 3, 12, 0, 0, TimeSpan.Zero), TimeSpan.FromSeconds(42), TimeSpan.FromSeconds(5), 9,
        0.5, 2.25, 2.5, other, steal, 0.08, 0.61, null);
}
