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
        var model = Path.Combine(ws.Root, "small.gguf");
        await new RandomWeightsRecipe("small", new LlamaHyperparameters(256, 64, 2, 128, 4, 4, 1e-5f, 10000f), seed: 3)
            .BuildAsync(model, CancellationToken.None);
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
        Assert.True(File.Exists(Path.Combine(output, "mc-items-sentiment.tsv")));
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
