using System.Runtime.InteropServices;
using Harness.Core.Hosting;

// Not "Harness.Tests.Environment": that namespace would shadow System.Environment in every test namespace.
namespace Harness.Tests.Hosting;

public sealed class HostProbeTests
{
    private const string IntelCpuInfo = """
        processor	: 0
        vendor_id	: GenuineIntel
        cpu family	: 6
        model name	: Intel(R) Xeon(R) Platinum 8480+
        flags		: fpu vme de pse tsc msr sse sse2 ssse3 fma cx16 sse4_1 sse4_2 popcnt avx f16c avx2 bmi2 avx512f avx512bw avx512vl avx_vnni avx512_vnni avx512_bf16 amx_bf16 amx_tile amx_int8
        bogomips	: 4000.00

        processor	: 1
        vendor_id	: GenuineIntel
        model name	: Intel(R) Xeon(R) Platinum 8480+
        flags		: fpu vme de pse tsc msr sse sse2 sve2
        """;

    private const string ArmCpuInfo = """
        processor	: 0
        BogoMIPS	: 243.75
        Features	: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp i8mm bf16 sve sve2
        CPU implementer	: 0x41
        CPU architecture: 8
        CPU variant	: 0x1
        CPU part	: 0xd40
        """;

    [Fact]
    public void Cpuinfo_x86_gives_model_and_relevant_flags_of_the_first_core_in_a_fixed_order()
    {
        var (model, features) = HostProbe.ParseCpuInfo(IntelCpuInfo);

        Assert.Equal("Intel(R) Xeon(R) Platinum 8480+", model);
        Assert.Equal(
            ["ssse3", "sse4_1", "sse4_2", "popcnt", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx_vnni", "amx_tile", "amx_int8", "amx_bf16"],
            features.AsEnumerable());
    }

    [Fact]
    public void Cpuinfo_arm_without_model_name_falls_back_to_the_part_number()
    {
        var (model, features) = HostProbe.ParseCpuInfo(ArmCpuInfo.Replace("\n", "\r\n", StringComparison.Ordinal));

        Assert.Equal("ARM CPU part 0xd40", model);
        Assert.Equal(["asimd", "asimdhp", "asimddp", "fphp", "i8mm", "bf16", "sve", "sve2"], features.AsEnumerable());
    }

    [Fact]
    public void Empty_cpuinfo_is_unknown()
    {
        var (model, features) = HostProbe.ParseCpuInfo(string.Empty);

        Assert.Equal("unknown", model);
        Assert.Empty(features);
    }

    [Theory]
    [InlineData("MemTotal:       16318480 kB\nMemFree:         1000 kB\n", 16_710_123_520L)]
    [InlineData("MemFree:         1000 kB\nMemTotal: 2048\n", 2048L)]
    public void Meminfo_total_is_converted_to_bytes(string text, long expected)
    {
        Assert.Equal(expected, HostProbe.ParseMemInfoTotalBytes(text));
    }

    [Fact]
    public void Meminfo_without_total_is_null()
    {
        Assert.Null(HostProbe.ParseMemInfoTotalBytes("MemFree: 10 kB\n"));
    }

    [Fact]
    public void Sysctl_x86_features_are_mapped_to_cpuinfo_names()
    {
        const string text = """
            machdep.cpu.features: FPU VME SSE3 SSSE3 FMA SSE4.1 SSE4.2 POPCNT AVX1.0 F16C
            machdep.cpu.leaf7_features: BMI1 AVX2 BMI2 AVX512F AVX512BW AVX512VL
            """;

        Assert.Equal(["sse3", "ssse3", "sse4_1", "sse4_2", "popcnt", "avx", "f16c", "fma", "avx2", "bmi2", "avx512f", "avx512bw", "avx512vl"], HostProbe.ParseSysctlFeatures(text).AsEnumerable());
    }

    [Fact]
    public void Sysctl_arm_optional_flags_count_only_when_set()
    {
        const string text = """
            hw.optional.neon: 1
            hw.optional.arm.feat_fp16: 1
            hw.optional.arm.feat_dotprod: 1
            hw.optional.arm.feat_i8mm: 0
            hw.optional.arm.feat_bf16: 1
            hw.optional.arm.feat_sme: 0
            """;

        Assert.Equal(["asimd", "asimdhp", "asimddp", "bf16"], HostProbe.ParseSysctlFeatures(text).AsEnumerable());
    }

    [Fact]
    public void Debug_build_is_detected_from_the_assembly()
    {
#if DEBUG
        const bool testsAreDebug = true;
#else
        const bool testsAreDebug = false;
#endif
        Assert.Equal(testsAreDebug, HostProbe.IsDebugBuild(typeof(HostProbeTests).Assembly));
        Assert.False(HostProbe.IsDebugBuild(typeof(object).Assembly));
        Assert.False(HostProbe.IsDebugBuild(null));
    }

    [Fact]
    public void Probe_describes_this_machine()
    {
        var facts = HostProbe.Probe();

        Assert.Equal(Environment.ProcessorCount, facts.LogicalCores);
        Assert.True(facts.TotalMemoryBytes > 0);
        Assert.Equal(RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(), facts.Architecture);
        Assert.Equal(RuntimeInformation.FrameworkDescription, facts.DotnetVersion);
        Assert.Equal(Environment.MachineName, facts.HostName);
        Assert.False(string.IsNullOrWhiteSpace(facts.CpuModel));
        Assert.False(string.IsNullOrWhiteSpace(facts.OperatingSystem));
        Assert.All(facts.CpuFeatures, f => Assert.Contains(f, HostProbe.RelevantCpuFeatures));
        if (OperatingSystem.IsLinux() && File.Exists("/proc/meminfo"))
        {
            Assert.Equal(HostProbe.ParseMemInfoTotalBytes(File.ReadAllText("/proc/meminfo")), facts.TotalMemoryBytes);
        }
    }

    [Theory]
    [InlineData(".NET 10.0.12", ".NET 10.0.12")]
    [InlineData("10.0.0", ".NET 10.0.0")]
    public void Runtime_is_named_once_whether_recorded_with_its_name_or_without(string recorded, string shown) =>
        Assert.Equal(shown, Harness.Core.Reports.ReportText.Runtime(recorded));

    [Fact]
    public void This_machines_runtime_reads_dotnet_once()
    {
        var shown = Harness.Core.Reports.ReportText.Runtime(HostProbe.Probe().DotnetVersion);

        Assert.StartsWith(".NET ", shown, StringComparison.Ordinal);
        Assert.DoesNotContain(".NET .NET", shown, StringComparison.Ordinal);
    }
}
