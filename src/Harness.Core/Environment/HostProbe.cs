using System.Collections.Immutable;
using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Runtime.InteropServices;
using Harness.Core.Runs;

// Not "Harness.Core.Environment": a namespace by that name would shadow System.Environment in every file under Harness.Core.
namespace Harness.Core.Hosting;

/// <summary>
/// Collects the <see cref="HostFacts"/> a run records: CPU and the feature flags llama.cpp's kernels depend on,
/// cores, memory, OS, runtime and whether the harness itself is a Debug build. Parsers take file text so they
/// can be tested with fixtures from other machines.
/// </summary>
public static class HostProbe
{
    private const string Unknown = "unknown";

    /// <summary>
    /// Flags that change which SIMD kernels llama.cpp and ONNX Runtime pick (x86 and ARM spellings as
    /// /proc/cpuinfo writes them), in the order they are reported.
    /// </summary>
    public static ImmutableArray<string> RelevantCpuFeatures { get; } =
    [
        "sse3", "ssse3", "sse4_1", "sse4_2", "popcnt", "avx", "f16c", "fma", "avx2", "bmi2",
        "avx512f", "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "avx512_fp16", "avx_vnni",
        "amx_tile", "amx_int8", "amx_bf16",
        "neon", "asimd", "asimdhp", "asimddp", "fphp", "i8mm", "bf16", "sve", "sve2", "sme",
    ];

