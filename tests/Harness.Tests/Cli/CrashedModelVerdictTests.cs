using System.Globalization;
using Harness.Cli.Running;
using Harness.Core.Reports;
using Harness.Core.Runs;
using Harness.Core.Verdicts;
using Harness.Tests.Fakes;

namespace Harness.Tests.Cli;

/// <summary>A model whose worker dies after its first (easy) items, run in-process through the real run service.</summary>
public sealed class CrashedModelVerdictTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("harness-crashed-").FullName;
    private readonly HttpClient _http = new();

    public CrashedModelVerdictTests()
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

    // Every answer it gives is right, and 60/60 alone would clear the 90% bar (Wilson lower 60 / (60 + z²) = 0.9398),
    // but the worker dies after 60 of arith's 200 items: counting the rest as failures the lower bound is far below.
    [Fact]
    public async Task A_model_whose_worker_died_after_its_easy_items_is_not_sufficient_on_them()
    {
        var backend = new FakeBackend(prompt =>
        {
            var parts = prompt.PlainText.TrimEnd('=').Split('+');
            return (int.Parse(parts[0], CultureInfo.InvariantCulture) + int.Parse(parts[1], CultureInfo.InvariantCulture)).ToString(CultureInfo.InvariantCulture);
        });
        backend.LoseSessionAfter["oracle"] = 60;
        backend.LoadLimit = 1; // the worker dies and no fresh one can load the model
        var service = InProcessRuns.Service(FakeBackendProvider.Registry(backend), _root, _http, new DateTimeOffset(2026, 12, 7, 1, 0, 0, TimeSpan.Zero));
        var options = new NewRunOptions(Path.Combine(_root, "models.manifest"), Path.Combine(_root, "tasks"), [], ["oracle"],
            Path.Combine(_root, "results"),
            Energy: InProcessRuns.QuickEnergy);

        var result = await service.StartAsync(options, null, null, CancellationToken.None);

        Assert.Equal(ModelRunStatus.Crashed, Assert.Single(result.Outcomes).Status);
        var verdict = Assert.Single(Assert.Single(result.Report.FixedSuites).Rows).Verdict;
        Assert.InRange(verdict.Items, 1, 60);
        Assert.Equal(verdict.Items, verdict.Passed);
        Assert.Equal(VerdictKind.Undecided, verdict.Kind);
        Assert.Equal(200 - verdict.Items, verdict.Coverage!.Missing);
        Assert.True(verdict.CoverageBounds!.Lower < 0.9, $"lower {verdict.CoverageBounds.Lower}");
        Assert.Null(Assert.Single(result.Report.Analysis!.Cheapest).ModelId);
        Assert.Empty(Assert.Single(result.Report.Analysis.Standings).SufficientFor);
        var markdown = await File.ReadAllTextAsync(Path.Combine(result.RunDirectory, "report.md"));
        Assert.Contains("- arith: cheapest sufficient: none", markdown, StringComparison.Ordinal);
        Assert.Contains(Inv($"| **undecided** | {verdict.Items} scored, {200 - verdict.Items} missing of 200 |"), markdown, StringComparison.Ordinal);
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
