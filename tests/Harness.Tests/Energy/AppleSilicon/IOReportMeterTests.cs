using Harness.Core.Energy;
using Harness.Energy.AppleSilicon;

namespace Harness.Tests.Energy.AppleSilicon;

public sealed class IOReportMeterTests
{
    // Base M1 naming: cluster totals and per-core parts beside the CPU sum, a bare "GPU" (mJ) beside "GPU Energy" (nJ).
    private static readonly IOReportChannelInfo[] M1Channels =
    [
        new("ECPU0", "mJ"), new("ECPU1", "mJ"), new("ECPU", "mJ"), new("ECPU_SRAM", "mJ"),
        new("PCPU0", "mJ"), new("PCPU1", "mJ"), new("PCPU", "mJ"), new("PCPM", "mJ"),
        new("CPU Energy", "mJ"),
        new("GPU", "mJ"), new("GPU SRAM", "mJ"),
        new("ANE", "mJ"), new("DRAM", "mJ"), new("ISP", "mJ"), new("AVE", "mJ"), new("DCS", "mJ"), new("AMCC", "mJ"), new("DISP", "mJ"),
        new("GPU Energy", "nJ"),
    ];

    // M3-class naming: numbered ANE/DRAM/GPU blocks, per-core EACC/PACC channels, PCIe counters in uJ.
    private static readonly IOReportChannelInfo[] M3Channels =
    [
        new("EACC_CPU0", "mJ"), new("EACC_CPU1", "mJ"), new("PACC0_CPU0", "mJ"), new("PACC0_CPU1", "mJ"),
        new("EACC_CPM", "mJ"), new("PACC0_CPM", "mJ"), new("PCPU0DTL00", "mJ"),
        new("CPU Energy", "mJ"),
        new("GPU0", "mJ"), new("GPU SRAM0", "mJ"), new("ANE0", "mJ"), new("DRAM0", "mJ"), new("MSR0", "mJ"),
        new("apciec0 Energy", "uJ"), new("PCIe Port 0 Energy", "uJ"),
        new("GPU Energy", "nJ"),
    ];

    // Ultra naming (two dies): the CPU sum per die by prefix, the other blocks by suffix, no package channel.
    private static readonly IOReportChannelInfo[] UltraChannels =
    [
        new("DIE_0_EACC_CPU0", "mJ"), new("DIE_1_PACC0_CPU0", "mJ"),
        new("DIE_0_CPU Energy", "mJ"), new("DIE_1_CPU Energy", "mJ"),
        new("GPU0_0", "mJ"), new("GPU SRAM0_0", "mJ"),
        new("ANE0_0", "mJ"), new("DRAM0_0", "mJ"), new("ANE0_1", "mJ"), new("DRAM0_1", "mJ"), new("AMCC0_1", "mJ"),
        new("GPU Energy", "nJ"),
    ];

    [Fact]
    public void M1_naming_counts_the_sums_and_never_the_clusters_or_parts()
    {
        var counter = new IOReportMeter(new FakeSource(M1Channels), isAppleSilicon: true).Open();

        Assert.Equal(
            [
                new EnergyChannel("CPU Energy", EnergyDomain.Cpu),
                new EnergyChannel("GPU Energy", EnergyDomain.Gpu),
                new EnergyChannel("ANE", EnergyDomain.Accelerator),
                new EnergyChannel("DRAM", EnergyDomain.Dram),
            ],
            counter.Channels.AsEnumerable());
    }

    [Fact]
    public void M3_naming_takes_numbered_ane_and_dram_blocks_and_the_nanojoule_gpu_sum()
    {
        var counter = new IOReportMeter(new FakeSource(M3Channels), isAppleSilicon: true).Open();

        Assert.Equal(["CPU Energy", "GPU Energy", "ANE0", "DRAM0"], counter.Channels.Select(c => c.Name));
    }

    [Fact]
    public void Ultra_naming_takes_each_die_once()
    {
        var counter = new IOReportMeter(new FakeSource(UltraChannels), isAppleSilicon: true).Open();

        Assert.Equal(
            ["DIE_0_CPU Energy", "DIE_1_CPU Energy", "GPU Energy", "ANE0_0", "ANE0_1", "DRAM0_0", "DRAM0_1"],
            counter.Channels.Select(c => c.Name));
    }