    // macOS sysctl spells some flags differently; map them onto the /proc/cpuinfo names.
    private static readonly ImmutableDictionary<string, string> SysctlAliases = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["sse4.1"] = "sse4_1",
        ["sse4.2"] = "sse4_2",
        ["avx1.0"] = "avx",
        ["avx2"] = "avx2",
        ["fma"] = "fma",
        ["f16c"] = "f16c",
        ["avx512vnni"] = "avx512_vnni",
        ["avx512bf16"] = "avx512_bf16",
        ["hw.optional.neon"] = "asimd",
        ["hw.optional.arm.feat_fp16"] = "asimdhp",
        ["hw.optional.arm.feat_dotprod"] = "asimddp",
        ["hw.optional.arm.feat_i8mm"] = "i8mm",
        ["hw.optional.arm.feat_bf16"] = "bf16",
        ["hw.optional.arm.feat_sme"] = "sme",
    }.ToImmutableDictionary(StringComparer.Ordinal);

    /// <summary>Probes the current machine. Never throws for a missing or unreadable source: the field says "unknown".</summary>
    public static HostFacts Probe()
    {
        var (cpuModel, features) = ProbeCpu();
        return new HostFacts(
            cpuModel,
            features,
            System.Environment.ProcessorCount,
            ProbeTotalMemoryBytes(),
            RuntimeInformation.OSDescription,
            RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            RuntimeInformation.FrameworkDescription,
            IsDebugBuild(Assembly.GetEntryAssembly()),
            System.Environment.MachineName);
    }

    /// <summary>CPU model and relevant feature flags from the text of Linux <c>/proc/cpuinfo</c>.</summary>
    public static (string CpuModel, ImmutableArray<string> Features) ParseCpuInfo(string cpuInfo)
    {
        string? model = null;
        string? armPart = null;
        var flags = new HashSet<string>(StringComparer.Ordinal);
        var flagsSeen = false;
        foreach (var rawLine in cpuInfo.Split('\n'))
        {
            var colon = rawLine.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = rawLine[..colon].Trim();
            var value = rawLine[(colon + 1)..].Trim();
            switch (key)
            {
                case "model name" or "Model" or "cpu model" or "Hardware" when model is null && value.Length > 0:
                    model = value;
                    break;
                case "CPU part" when armPart is null:
                    armPart = value;
                    break;
                // Every core repeats its flags; the first core's list is the machine's list.
                case "flags" or "Features" when !flagsSeen:
                    flagsSeen = true;
                    flags.UnionWith(value.Split(' ', StringSplitOptions.RemoveEmptyEntries));
                    break;
            }
        }

        model ??= armPart is null ? Unknown : $"ARM CPU part {armPart}";
        return (model, Relevant(flags));
    }

    /// <summary>Total physical memory in bytes from the text of Linux <c>/proc/meminfo</c>, or null when absent.</summary>
    public static long? ParseMemInfoTotalBytes(string memInfo)
    {
        foreach (var line in memInfo.Split('\n'))
        {
            if (!line.StartsWith("MemTotal:", StringComparison.Ordinal))
            {
                continue;
            }

            var parts = line["MemTotal:".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length >= 1 && long.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var amount))
            {
                var unit = parts.Length >= 2 ? parts[1] : "B";
                return unit.ToUpperInvariant() switch
                {
                    "KB" => amount * 1024,
                    "MB" => amount * 1024 * 1024,
                    "GB" => amount * 1024 * 1024 * 1024,
                    _ => amount,
                };
            }
        }

        return null;
    }

    /// <summary>
    /// Feature flags from macOS <c>sysctl machdep.cpu.features machdep.cpu.leaf7_features hw.optional</c> output
    /// (lines of <c>name: value</c>; x86 lists are space separated, ARM <c>hw.optional.*</c> flags are 0/1).
    /// </summary>
    public static ImmutableArray<string> ParseSysctlFeatures(string sysctl)
    {
        var flags = new HashSet<string>(StringComparer.Ordinal);
        foreach (var line in sysctl.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon < 0)
            {
                continue;
            }

            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (key.StartsWith("hw.optional.", StringComparison.Ordinal))
            {
                if (value == "1")
                {
                    flags.Add(SysctlAliases.GetValueOrDefault(key, key["hw.optional.".Length..]));
                }

                continue;
            }

            foreach (var flag in value.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                var lower = flag.ToLowerInvariant();
                flags.Add(SysctlAliases.GetValueOrDefault(lower, lower));
            }
        }

        return Relevant(flags);
    }

    /// <summary>True when <paramref name="assembly"/> was compiled without JIT optimisation (a Debug build): its timings are not representative.</summary>
    public static bool IsDebugBuild(Assembly? assembly) =>
        assembly?.GetCustomAttribute<DebuggableAttribute>()?.IsJITOptimizerDisabled ?? false;

    private static ImmutableArray<string> Relevant(HashSet<string> flags) =>
        [.. RelevantCpuFeatures.Where(flags.Contains)];

    private static (string CpuModel, ImmutableArray<string> Features) ProbeCpu()
    {
        if (OperatingSystem.IsLinux())
        {
            var text = TryRead("/proc/cpuinfo");
            if (text is not null)
            {
                return ParseCpuInfo(text);
            }
        }
        else if (OperatingSystem.IsMacOS())
        {
            var brand = RunSysctl("-n", "machdep.cpu.brand_string")?.Trim();
            var features = RunSysctl("machdep.cpu.features", "machdep.cpu.leaf7_features", "hw.optional");
            return (string.IsNullOrEmpty(brand) ? Unknown : brand, features is null ? [] : ParseSysctlFeatures(features));
        }

        return (Unknown, []);
    }

    private static long ProbeTotalMemoryBytes()
    {
        if (OperatingSystem.IsLinux())
        {
            var text = TryRead("/proc/meminfo");
            if (text is not null && ParseMemInfoTotalBytes(text) is { } bytes)
            {
                return bytes;
            }
        }

        // The GC's figure honours container limits; good enough where /proc is missing.
        return GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
    }

    private static string? TryRead(string path)
    {
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    private static string? RunSysctl(params string[] arguments)
    {
        try
        {
            var start = new ProcessStartInfo("/usr/sbin/sysctl")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in arguments)
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start);
            if (process is null)
            {
                return null;
            }

            // Unknown keys make sysctl exit non-zero but still print the known ones, so the exit code is ignored.
            var output = process.StandardOutput.ReadToEndAsync();
            _ = process.StandardError.ReadToEndAsync();
            if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
            {
                process.Kill();
                return null;
            }

            return output.Result;
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException or IOException)
        {
            return null;
        }
    }
}
