using Harness.Core.Contention;
using Harness.Energy.Contention;
using Harness.Tests.Models;
using Harness.Tests.Serialization;

namespace Harness.Tests.Contention;

public sealed class LinuxContentionProbeTests : IDisposable
{
    // The head of /proc/stat on a two-core KVM guest (Linux 6.8): user nice system idle iowait irq softirq steal guest guest_nice.
    private const string Stat = """
        cpu  184320 1250 40310 2763100 5120 0 1880 9020 0 0
        cpu0 92100 600 20150 1381600 2500 0 950 4500 0 0
        cpu1 92220 650 20160 1381500 2620 0 930 4520 0 0
        intr 123456789 9 0 0
        ctxt 987654321
        btime 1764979200
        processes 424242
        procs_running 3
        procs_blocked 0
        """;

    private readonly TempFolder _proc = new();

    public void Dispose() => _proc.Dispose();

    [Fact]
    public void Reads_machine_cpu_times_and_steal_from_the_cpu_line_in_user_hz()
    {
        _proc.Write("stat", Stat);
        _proc.Write("loadavg", "2.43 1.87 1.20 3/412 91234\n");

        var reading = new LinuxContentionProbe(_proc.Path).Read();

        var cpu = Assert.IsType<MachineCpuTimes>(reading.Cpu);
        // Every column but guest: 184320+1250+40310+2763100+5120+0+1880+9020 = 3005000 ticks of 10 ms.
        Assert.Equal(TimeSpan.FromSeconds(30050), cpu.Total);
        Assert.Equal(TimeSpan.FromSeconds(27682.2), cpu.Idle);
        Assert.Equal(TimeSpan.FromSeconds(90.2), cpu.Steal);
        Assert.Equal(2.43, reading.LoadAverage1m);
    }

    [Fact]
    public void A_kernel_without_the_steal_column_gives_no_steal()
    {
        var cpu = LinuxContentionProbe.ParseStat("cpu  100 0 50 800 50 0 0\n");

        Assert.NotNull(cpu);
        Assert.Equal(TimeSpan.FromSeconds(10), cpu.Total);
        Assert.Equal(TimeSpan.FromSeconds(8.5), cpu.Idle);
        Assert.Null(cpu.Steal);
    }

    [Fact]
    public void Missing_or_garbled_files_leave_only_their_own_figure_unknown()
    {
        _proc.Write("loadavg", "0.50 0.40 0.30 1/100 42\n");

        var reading = new LinuxContentionProbe(_proc.Path).Read();

        Assert.Null(reading.Cpu);
        Assert.Equal(0.5, reading.LoadAverage1m);
        Assert.Null(LinuxContentionProbe.ParseStat("cpu0 1 2 3 4\n"));
        Assert.Null(LinuxContentionProbe.ParseStat("cpu  1 2 x 4\n"));
        Assert.Null(LinuxContentionProbe.ParseLoadAverage("busy\n"));
        Assert.Null(LinuxContentionProbe.ParseLoadAverage(null));
    }

    [Fact]
    public void The_load_average_parses_under_a_decimal_comma_culture()
    {
        using var culture = new CultureScope("de-DE");

        Assert.Equal(12.75, LinuxContentionProbe.ParseLoadAverage("12.75 3.00 1.00 1/1 1"));
    }

    [Fact]
    public void This_machine_is_readable_where_it_runs_linux()
    {
        var probe = ContentionProbes.ForThisMachine();
        var reading = probe.Read();

        Assert.False(string.IsNullOrEmpty(probe.Source));
        if (OperatingSystem.IsLinux())
        {
            Assert.NotNull(reading.Cpu);
            Assert.True(reading.Cpu.Total > reading.Cpu.Idle);
            Assert.True(reading.LoadAverage1m >= 0);
        }
    }
}
