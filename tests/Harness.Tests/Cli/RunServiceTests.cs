using System.Globalization;
using Harness.Cli.Running;
using Harness.Core.Backends;
using Harness.Core.Energy;
using Harness.Core.Serialization;
using Harness.Core.Runs;
using Harness.Core.Suites;
using Harness.Core.Verdicts;
using Harness.Store.Sqlite;
using Harness.Tests.Fakes;

namespace Harness.Tests.Cli;

/// <summary>Planning, resuming and reporting a run in-process, with the fake backend instead of a model.</summary>
public sealed class RunServiceTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 11, 29, 1, 0, 0, TimeSpan.Zero);
    private readonly string _root = Directory.CreateTempSubdirectory("harness-runservice-").FullName;
    private readonly HttpClient _http = new();

    public RunServiceTests()
    {
        Suites.RepoPaths.CopySuites(_root, "arith", "sentiment");

        Directory.CreateDirectory(Path.Combine(_root, "models"));
        File.WriteAllText(Path.Combine(_root, "models", "a.gguf"), "model a");
        File.WriteAllText(Path.Combine(_root, "models", "b.gguf"), "model b");
        File.WriteAllText(Path.Combine(_root, "models.manifest"), """
            version: 1
            defaults: { context_size: 256, threads: 1, batch_size: 64, gpu_layers: 0, chat_template: none }
            models:
              - { id: oracle, path: models/a.gguf }
              - { id: sloppy, path: models/b.gguf }
              - { id: absent, path: models/nowhere.gguf }
            """);
    }

    // The fake answers arith prompts with add(a, b) and every sentiment prompt with " positive".
    private static FakeBackend Backend(Func<int, int, string> add) => new(prompt =>
    {
        var text = prompt.PlainText;
        if (!text.EndsWith('=') || !text.Contains('+', StringComparison.Ordinal))
        {
            return " positive";
        }

        var parts = text.TrimEnd('=').Split('+');
        return add(int.Parse(parts[0], CultureInfo.InvariantCulture), int.Parse(parts[1], CultureInfo.InvariantCulture));
    });

    // No hardware meter, as on this VM: the estimate is what the run reads.
    private RunService Service(IModelBackend backend) => Service(FakeBackendProvider.Registry(backend));

    private RunService Service(BackendRegistry backends) => InProcessRuns.Service(backends, _root, _http, Start);

    private NewRunOptions Options(params string[] models) => new(
        Path.Combine(_root, "models.manifest"), Path.Combine(_root, "tasks"), [], [.. models], Path.Combine(_root, "results"), Energy: InProcessRuns.QuickEnergy);

    [Fact]
    public async Task Without_a_hardware_meter_the_plan_says_estimate_and_every_item_carries_an_estimated_reading()
    {
        var backend = Backend((a, b) => (a + b).ToString(CultureInfo.InvariantCulture));

        var result = await Service(backend).StartAsync(Options("oracle"), null, null, CancellationToken.None);

        var plan = Assert.IsType<EnergyPlan>(result.Manifest.Energy);
        Assert.Equal(["estimate"], plan.Selected.ToArray());
        Assert.Equal(12, plan.Estimate.WattsPerCore);
        Assert.Equal(PowerSource.Ac, plan.PowerAtStart.PowerSource);
        var reread = await RunManifestFile.ReadAsync(result.RunDirectory, CancellationToken.None);
        Assert.Equal(plan.Selected.ToArray(), reread.Energy!.Selected.ToArray());
        await using var store = await SqliteRunStore.OpenAsync(result.RunDirectory, CancellationToken.None);
        await foreach (var item in store.ReadItemsAsync(CancellationToken.None))
        {
            var energy = Assert.IsType<EnergyReading>(item.Energy);
            Assert.Equal(EnergyQuality.Estimated, energy.Quality);
            Assert.Equal("estimate", energy.Source);
            Assert.Contains("12 W per core", energy.Scope, StringComparison.Ordinal);
            Assert.Null(energy.UncertaintyJoules);
        }
    }

    [Fact]
    public async Task A_run_records_every_item_of_every_model()
    {
        var backend = Backend((a, b) => (a + b).ToString(CultureInfo.InvariantCulture));

        var result = await Service(backend).StartAsync(Options("oracle", "sloppy"), null, null, CancellationToken.None);

        Assert.All(result.Outcomes, o => Assert.Equal(ModelRunStatus.Completed, o.Status));
        Assert.True(File.Exists(Path.Combine(result.RunDirectory, "report.md")));
        Assert.True(File.Exists(Path.Combine(result.RunDirectory, "report.html")));
        var arith = result.Report.FixedSuites.Single(s => s.Suite == "arith");
        Assert.All(arith.Rows, r => Assert.Equal(VerdictKind.Sufficient, r.Verdict.Kind));
        Assert.Equal(["arith", "sentiment"], result.Manifest.Suites.Select(s => s.Name));
        Assert.Equal(2, result.Manifest.Models.Length);
    }

    [Fact]
    public async Task A_missing_model_file_stops_the_run_at_its_manifest_line_before_a_results_folder_exists()
    {
        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(Backend((a, b) => "")).StartAsync(Options(), null, null, CancellationToken.None));

        Assert.Equal((Path.Combine(_root, "models.manifest"), 6), (ex.FilePath, ex.Line!.Value));
        Assert.Contains("model 'absent': file " + Path.Combine(_root, "models", "nowhere.gguf") + " does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no run folder was created", ex.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(_root, "results")));
        Assert.Equal(Harness.Cli.ExitCodes.BadInput, Harness.Cli.ErrorReporter.Report(ex));
    }

    [Fact]
    public async Task A_resume_whose_model_file_went_missing_changes_nothing_and_goes_on_once_the_file_is_back()
    {
        using var cancel = new CancellationTokenSource();
        var cut = await Assert.ThrowsAsync<RunCancelledException>(() =>
            Service(Backend((a, b) => "1")).StartAsync(Options("oracle", "sloppy"), new CancelAfter(5, cancel), null, cancel.Token));
        var model = Path.Combine(_root, "models", "b.gguf");
        File.Move(model, model + ".away");
        var storeBefore = await File.ReadAllBytesAsync(Path.Combine(cut.RunDirectory, "store.sqlite"));

        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(Backend((a, b) => "1")).ResumeAsync(cut.RunDirectory, null, null, CancellationToken.None));

        Assert.Contains("model 'sloppy': file " + model + " does not exist", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"nothing in {cut.RunDirectory} was changed", ex.Message, StringComparison.Ordinal);
        Assert.Equal(storeBefore, await File.ReadAllBytesAsync(Path.Combine(cut.RunDirectory, "store.sqlite")));
        File.Move(model + ".away", model);
        var resumed = await Service(Backend((a, b) => "1")).ResumeAsync(cut.RunDirectory, null, null, CancellationToken.None);
        Assert.All(resumed.Outcomes, o => Assert.Equal(ModelRunStatus.Completed, o.Status));
    }

    [Fact]
    public async Task Ctrl_c_during_a_run_names_its_folder_and_the_command_that_continues_it()
    {
        using var cancel = new CancellationTokenSource();
        var observer = new CancelAfter(5, cancel);

        var ex = await Assert.ThrowsAsync<RunCancelledException>(() =>
            Service(Backend((a, b) => "1")).StartAsync(Options("oracle"), observer, null, cancel.Token));

        Assert.True(ex.Resumable);
        Assert.Equal(Path.Combine(_root, "results"), Path.GetDirectoryName(ex.RunDirectory));
        Assert.True(File.Exists(Path.Combine(ex.RunDirectory, "run.json")));
        Assert.Equal($"harness run --resume {Path.Combine("results", Path.GetFileName(ex.RunDirectory))}", ex.ResumeCommand(_root));
        Assert.Equal($"harness run --resume {ex.RunDirectory}", ex.ResumeCommand(Path.Combine(_root, "elsewhere")));
        Assert.Equal(Harness.Cli.ExitCodes.Cancelled, Harness.Cli.ErrorReporter.Report(ex));
        var resumed = await Service(Backend((a, b) => "1")).ResumeAsync(ex.RunDirectory, null, null, CancellationToken.None);
        Assert.Equal(ModelRunStatus.Completed, Assert.Single(resumed.Outcomes).Status);
    }

    [Fact]
    public void A_resume_command_quotes_a_folder_the_shell_would_split()
    {
        var ex = new RunCancelledException(Path.Combine(_root, "my results", "run-1"), isComparison: true, new OperationCanceledException());

        Assert.Equal($"harness compare --resume '{Path.Combine("my results", "run-1")}'", ex.ResumeCommand(_root));
    }

    private sealed class CancelAfter(int items, CancellationTokenSource cancel) : IRunObserver
    {
        private int _completed;

        public void ModelStarting(RunModel model, int pendingItems)
        {
        }

        public void ModelFinished(ModelOutcome outcome)
        {
        }

        public void ItemCompleted(EvaluationProgress progress)
        {
            if (Interlocked.Increment(ref _completed) == items)
            {
                cancel.Cancel();
            }
        }
    }

    // The fake model gets every sum divisible by k wrong. Counts and Wilson 95% bounds worked out by hand
    // (z = 1.959964, n = 200) for the shipped arith items against its 0.90 bar:
    //   k = 7:  169/200, interval [0.7884, 0.8886]: upper < 0.90 -> insufficient
    //   k = 11: 187/200, interval [0.8920, 0.9616]: straddles 0.90 -> undecided
    //   k = 13: 190/200, interval [0.9104, 0.9726]: lower >= 0.90 -> sufficient
    [Theory]
    [InlineData(7, 169, VerdictKind.Insufficient)]
    [InlineData(11, 187, VerdictKind.Undecided)]
    [InlineData(13, 190, VerdictKind.Sufficient)]
    public async Task Verdicts_follow_the_hand_checked_numbers(int k, int passed, VerdictKind verdict)
    {
        var backend = Backend((a, b) => (a + b) % k == 0 ? "0" : (a + b).ToString(CultureInfo.InvariantCulture));

        var result = await Service(backend).StartAsync(Options("oracle"), null, null, CancellationToken.None);

        var row = Assert.Single(result.Report.FixedSuites.Single(s => s.Suite == "arith").Rows);
        Assert.Equal(passed, row.Verdict.Passed);
        Assert.Equal(verdict, row.Verdict.Kind);
        Assert.Equal(passed == 187, row.Verdict.Reasons.Contains(VerdictCalculator.UndecidedAdvice));
    }

    [Fact]
    public async Task An_unknown_model_id_is_bad_input_naming_the_known_ones()
    {
        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(Backend((a, b) => "")).StartAsync(Options("nope"), null, null, CancellationToken.None));

        Assert.Contains("'nope'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("oracle", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resume_refuses_a_suite_that_changed_since_the_run_started()
    {
        var result = await Service(Backend((a, b) => "1")).StartAsync(Options("oracle"), null, null, CancellationToken.None);
        await File.AppendAllTextAsync(Path.Combine(_root, "tasks", "arith", "items.jsonl"), "{\"id\":\"extra\",\"a\":1,\"b\":2,\"target\":\"3\"}\n");

        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(Backend((a, b) => "1")).ResumeAsync(result.RunDirectory, null, null, CancellationToken.None));

        Assert.Contains("changed since run", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_second_writer_of_a_run_folder_is_refused_before_it_changes_anything()
    {
        var result = await Service(Backend((a, b) => "1")).StartAsync(Options("oracle"), null, null, CancellationToken.None);
        var reportBefore = File.GetLastWriteTimeUtc(Path.Combine(result.RunDirectory, "report.md"));

        using (RunFolderLock.Acquire(result.RunDirectory))
        {
            var resume = await Assert.ThrowsAsync<RunFolderBusyException>(() =>
                Service(Backend((a, b) => "1")).ResumeAsync(result.RunDirectory, null, null, CancellationToken.None));
            var rebuild = await Assert.ThrowsAsync<RunFolderBusyException>(() =>
                ReportService.RebuildAsync(result.RunDirectory, CancellationToken.None));

            Assert.Equal(result.RunDirectory, resume.RunDirectory);
            Assert.Equal(result.RunDirectory, rebuild.RunDirectory);
            Assert.Equal(Harness.Cli.ExitCodes.BadInput, Harness.Cli.ErrorReporter.Report(resume));
        }

        Assert.Equal(reportBefore, File.GetLastWriteTimeUtc(Path.Combine(result.RunDirectory, "report.md")));
        var resumed = await Service(Backend((a, b) => "1")).ResumeAsync(result.RunDirectory, null, null, CancellationToken.None);
        Assert.Equal(result.Manifest.RunId, resumed.Manifest.RunId);
    }

    [Fact]
    public async Task Resume_fails_a_model_whose_file_changed_and_keeps_its_recorded_items()
    {
        var result = await Service(Backend((a, b) => "1")).StartAsync(Options("oracle", "sloppy"), null, null, CancellationToken.None);
        File.WriteAllText(Path.Combine(_root, "models", "b.gguf"), "model b, retrained");

        var resumed = await Service(Backend((a, b) => "1")).ResumeAsync(result.RunDirectory, null, null, CancellationToken.None);

        var sloppy = resumed.Outcomes.Single(o => o.ModelId == "sloppy");
        Assert.Equal(ModelRunStatus.LoadFailed, sloppy.Status);
        Assert.Contains("changed since the run started", sloppy.Failure, StringComparison.Ordinal);
        var store = await SqliteRunStore.OpenAsync(result.RunDirectory, CancellationToken.None);
        await using (store)
        {
            Assert.Equal(800, (await store.GetRecordedKeysAsync(CancellationToken.None)).Count);
        }
    }

    [Fact]
    public async Task Until_decided_records_the_order_in_run_json_stops_each_suite_early_and_a_resume_ends_where_one_run_would()
    {
        var options = Options("oracle") with { UntilDecided = true, OrderSeed = 42 };
        var whole = await Service(Backend((a, b) => (a + b).ToString(CultureInfo.InvariantCulture))).StartAsync(options, null, null, CancellationToken.None);

        var plan = Assert.IsType<SequentialPlan>((await RunManifestFile.ReadAsync(whole.RunDirectory, CancellationToken.None)).Sequential);
        Assert.Equal((SequentialPlan.UntilDecided, 42), (plan.Mode, plan.OrderSeed));
        Assert.Equal(["arith", "sentiment"], plan.Orders.Keys);
        Assert.Equal<string>(ItemOrder.Shuffle(SuiteLoader.Load(Path.Combine(_root, "tasks", "arith")), 42), plan.Orders["arith"]);
        var arith = Assert.Single(whole.Report.FixedSuites.Single(s => s.Suite == "arith").Rows).Verdict;
        Assert.Equal(VerdictKind.Sufficient, arith.Kind);
        Assert.True(arith.Sequential!.Decided);
        Assert.InRange(arith.Sequential.ItemsUsed, 1, 199);
        var markdown = await File.ReadAllTextAsync(Path.Combine(whole.RunDirectory, "report.md"));
        Assert.Contains($"decided after {arith.Sequential.ItemsUsed} of 200 items (sequential)", markdown, StringComparison.Ordinal);
        Assert.Contains("anytime-valid sequential test, stopped when decided", markdown, StringComparison.Ordinal);

        // The same plan interrupted after 30 items (the session dies), then resumed: same items, same verdicts.
        var dying = Backend((a, b) => (a + b).ToString(CultureInfo.InvariantCulture));
        dying.LoseSessionAfter["oracle"] = 30;
        dying.LoadLimit = 1;
        var cut = await Service(dying).StartAsync(options, null, null, CancellationToken.None);
        Assert.Equal(ModelRunStatus.Crashed, Assert.Single(cut.Outcomes).Status);
        var resumed = await Service(Backend((a, b) => (a + b).ToString(CultureInfo.InvariantCulture))).ResumeAsync(cut.RunDirectory, null, null, CancellationToken.None);

        Assert.Equal(
            whole.Report.FixedSuites.SelectMany(s => s.Rows).Select(r => (r.Verdict.Kind, r.Verdict.Sequential)),
            resumed.Report.FixedSuites.SelectMany(s => s.Rows).Select(r => (r.Verdict.Kind, r.Verdict.Sequential)));
    }

    [Fact]
    public async Task A_suite_that_asks_for_sequential_runs_so_alone_and_the_others_run_in_full()
    {
        var yaml = Path.Combine(_root, "tasks", "arith", "suite.yaml");
        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml)).Replace("min_pass_rate: 0.9", "min_pass_rate: 0.9\n  sequential: true", StringComparison.Ordinal));

        var result = await Service(Backend((a, b) => (a + b).ToString(CultureInfo.InvariantCulture))).StartAsync(Options("oracle") with { OrderSeed = 3 }, null, null, CancellationToken.None);

        var plan = Assert.IsType<SequentialPlan>(result.Manifest.Sequential);
        Assert.Equal((SequentialPlan.SuiteRequested, 3), (plan.Mode, plan.OrderSeed));
        Assert.Equal(["arith"], plan.Orders.Keys);
        Assert.NotNull(result.Report.FixedSuites.Single(s => s.Suite == "arith").Rows[0].Verdict.Sequential);
        Assert.Null(result.Report.FixedSuites.Single(s => s.Suite == "sentiment").Rows[0].Verdict.Sequential);
    }

    [Fact]
    public async Task A_sequential_suite_whose_bar_is_1_is_refused_naming_its_file()
    {
        var yaml = Path.Combine(_root, "tasks", "arith", "suite.yaml");
        await File.WriteAllTextAsync(yaml, (await File.ReadAllTextAsync(yaml)).Replace("min_pass_rate: 0.9", "min_pass_rate: 1\n  sequential: true", StringComparison.Ordinal));

        var ex = await Assert.ThrowsAsync<InputFileException>(() =>
            Service(Backend((a, b) => "1")).StartAsync(Options("oracle"), null, null, CancellationToken.None));

        Assert.Contains("requirement.sequential needs a min_pass_rate strictly between 0 and 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine("arith", "suite.yaml"), ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Without_until_decided_no_sequential_plan_is_recorded_and_every_item_runs()
    {
        var result = await Service(Backend((a, b) => (a + b).ToString(CultureInfo.InvariantCulture))).StartAsync(Options("oracle"), null, null, CancellationToken.None);

        Assert.Null(result.Manifest.Sequential);
        Assert.All(result.Report.FixedSuites.SelectMany(s => s.Rows), r => Assert.Null(r.Verdict.Sequential));
        Assert.Equal(200, result.Report.FixedSuites.Single(s => s.Suite == "arith").Rows[0].Verdict.Items);
    }

    public void Dispose()
    {
        _http.Dispose();
        Directory.Delete(_root, recursive: true);
    }
}