    [Fact]
    public void Without_sum_channels_the_cluster_totals_and_bare_gpu_stand_in()
    {
        IOReportChannelInfo[] channels =
        [
            new("ECPU0", "mJ"), new("ECPU", "mJ"), new("PCPU0", "mJ"), new("PCPU", "mJ"), new("PCPU_SRAM", "mJ"),
            new("GPU", "mJ"), new("GPU SRAM", "mJ"), new("ANE", "mJ"), new("DRAM", "mJ"),
        ];

        var counter = new IOReportMeter(new FakeSource(channels), isAppleSilicon: true).Open();

        Assert.Equal(
            [
                new EnergyChannel("ECPU", EnergyDomain.Cpu),
                new EnergyChannel("PCPU", EnergyDomain.Cpu),
                new EnergyChannel("GPU", EnergyDomain.Gpu),
                new EnergyChannel("ANE", EnergyDomain.Accelerator),
                new EnergyChannel("DRAM", EnergyDomain.Dram),
            ],
            counter.Channels.AsEnumerable());
    }

    [Fact]
    public void Units_convert_to_joules()
    {
        // 1500 mJ = 1.5 J; 250,000,000 nJ = 0.25 J; 40 mJ = 0.04 J; 2,500,000 uJ = 2.5 J.
        IOReportChannelInfo[] channels = [new("CPU Energy", "mJ"), new("GPU Energy", "nJ"), new("ANE", "mJ"), new("DRAM", "uJ")];
        var source = new FakeSource(channels);
        source.Deltas.Enqueue([new("CPU Energy", "mJ", 1500), new("GPU Energy", "nJ", 250_000_000), new("ANE", "mJ", 40), new("DRAM", "uJ", 2_500_000)]);

        var joules = new IOReportMeter(source, isAppleSilicon: true).Open().Read();

        Assert.Equal([1.5, 0.25, 0.04, 2.5], joules.AsEnumerable(), new ToleranceComparer(1e-12));
    }

    [Fact]
    public void Parts_in_a_sample_are_not_added_to_the_sums()
    {
        var source = new FakeSource(M1Channels);
        source.Deltas.Enqueue(
        [
            new("ECPU", "mJ", 900), new("ECPU0", "mJ", 450), new("PCPU", "mJ", 600), new("PCPM", "mJ", 50),
            new("CPU Energy", "mJ", 1500),
            new("GPU", "mJ", 240), new("GPU SRAM", "mJ", 30), new("GPU Energy", "nJ", 250_000_000),
            new("ANE", "mJ", 0), new("DRAM", "mJ", 320), new("ISP", "mJ", 75),
        ]);

        var joules = new IOReportMeter(source, isAppleSilicon: true).Open().Read();

        // CPU 1.5 J + GPU 0.25 J + ANE 0 J + DRAM 0.32 J = 2.07 J; counting ECPU, PCPU, GPU and ISP too would give 3.885 J.
        Assert.Equal([1.5, 0.25, 0.0, 0.32], joules.AsEnumerable(), new ToleranceComparer(1e-12));
        Assert.Equal(2.07, joules.Sum(), 12);
    }

    [Fact]
    public void Reads_accumulate_deltas_since_open()
    {
        IOReportChannelInfo[] channels = [new("CPU Energy", "mJ"), new("GPU Energy", "nJ")];
        var source = new FakeSource(channels);
        source.Deltas.Enqueue([new("CPU Energy", "mJ", 1000), new("GPU Energy", "nJ", 500_000_000)]);
        source.Deltas.Enqueue([new("CPU Energy", "mJ", 0), new("GPU Energy", "nJ", 120_000_000)]);
        source.Deltas.Enqueue([new("CPU Energy", "mJ", 2250), new("GPU Energy", "nJ", 0)]);
        var counter = new IOReportMeter(source, isAppleSilicon: true).Open();

        var first = counter.Read();
        var second = counter.Read();
        var third = counter.Read();

        var tolerance = new ToleranceComparer(1e-12);
        Assert.Equal([1.0, 0.5], first.AsEnumerable(), tolerance);
        Assert.Equal([1.0, 0.62], second.AsEnumerable(), tolerance);
        Assert.Equal([3.25, 0.62], third.AsEnumerable(), tolerance);
    }

    [Fact]
    public void A_negative_delta_or_a_repeated_name_adds_nothing()
    {
        var source = new FakeSource([new("CPU Energy", "mJ")]);
        source.Deltas.Enqueue([new("CPU Energy", "mJ", 800), new("CPU Energy", "mJ", 800)]);
        source.Deltas.Enqueue([new("CPU Energy", "mJ", -5)]);
        var counter = new IOReportMeter(source, isAppleSilicon: true).Open();

        Assert.Equal(0.8, counter.Read()[0], 12);
        Assert.Equal(0.8, counter.Read()[0], 12);
    }

