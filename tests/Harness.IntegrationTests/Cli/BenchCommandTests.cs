using System.Text.Json;
using Harness.Forge;

namespace Harness.IntegrationTests.Cli;

/// <summary><c>harness bench</c> as a user runs it, on a small random-weight llama and the shipped suites.</summary>
[Trait("Category", "Model")]
public sealed class BenchCommandTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    [Fact]
    public async Task Bench_sweeps_threads_and_parallel_sequences_and_writes_markdown_csv_and_json_with_the_fingerprint()
    {
        using var ws = new HarnessProcess.Workspace();
        var model = await WriteSmallModelAsync(ws.Root);
        var output = Path.Combine(ws.Root, "bench");

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "bench", "--model-file", model, "-p", "32", "-n", "8", "--pg", "16,4",
            "-t", "1,2", "--parallel", "1,2", "-d", "0,8", "-r", "2", "--warmup", "0", "--suite", "tasks/arith", "--suite", "tasks/sentiment",
            "--items", "4", "-o", output);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var markdown = await File.ReadAllTextAsync(Path.Combine(output, "bench.md"));
        var rows = markdown.Split('\n').Where(l => l.StartsWith("| small |", StringComparison.Ordinal)).ToList();
        // Per thread count: p=1 has pp32, tg8, pg at two depths plus two suites (8); p=2 has tg8 at two depths plus two suites (4).
        Assert.Equal(2 * (8 + 4), rows.Count);
        Assert.Contains(rows, r => r.Contains("| 2 | 512 | 2 | 8 | 0 | tg8 |", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("| pp16+tg4 |", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("| suite:arith |", StringComparison.Ordinal) && r.Contains("items/s", StringComparison.Ordinal));
        Assert.Contains(rows, r => r.Contains("| mc-reuse |", StringComparison.Ordinal));
        Assert.Contains("Machine: ", markdown, StringComparison.Ordinal);
        Assert.Contains("llama.cpp.native_library=", markdown, StringComparison.Ordinal);

        var csv = await File.ReadAllLinesAsync(Path.Combine(output, "bench.csv"));
        Assert.Equal(rows.Count + 1, csv.Length);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "bench.json")));
        Assert.Equal(rows.Count, json.RootElement.GetProperty("rows").GetArrayLength());
        Assert.All(json.RootElement.GetProperty("rows").EnumerateArray(), r => Assert.True(r.GetProperty("mean").GetDouble() > 0));
        Assert.True(json.RootElement.GetProperty("host").GetProperty("logicalCores").GetInt32() >= 1);
        Assert.Empty(json.RootElement.GetProperty("reference").EnumerateArray());
        // Every harness row says how busy the machine was while it was timed.
        Assert.All(json.RootElement.GetProperty("rows").EnumerateArray(), r => Assert.True(r.GetProperty("contention").GetProperty("window").GetDouble() > 0));
        Assert.Contains("| other CPU |", markdown, StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_the_raw_C_program_each_test_alternates_engines_and_gets_a_ratio()
    {
        if (!OperatingSystem.IsLinux())
            return; // The program is built with gcc against the Linux libllama here; other systems build it by hand.
        using var ws = new HarnessProcess.Workspace();
        var raw = await BuildRawProgramAsync(ws.Root);
        var model = await WriteSmallModelAsync(ws.Root);
        var output = Path.Combine(ws.Root, "bench");

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "bench", "--model-file", model, "-p", "16", "-n", "8",
            "--parallel", "1,2", "-t", "1", "-r", "2", "--rounds", "2", "--warmup", "1", "--raw", raw, "--suite", "tasks/sentiment", "--items", "3", "-o", output);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        var markdown = await File.ReadAllTextAsync(Path.Combine(output, "bench.md"));
        Assert.Contains("| raw C | ratio |", markdown, StringComparison.Ordinal);
        var rows = markdown.Split('\n').Where(l => l.StartsWith("| small |", StringComparison.Ordinal)).ToList();
        // p=1: pp16, tg8, mc-reuse; p=2: tg8, mc-reuse. All but mc-reuse at p=1 (two choices need two sequences)
        // have a raw twin with a ratio.
        Assert.Equal(5, rows.Count);
        Assert.All(rows.Where(r => !r.Contains("| 1 | 0 | 0 | mc-reuse |", StringComparison.Ordinal)), r => Assert.Matches(@"\| [0-9.]+x \|$", r.TrimEnd()));
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "bench.json")));
        var reference = json.RootElement.GetProperty("reference").EnumerateArray().ToList();
        Assert.Contains(reference, r => r.GetProperty("test").GetString() == "mc-naive");
        // Two rounds of two repetitions, pooled: four values per engine and test.
        Assert.All(reference.Where(r => r.GetProperty("test").GetString() != "mc-naive"), r => Assert.Equal(4, r.GetProperty("values").GetArrayLength()));
        Assert.All(json.RootElement.GetProperty("rows").EnumerateArray(), r => Assert.Equal(4, r.GetProperty("values").GetArrayLength()));
        // Both engines scored the same choices the same way (the raw program prints a checksum; here: both finished).
        Assert.Contains(reference, r => r.GetProperty("test").GetString() == "mc-reuse" && r.GetProperty("mean").GetDouble() > 0);
    }

    /// <summary>A two-layer random-weight llama, written as <c>small.gguf</c> in <paramref name="folder"/>.</summary>
    private static async Task<string> WriteSmallModelAsync(string folder)
    {
        var model = Path.Combine(folder, "small.gguf");
        await new RandomWeightsRecipe("small", new LlamaHyperparameters(256, 64, 2, 128, 4, 4, 1e-5f, 10000f), seed: 3)
            .BuildAsync(model, CancellationToken.None);
        return model;
    }

    /// <summary>Compiles raw/llama_raw_bench.c against the libllama variant LLamaSharp loads on this CPU, as the script does.</summary>
    private static async Task<string> BuildRawProgramAsync(string folder)
    {
        var cpu = await File.ReadAllTextAsync("/proc/cpuinfo");
        bool Has(string flag) => System.Text.RegularExpressions.Regex.IsMatch(cpu, $@"\b{flag}\b");
        var variant = Has("avx512f") ? "avx512" : Has("avx2") ? "avx2" : Has("avx") ? "avx" : "noavx";
        var native = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", variant);
        var output = Path.Combine(folder, "llama_raw_bench");
        var source = Path.Combine(HarnessProcess.RepositoryRoot, "tests", "Harness.Benchmarks", "raw", "llama_raw_bench.c");
        var gcc = new System.Diagnostics.ProcessStartInfo("gcc")
        {
            ArgumentList = { "-O2", "-std=c11", "-D_POSIX_C_SOURCE=200809L", "-o", output, source, $"-L{native}", "-lllama", "-lm", $"-Wl,-rpath,{native}" },
            RedirectStandardError = true,
        };
        using var process = System.Diagnostics.Process.Start(gcc)!;
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"gcc failed (.ci/run installs it): {errors}");
        return output;
    }

    [Fact]
    public async Task One_repetition_prints_n_1_instead_of_a_zero_spread_and_records_why_it_is_not_to_be_trusted()
    {
        using var ws = new HarnessProcess.Workspace();
        var model = await WriteSmallModelAsync(ws.Root);
        var output = Path.Combine(ws.Root, "bench");

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "bench", "--model-file", model, "-p", "16", "-n", "0", "-t", "1", "-r", "1", "-o", output);

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        Assert.Contains("pp16: ", run.Output, StringComparison.Ordinal);
        Assert.Contains(" t/s (n=1)", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("± 0.00", run.Output, StringComparison.Ordinal);
        Assert.Contains("one repetition (n=1)", run.Output, StringComparison.Ordinal);
        using var json = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(output, "bench.json")));
        var row = json.RootElement.GetProperty("rows")[0];
        Assert.Contains(row.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.StartsWith("one repetition (n=1)", StringComparison.Ordinal));
        // The discarded warm-up is kept: at least one repetition, for at least a second.
        Assert.True(row.GetProperty("warmupValues").GetArrayLength() >= 1);
        Assert.Contains("(n=1)", await File.ReadAllTextAsync(Path.Combine(output, "bench.md")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task With_json_stdout_is_bench_json_and_progress_and_warnings_go_to_stderr()
    {
        using var ws = new HarnessProcess.Workspace();
        var model = await WriteSmallModelAsync(ws.Root);
        var output = Path.Combine(ws.Root, "bench");

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "bench", "--model-file", model, "-p", "16", "-n", "0", "-t", "1", "-r", "1", "-o", output, "--json");

        Assert.True(run.ExitCode == 0, run.Output + run.Error);
        using var json = JsonDocument.Parse(run.Output);
        var row = Assert.Single(json.RootElement.GetProperty("rows").EnumerateArray());
        Assert.Equal("pp16", row.GetProperty("test").GetString());
        Assert.Equal(1, row.GetProperty("repetitions").GetInt32());
        Assert.True(row.GetProperty("mean").GetDouble() > 0);
        Assert.Equal(1, row.GetProperty("values").GetArrayLength());
        Assert.True(row.TryGetProperty("standardDeviation", out _));
        Assert.Contains(row.GetProperty("warnings").EnumerateArray(), w => w.GetString()!.StartsWith("one repetition (n=1)", StringComparison.Ordinal));
        // The same document as the file.
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(output, "bench.json")), run.Output.TrimEnd('\n', '\r'));
        Assert.Contains("pp16: ", run.Error, StringComparison.Ordinal);
        Assert.Contains("one repetition (n=1)", run.Error, StringComparison.Ordinal);
        Assert.Contains("Results: ", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_model_file_is_a_clear_input_error()
    {
        using var ws = new HarnessProcess.Workspace();

        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "bench", "--model-file", "nope.gguf", "-r", "1");

        Assert.Equal(2, run.ExitCode);
        Assert.Contains("nope.gguf", run.Output + run.Error, StringComparison.Ordinal);
    }
}
