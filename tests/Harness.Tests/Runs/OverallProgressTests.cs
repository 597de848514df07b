using Harness.Cli.Output;
using Harness.Core.Comparison;
using Harness.Core.Runs;
using Harness.Tests.Fakes;
using Harness.Tests.Serialization;
using Spectre.Console;

namespace Harness.Tests.Runs;

/// <summary>The overall done/total line with its ETA, driven by a fake clock.</summary>
public sealed class OverallProgressTests
{
    [Fact]
    public void The_eta_is_the_time_left_at_the_rate_so_far()
    {
        var clock = new SteppingClock();
        var progress = new OverallProgress(clock);
        progress.Plan("a", 300);
        progress.Plan("b", 100);

        Assert.Null(progress.Snapshot().Remaining); // no rate before the first item
        clock.Advance(TimeSpan.FromSeconds(50));
        for (var i = 0; i < 100; i++)
            progress.ItemDone("a");

        var snapshot = progress.Snapshot();
        Assert.Equal(new ProgressSnapshot(100, 400, TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(150)), snapshot);
        Assert.Equal("100/400 items (25%), 50s elapsed, ETA 2m30s", snapshot.Text);
    }

    [Fact]
    public void A_part_that_ends_early_leaves_the_total_and_a_corrected_plan_replaces_the_first()
    {
        var clock = new SteppingClock();
        var progress = new OverallProgress(clock);
        progress.Plan("a", 300);
        progress.Plan("b", 100);
        progress.ItemDone("a");
        progress.PartFinished("a"); // crashed after one item
        progress.Plan("b", 40);     // its own count once it started: a resume had recorded the rest

        Assert.Equal(41, progress.Snapshot().Total);
    }

    [Theory]
    [InlineData(0, "0s")]
    [InlineData(59.4, "59s")]
    [InlineData(725, "12m05s")]
    [InlineData(3720, "1h02m")]
    public void Durations_are_short(double seconds, string expected)
    {
        Assert.Equal(expected, ProgressSnapshot.Duration(TimeSpan.FromSeconds(seconds)));
    }

    [Fact]
    public void Piped_run_progress_is_one_overall_line_per_tenth_not_a_line_per_suite()
    {
        var clock = new SteppingClock();
        using var text = new StringWriter();
        var observer = new LineProgressObserver(Console(text), clock);
        observer.RunStarting(new Dictionary<string, int> { ["m1"] = 50, ["m2"] = 50 });

        // 100 items over 10 suites of 10: the old observer printed 40 per-suite lines.
        for (var i = 1; i <= 100; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(1));
            var model = i <= 50 ? "m1" : "m2";
            observer.ItemCompleted(new EvaluationProgress(model, $"suite{(i - 1) / 10}", (i - 1) % 10 + 1, 10, Record(model)));
        }

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("100 items to evaluate across 2 models", lines[0]);
        Assert.Equal(11, lines.Length);
        Assert.Equal("progress: 10/100 items (10%), 10s elapsed, ETA 1m30s", lines[1]);
        Assert.Equal("progress: 100/100 items (100%), 1m40s elapsed, ETA 0s", lines[^1]);
    }

    [Fact]
    public void Piped_progress_prints_at_least_once_a_minute_while_items_are_done()
    {
        var clock = new SteppingClock();
        using var text = new StringWriter();
        var observer = new LineProgressObserver(Console(text), clock);
        observer.RunStarting(new Dictionary<string, int> { ["m"] = 1000 });

        for (var i = 1; i <= 20; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(10));
            observer.ItemCompleted(new EvaluationProgress("m", "s", i, 1000, Record("m")));
        }

        // 20 of 1000 items cross no tenth, but 200 s pass: a line at 60, 120 and 180 s.
        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal(["progress: 6/1000 items (0%), 1m00s elapsed, ETA 2h45m", "progress: 12/1000 items (1%), 2m00s elapsed, ETA 2h44m", "progress: 18/1000 items (1%), 3m00s elapsed, ETA 2h43m"], lines[1..]);
    }

    [Fact]
    public void The_drift_pass_counts_all_candidates_with_one_eta()
    {
        var clock = new SteppingClock();
        using var text = new StringWriter();
        var observer = new LineProgressObserver(Console(text), clock);

        observer.Report(new DriftProgress("q8", 0, 10, 1, 2));
        for (var i = 1; i <= 10; i++)
        {
            clock.Advance(TimeSpan.FromSeconds(3));
            observer.Report(new DriftProgress("q8", i, 10, 1, 2));
        }

        var lines = text.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Equal("drift q8 (candidate 1 of 2): 10 items", lines[0]);
        // The second candidate is planned with the first's items: half done after 30 s, 30 s to go.
        Assert.Equal("drift: 10/20 items (50%), 30s elapsed, ETA 30s", lines[^1]);
    }

    private static IAnsiConsole Console(StringWriter text)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Ansi = AnsiSupport.No, ColorSystem = ColorSystemSupport.NoColors, Out = new AnsiConsoleOutput(text) });
        console.Profile.Width = 240;
        return console;
    }

    private static ItemRecord Record(string model) => SampleRecords.Item(model, "s", "q1", passed: true);
}