    [Fact]
    public void Probe_reports_the_counted_channels_and_the_coarsest_unit()
    {
        var probe = new IOReportMeter(new FakeSource(M3Channels), isAppleSilicon: true).Probe();

        Assert.True(probe.Usable);
        Assert.Equal("ioreport", probe.Source);
        Assert.Equal(EnergyQuality.Measured, probe.Quality);
        Assert.Equal("Apple Silicon SoC: CPU clusters, GPU, ANE, DRAM (Energy Model channels)", probe.Scope);
        Assert.Equal(1e-3, probe.ResolutionJoules);
        Assert.Equal(TimeSpan.FromMilliseconds(2250), probe.UpdateInterval);
        Assert.Contains("CPU Energy (mJ), GPU Energy (nJ), ANE0 (mJ), DRAM0 (mJ)", probe.Detail, StringComparison.Ordinal);
        Assert.Contains("12 other channels", probe.Detail, StringComparison.Ordinal);
        Assert.Null(probe.Remedy);
    }

    [Fact]
    public void Probe_off_apple_silicon_is_unusable_and_says_why()
    {
        var source = new FakeSource(M1Channels);

        var probe = new IOReportMeter(source, isAppleSilicon: false).Probe();

        Assert.False(probe.Usable);
        Assert.Equal("ioreport", probe.Source);
        Assert.Contains("only on Apple Silicon Macs", probe.Detail, StringComparison.Ordinal);
        Assert.False(source.Asked);
    }

    [Fact]
    public void Probe_without_the_library_is_unusable_with_the_reason()
    {
        var source = new FakeSource(M1Channels) { Failure = new EnergyMeterException("ioreport: /usr/lib/libIOReport.dylib could not be loaded") };

        var probe = new IOReportMeter(source, isAppleSilicon: true).Probe();

        Assert.False(probe.Usable);
        Assert.Equal("ioreport: /usr/lib/libIOReport.dylib could not be loaded", probe.Detail);
    }

    [Fact]
    public void Probe_with_no_known_channel_is_unusable()
    {
        var probe = new IOReportMeter(new FakeSource([new("ISP", "mJ"), new("AVE", "mJ")]), isAppleSilicon: true).Probe();

        Assert.False(probe.Usable);
        Assert.Contains("has 2 channels but none recognised", probe.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_off_apple_silicon_throws_the_meter_exception()
    {
        var meter = new IOReportMeter(new FakeSource(M1Channels), isAppleSilicon: false);

        Assert.Throws<EnergyMeterException>(meter.Open);
    }

    [Fact]
    public void Dispose_closes_the_subscription_once()
    {
        var source = new FakeSource(M1Channels);
        var counter = new IOReportMeter(source, isAppleSilicon: true).Open();

        counter.Dispose();
        counter.Dispose();

        Assert.Equal(1, source.Disposals);
        Assert.Throws<ObjectDisposedException>(() => counter.Read());
    }

    [Fact]
    public void The_real_meter_probes_this_machine_without_throwing()
    {
        var probe = new IOReportMeter().Probe();

        Assert.Equal("ioreport", probe.Source);
        if (!OperatingSystem.IsMacOS())
        {
            Assert.False(probe.Usable);
        }
    }

    private sealed class FakeSource(IReadOnlyList<IOReportChannelInfo> channels) : IIOReportSource
    {
        public Queue<IReadOnlyList<IOReportReading>> Deltas { get; } = new();

        public EnergyMeterException? Failure { get; init; }

        public bool Asked { get; private set; }

        public int Disposals { get; private set; }

        public IReadOnlyList<IOReportChannelInfo> Channels()
        {
            Asked = true;
            return Failure is null ? channels : throw Failure;
        }

        public IIOReportSubscription Subscribe()
        {
            Asked = true;
            return Failure is null ? new Subscription(this) : throw Failure;
        }

        private sealed class Subscription(FakeSource source) : IIOReportSubscription
        {
            public IReadOnlyList<IOReportChannelInfo> Channels => source.Channels();

            public IReadOnlyList<IOReportReading> ReadDelta() => source.Deltas.Count > 0 ? source.Deltas.Dequeue() : [];

            public void Dispose() => source.Disposals++;
        }
    }

    private sealed class ToleranceComparer(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }
}
