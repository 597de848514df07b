using System.Diagnostics;
using System.Globalization;
using Harness.Core.Reports;
using Harness.Core.Statistics;

namespace Harness.Simulations;

/// <summary>
/// Family-wise error of the frontier rule: how often a model truly as good as the best is left off the frontier, for
/// the rule the reports use (<see cref="MultipleComparisons.CompareWithBest"/>) and for the rule it replaced (each
/// model tested alone against the best by a 95 % paired bootstrap), side by side; and, where some models are truly
/// worse, how often each rule leaves those off (power).
/// </summary>
/// <remarks>
/// Items are pass/fail with a difficulty drawn once per item (uniform in [0, 1]); a model passes item i with
/// probability difficulty + shift, clamped to [0, 1], independently of the other models. Equal shifts make models
/// truly equal and correlated through the items, as real models on one suite are.
/// Options: --runs N (default 1000), --resamples R (default 1000; the reports use 2000, which moves q by a few
/// thousandths and doubles the run time), --seed S (default 12).
/// </remarks>
internal static class FrontierSimulation
{
    private sealed record Scenario(string Name, double[] Shifts, int Items);

    private static readonly int[] EqualModelCounts = [2, 5, 10];
    private static readonly int[] ItemCounts = [100, 500];

    public static int Run(string[] args)
    {
        int runs = Option(args, "--runs", 1000);
        int resamples = Option(args, "--resamples", 1000);
        int seed = Option(args, "--seed", 12);
        const double confidence = 0.95;

        Scenario[] scenarios =
        [
            .. EqualModelCounts.SelectMany(m => ItemCounts.Select(n =>
                new Scenario($"{m} equal", [.. Enumerable.Repeat(0.0, m)], n))),
            .. ItemCounts.Select(n => new Scenario("1 better by 0.1, 4 equal", [0.1, 0, 0, 0, 0], n)),
            .. ItemCounts.Select(n => new Scenario("2 tied best, 3 worse by 0.1", [0, 0, -0.1, -0.1, -0.1], n)),
        ];

        var clock = Stopwatch.StartNew();
        Console.WriteLine(Inv($"Frontier simulation: {runs} runs per row, {resamples} bootstrap resamples, seed {seed}, confidence {confidence}."));
        Console.WriteLine();
        Console.WriteLine("| models | items | a truly best model left off: old rule | new rule | truly worse models left off: old rule | new rule |");
        Console.WriteLine("|---|---:|---:|---:|---:|---:|");
        for (int s = 0; s < scenarios.Length; s++)
        {
            Scenario scenario = scenarios[s];
            var outcomes = new Outcome[runs];
            Parallel.For(0, runs, run =>
            {
                // One generator per run, seeded from the run's number: the table does not depend on thread timing.
                var random = new Random(unchecked((seed * 1_000_003) + (s * 100_003) + run));
                outcomes[run] = Simulate(scenario, random, confidence, resamples);
            });

            double top = scenario.Shifts.Max();
            int worse = scenario.Shifts.Count(x => x < top);
            Console.WriteLine(Inv($"| {scenario.Name} | {scenario.Items} | {Rate(outcomes.Count(o => o.OldBestExcluded), runs)} | {Rate(outcomes.Count(o => o.NewBestExcluded), runs)} | {(worse == 0 ? "–" : Rate(outcomes.Sum(o => o.OldWorseExcluded), runs * worse))} | {(worse == 0 ? "–" : Rate(outcomes.Sum(o => o.NewWorseExcluded), runs * worse))} |"));
        }

        Console.WriteLine();
        Console.WriteLine(Inv($"Took {clock.Elapsed.TotalSeconds:0} s on {Environment.ProcessorCount} cores."));
        return 0;
    }

    private sealed record Outcome(bool OldBestExcluded, bool NewBestExcluded, int OldWorseExcluded, int NewWorseExcluded);

    private static Outcome Simulate(Scenario scenario, Random random, double confidence, int resamples)
    {
        int m = scenario.Shifts.Length, n = scenario.Items;
        double[] difficulty = [.. Enumerable.Range(0, n).Select(_ => random.NextDouble())];
        double[][] scores = [.. scenario.Shifts.Select(shift =>
            difficulty.Select(p => random.NextDouble() < Math.Clamp(p + shift, 0.0, 1.0) ? 1.0 : 0.0).ToArray())];

        // As in the reports: the best is the highest mean, the first one among equal means.
        double[] means = [.. scores.Select(s => s.Average())];
        int best = Array.IndexOf(means, means.Max());

        // Old rule (kept here only): each model alone against the best, on the frontier when the 95 % paired bootstrap
        // interval's upper bound is at or above 0.
        var oldOn = new bool[m];
        for (int j = 0; j < m; j++)
        {
            oldOn[j] = j == best || PairedTests.CompareMeans(
                scores[best], scores[j], confidence, resamples, FrontierAnalyzer.BootstrapSeed).Interval.Upper >= 0.0;
        }

        ComparisonWithBest simultaneous = MultipleComparisons.CompareWithBest(scores, best, confidence, resamples, FrontierAnalyzer.BootstrapSeed);
        bool[] newOn = [.. simultaneous.Models.Select((d, j) => j == best || d.Interval is not { } i || i.Upper >= 0.0)];

        double top = scenario.Shifts.Max();
        bool[] trulyBest = [.. scenario.Shifts.Select(x => x == top)];
        return new Outcome(
            Enumerable.Range(0, m).Any(j => trulyBest[j] && !oldOn[j]),
            Enumerable.Range(0, m).Any(j => trulyBest[j] && !newOn[j]),
            Enumerable.Range(0, m).Count(j => !trulyBest[j] && !oldOn[j]),
            Enumerable.Range(0, m).Count(j => !trulyBest[j] && !newOn[j]));
    }

    private static string Rate(int count, int total) => ((double)count / total * 100).ToString("0.0", CultureInfo.InvariantCulture) + " %";

    private static int Option(string[] args, string name, int fallback)
    {
        int at = Array.IndexOf(args, name);
        if (at < 0)
        {
            return fallback;
        }

        if (at + 1 >= args.Length || !int.TryParse(args[at + 1], NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) || value <= 0)
        {
            throw new ArgumentException($"{name} needs a positive whole number.");
        }

        return value;
    }

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
