using System.Globalization;
using Harness.Cli;
using Harness.Cli.Output;
using Harness.Cli.Running;
using Harness.Core.Suites;
using Harness.Tests.Fakes;
using Spectre.Console;

namespace Harness.Tests.Cli;

/// <summary><c>harness report A B</c> in-process: two fake runs of the shipped arith suite, then the diff.</summary>
public sealed class ReportDiffTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 1, 0, 0, TimeSpan.Zero);

    private readonly string _root = Directory.CreateTempSubdirectory("harness-rundiff-").FullName;
    private readonly HttpClient _http = new();

    public ReportDiffTests()
    {
        Suites.RepoPaths.CopySuites(_root, "arith");

        Directory.CreateDirectory(Path.Combine(_root, "models"));
        File.WriteAllText(Path.Combine(_root, "models", "a.gguf"), "model a");
        File.WriteAllText(Path.Combine(_root, "models.manifest"), """
            version: 1
            defaults: { context_size: 256, threads: 1, batch_size: 64, gpu_layers: 0, chat_template: none }
            models:
              - { id: oracle, path: models/a.gguf }
            """);
    }

    // The fake answers "a+b=" with add(a, b).
    private async Task<string> RunAsync(Func<int, int, int> add)
    {
        var backend = new FakeBackend(prompt =>
        {
            var parts = prompt.PlainText.TrimEnd('=').Split('+');
            return add(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
        });
        var service = InProcessRuns.Service(FakeBackendProvider.Registry(backend), _root, _http, Start);
        var options = new NewRunOptions(
            Path.Combine(_root, "models.manifest"), Path.Combine(_root, "tasks"), [], ["oracle"], Path.Combine(_root, "results"), Energy: InProcessRuns.QuickEnergy);
        var result = await service.StartAsync(options, null, null, CancellationToken.None);
        return result.RunDirectory;
    }

    // Run B gets every sum divisible by 7 wrong: 31 of the 200 shipped items (see RunServiceTests), all pass → fail.
    [Fact]
    public async Task Report_of_two_runs_writes_the_diff_into_run_B_and_summarizes_the_flips()
    {
        var runA = await RunAsync((a, b) => a + b);
        var runB = await RunAsync((a, b) => (a + b) % 7 == 0 ? 0 : a + b);

        var exit = await HarnessApp.RunAsync(["report", runA, runB]);

        Assert.Equal(ExitCodes.Success, exit);
        var stem = $"diff-{Path.GetFileName(runA)}-vs-{Path.GetFileName(runB)}";
        Assert.True(File.Exists(Path.Combine(runB, stem + ".md")));
        Assert.True(File.Exists(Path.Combine(runB, stem + ".json")));
        string md = await File.ReadAllTextAsync(Path.Combine(runB, stem + ".md"));
        Assert.Contains("| oracle | arith | 200 | 100.0% → 84.5% | -15.5 pt [", md, StringComparison.Ordinal);
        Assert.Contains("pass → fail (31):", md, StringComparison.Ordinal);
        Assert.Contains("estimate", md, StringComparison.Ordinal);

        var result = await RunDiffService.WriteAsync(runA, runB, Path.Combine(_root, "diffs"), CancellationToken.None);
        Assert.All(result.Files, f => Assert.StartsWith(Path.Combine(_root, "diffs"), f, StringComparison.Ordinal));
        var suite = Assert.Single(result.Diff.Suites);
        Assert.Equal(31, suite.PassRate.Counts.OnlyBasePassed);
        Assert.Equal(0, suite.PassRate.Counts.OnlyCandidatePassed);
        Assert.Equal(31, suite.OutputsChanged);
        Assert.True(suite.Energy!.Estimated);

        using var text = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(text),
        });
        console.Profile.Width = 240;
        RunDiffSummaryWriter.Write(console, result);
        string summary = text.ToString();
        Assert.Contains("200 paired items", summary, StringComparison.Ordinal);
        Assert.Contains("100% → 84.5%", summary, StringComparison.Ordinal);
        Assert.Contains("-15.5 pt", summary, StringComparison.Ordinal);
        Assert.Contains(stem + ".md", summary, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_run_folder_is_bad_input_naming_the_path_and_creates_nothing()
    {
        var runA = await RunAsync((a, b) => a + b);
        var missing = Path.Combine(_root, "results", "no-such-run");

        var ex = await Assert.ThrowsAsync<InputFileException>(() => RunDiffService.WriteAsync(runA, missing, null, CancellationToken.None));
        Assert.Contains(missing, ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(missing));

        var notARun = Path.Combine(_root, "tasks");
        var exit = await HarnessApp.RunAsync(["report", notARun, runA]);
        Assert.Equal(ExitCodes.BadInput, exit);
        Assert.False(File.Exists(Path.Combine(notARun, "store.sqlite")));
    }

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
