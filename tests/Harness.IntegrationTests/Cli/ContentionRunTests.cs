using System.Text.Json;

namespace Harness.IntegrationTests.Cli;

/// <summary>
/// A real run records how busy the machine was: with every core kept busy by this test it says so, and without the load it
/// still records figures in range (how quiet a CI machine is varies, so that is not asserted).
/// </summary>
[Trait("Category", "Model")]
public sealed class ContentionRunTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(4);

    private static readonly string[] Run = ["run", "--suite", "tasks/sentiment", "--model", "tiny-bigram"];

    // A few items are enough to measure a window, and keep the run short while the loop slows everything on the machine.
    private static HarnessProcess.Workspace SmallWorkspace()
    {
        var ws = new HarnessProcess.Workspace();
        var items = Path.Combine(ws.Root, "tasks", "sentiment", "items.jsonl");
        File.WriteAllLines(items, File.ReadLines(items).Take(16).ToList());
        return ws;
    }

    [Fact]
    public async Task A_run_beside_a_busy_loop_on_every_core_records_the_machine_as_busy()
    {
        using var ws = SmallWorkspace();
        HarnessProcess.Result result;
        using (new BusyLoop(Environment.ProcessorCount, TimeSpan.FromMinutes(2)))
        {
            result = await HarnessProcess.RunAsync(ws.Root, Timeout, Run);
        }

        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(ws.SingleRunDirectory(), "report.json")));
        var model = report.RootElement.GetProperty("models")[0];
        var contention = model.GetProperty("contention");
        if (OperatingSystem.IsLinux() || OperatingSystem.IsWindows())
        {
            // The loop's threads want every core the whole time; the worker's own threads take at most their share.
            Assert.True(contention.GetProperty("otherProcessesShare").GetDouble() > 0.10, contention.ToString());
            Assert.StartsWith("other processes used", model.GetProperty("busyMachine").GetProperty("reason").GetString(), StringComparison.Ordinal);
            var markdown = await File.ReadAllTextAsync(Path.Combine(ws.SingleRunDirectory(), "report.md"));
            Assert.Contains("> **Busy machine:** tiny-bigram (other processes used", markdown, StringComparison.Ordinal);
            // The console wraps at its own width when redirected, and the figures before these words vary in length:
            // compare with every run of whitespace as one space.
            var console = System.Text.RegularExpressions.Regex.Replace(result.Output, @"\s+", " ");
            Assert.True(console.Contains("Busy machine: other processes used", StringComparison.Ordinal), result.Output);
        }
        else
        {
            Assert.StartsWith("machine CPU times are not available", contention.GetProperty("unavailable").GetString(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_run_records_its_contention_fields_in_range_and_the_thresholds_in_run_json()
    {
        using var ws = SmallWorkspace();

        var result = await HarnessProcess.RunAsync(ws.Root, Timeout, Run);

        Assert.True(result.ExitCode == 0, result.Output + result.Error);
        var dir = ws.SingleRunDirectory();
        using var run = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "run.json")));
        var thresholds = run.RootElement.GetProperty("contention").GetProperty("thresholds");
        Assert.Equal(0.10, thresholds.GetProperty("maxOtherProcessesShare").GetDouble());
        Assert.Equal(0.05, thresholds.GetProperty("maxStealShare").GetDouble());

        using var report = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(dir, "report.json")));
        var contention = report.RootElement.GetProperty("models")[0].GetProperty("contention");
        Assert.Equal(Environment.ProcessorCount, contention.GetProperty("logicalCores").GetInt32());
        Assert.True(contention.GetProperty("window").GetDouble() > 0);
        Assert.True(contention.GetProperty("samples").GetInt32() >= 2);
        if (OperatingSystem.IsLinux())
        {
            foreach (var share in new[] { "otherProcessesShare", "harnessShare", "workerShare" })
            {
                Assert.InRange(contention.GetProperty(share).GetDouble(), 0, 1);
            }

            // The worker ran the model: it cannot have used nothing.
            Assert.True(contention.GetProperty("workerShare").GetDouble() > 0, contention.ToString());
            Assert.True(contention.GetProperty("loadAverage1mMax").GetDouble() >= 0);
        }

        Assert.Contains("Contention during tiny-bigram:", result.Output, StringComparison.Ordinal);
    }

    /// <summary>Threads of this test process spinning until disposed or for at most <paramref name="limit"/>.</summary>
    private sealed class BusyLoop : IDisposable
    {
        private readonly CancellationTokenSource _stop;
        private readonly Thread[] _threads;

        public BusyLoop(int threads, TimeSpan limit)
        {
            _stop = new CancellationTokenSource(limit);
            var token = _stop.Token;
            _threads = [.. Enumerable.Range(0, threads).Select(_ => new Thread(() =>
            {
                var x = 0UL;
                while (!token.IsCancellationRequested)
                {
                    x = x * 6364136223846793005UL + 1442695040888963407UL;
                }

                GC.KeepAlive(x);
            }) { IsBackground = true })];
            foreach (var thread in _threads)
            {
                thread.Start();
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            foreach (var thread in _threads)
            {
                thread.Join();
            }

            _stop.Dispose();
        }
    }
}
