using BenchmarkDotNet.Attributes;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Core.Statistics;
using Harness.Core.Suites;
using Harness.Store.Sqlite;

namespace Harness.Benchmarks;

/// <summary>Prompt rendering and scoring of one item, on the shipped suites (answers equal to the targets).</summary>
[MemoryDiagnoser]
public class PromptAndScoringBenchmarks
{
    private PreparedSuite _arith = null!, _json = null!, _dates = null!;
    private SuiteItem _arithItem = null!, _jsonItem = null!, _datesItem = null!;

    [GlobalSetup]
    public void Setup()
    {
        (_arith, _json, _dates) = (Repository.Suite("arith"), Repository.Suite("json-extract"), Repository.Suite("dates"));
        (_arithItem, _jsonItem, _datesItem) = (_arith.Suite.Items[17], _json.Suite.Items[17], _dates.Suite.Items[17]);
    }

    [Benchmark]
    public string RenderArithPrompt() => PromptRenderer.Render(_arith.Suite, _arithItem).PlainText;

    [Benchmark]
    public string RenderJsonPrompt() => PromptRenderer.Render(_json.Suite, _jsonItem).PlainText;

    [Benchmark]
    public Score ScoreArith() => _arith.Scorers[0].Score(new ScoringInput(_arithItem, _arithItem.Target + "\n"));

    [Benchmark]
    public Score ScoreDates() => _dates.Scorers[0].Score(new ScoringInput(_datesItem, " " + _datesItem.Target));

    /// <summary>Parse, validate against the suite's JSON Schema, compare with the target.</summary>
    [Benchmark]
    public Score ScoreJsonWithSchema() => _json.Scorers[0].Score(new ScoringInput(_jsonItem, _jsonItem.Target!));
}

/// <summary>The statistics behind verdicts and comparisons, at the shipped suites' size (200 items).</summary>
[MemoryDiagnoser]
public class StatisticsBenchmarks
{
    private readonly TimeSpan[] _latencies = [.. Enumerable.Range(0, 200).Select(i => TimeSpan.FromMilliseconds(3 + ((i * 37) % 50)))];
    private readonly double[] _base = [.. Enumerable.Range(0, 200).Select(i => (i * 13 % 7) / 7.0)];
    private readonly double[] _candidate = [.. Enumerable.Range(0, 200).Select(i => (i * 11 % 7) / 7.0)];

    private readonly int _passed = 190, _regressions = 16, _improvements = 4;

    [Benchmark]
    public ProportionEstimate Wilson() => Estimators.Wilson(_passed, 200, 0.95);

    [Benchmark]
    public TimeSpan P95Latency() => Estimators.Quantile(_latencies, 0.95);

    [Benchmark]
    public double McNemarExact() => PairedTests.McNemarExactPValue(_regressions, _improvements);

    /// <summary>10,000 resamples of 200 paired items: the comparison's costliest statistic.</summary>
    [Benchmark]
    public PairedMeanComparison PairedBootstrap() => PairedTests.CompareMeans(_base, _candidate, 0.95, 10_000, 1);
}

/// <summary>
/// The harness's cost per item around inference: render, request, score and commit, over the 200 arith items with a
/// session that answers instantly. "Discarding" leaves out the store; "Sqlite" is the real store (one fsynced
/// transaction per item, synchronous=FULL).
/// </summary>
[MemoryDiagnoser]
public class BookkeepingBenchmarks
{
    private const int Items = 200;
    private PreparedSuite _arith = null!;
    private Dictionary<string, string> _answers = null!;
    private string _folder = null!;
    private int _run;

    [GlobalSetup]
    public void Setup()
    {
        _arith = Repository.Suite("arith");
        _answers = _arith.Suite.Items.ToDictionary(i => PromptRenderer.Render(_arith.Suite, i).PlainText, i => i.Target! + "\n");
        _folder = Directory.CreateTempSubdirectory("harness-bench-").FullName;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Baseline = true, OperationsPerInvoke = Items)]
    public Task PerItemWithoutStore() =>
        new ModelEvaluator(new DiscardingStore(), TimeProvider.System).EvaluateAsync("bench", new InstantSession(_answers), [_arith], new HashSet<ItemKey>(), null, CancellationToken.None);

    [Benchmark(OperationsPerInvoke = Items)]
    public async Task PerItemWithSqliteStore()
    {
        await using var store = await SqliteRunStore.OpenAsync(Path.Combine(_folder, $"run-{_run++}"), CancellationToken.None);
        await new ModelEvaluator(store, TimeProvider.System).EvaluateAsync("bench", new InstantSession(_answers), [_arith], new HashSet<ItemKey>(), null, CancellationToken.None);
    }
}
