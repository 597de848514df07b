using System.Diagnostics;
using System.Globalization;
using Harness.Core.Statistics;
using Harness.Core.Verdicts;

namespace Harness.Simulations;

/// <summary>Error rates and items used by the fixed-n and sequential fixed-requirement rules (owned by the sequential-verdicts work).</summary>
/// <remarks>
/// Each simulated run draws one suite's worth of Bernoulli(p) outcomes and gives the same outcomes to both rules: the
/// fixed-n rule (<see cref="VerdictCalculator.FixedNPassRate"/> on the Wilson interval of all items) and the sequential
/// rule (<see cref="TwoSidedBettingTest"/>, stopped at its first decision). Both are the product's code. Cells run in
/// parallel, each with its own seeded generator, so the table is the same on every machine and thread count.
/// </remarks>
internal static class VerdictSimulation
{
    private static readonly double[] Bars = [0.8, 0.9, 0.95];

    public static int Run(string[] args)
    {
        int runs = 10_000, items = 500, seed = 20261207;
        double confidence = 0.95;
        for (int i = 0; i < args.Length; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--runs" when int.TryParse(value, CultureInfo.InvariantCulture, out runs) && runs > 0:
                case "--items" when int.TryParse(value, CultureInfo.InvariantCulture, out items) && items > 0:
                case "--seed" when int.TryParse(value, CultureInfo.InvariantCulture, out seed):
                case "--confidence" when double.TryParse(value, CultureInfo.InvariantCulture, out confidence) && confidence is > 0 and < 1:
                    i++;
                    break;
                default:
                    Console.Error.WriteLine("usage: verdicts [--runs 10000] [--items 500] [--seed 20261207] [--confidence 0.95]");
                    return 2;
            }
        }

        var cells = Bars
            .SelectMany(bar => Enumerable.Range(-3, 7).Select(k => (Bar: bar, Rate: Math.Round(bar + 0.05 * k, 10))))
            .Where(c => c.Rate is >= 0 and <= 1)
            .ToArray();
        var clock = Stopwatch.StartNew();
        var results = new CellResult[cells.Length];
        Parallel.For(0, cells.Length, i => results[i] = Simulate(cells[i].Bar, cells[i].Rate, runs, items, confidence, seed + 7919 * i));

        double alphaPerSide = (1 - confidence) / 2;
        Console.WriteLine(Inv($"{runs} simulated runs of {items} items per cell, confidence {confidence:0.###} ({alphaPerSide:0.###} per side), seed {seed}."));
        Console.WriteLine("Error: false \"sufficient\" where p < bar, false \"insufficient\" where p >= bar. Items used: mean share of the suite.");
        Console.WriteLine();
        Console.WriteLine("| bar | true p | fixed-n: sufficient / insufficient / undecided | fixed-n error | sequential: sufficient / insufficient / undecided | sequential error | sequential items used |");
        Console.WriteLine("|---:|---:|---|---:|---|---:|---:|");
        foreach (var (cell, result) in cells.Zip(results))
        {
            Console.WriteLine(Inv(
                $"| {cell.Bar:0.00} | {cell.Rate:0.00} | {Pct(result.Fixed.Sufficient, runs)} / {Pct(result.Fixed.Insufficient, runs)} / {Pct(result.Fixed.Undecided, runs)} | {Pct(result.Fixed.Error(cell.Rate, cell.Bar), runs)} | {Pct(result.Sequential.Sufficient, runs)} / {Pct(result.Sequential.Insufficient, runs)} / {Pct(result.Sequential.Undecided, runs)} | {Pct(result.Sequential.Error(cell.Rate, cell.Bar), runs)} | {100.0 * result.ItemsUsed / ((double)runs * items):0.0}% |"));
        }

        double worstFixed = cells.Zip(results).Max(c => (double)c.Second.Fixed.Error(c.First.Rate, c.First.Bar) / runs);
        double worstSequential = cells.Zip(results).Max(c => (double)c.Second.Sequential.Error(c.First.Rate, c.First.Bar) / runs);
        var far = cells.Zip(results).Where(c => Math.Abs(c.First.Rate - c.First.Bar) >= 0.1 - 1e-9).ToArray();
        double worstFarUse = far.Length == 0 ? 0 : far.Max(c => (double)c.Second.ItemsUsed / ((double)runs * items));
        Console.WriteLine();
        Console.WriteLine(Inv($"Largest error: fixed-n {100 * worstFixed:0.00}%, sequential {100 * worstSequential:0.00}% (declared: {100 * alphaPerSide:0.##}% per side, {100 * (1 - confidence):0.##}% in all)."));
        Console.WriteLine(Inv($"Largest mean share of items used by the sequential rule where |p - bar| >= 0.1: {100 * worstFarUse:0.0}% (target: at most 40%)."));
        Console.Error.WriteLine(Inv($"({clock.Elapsed.TotalSeconds:0} s)"));
        return 0;
    }

    private static CellResult Simulate(double bar, double rate, int runs, int items, double confidence, int seed)
    {
        var random = new Random(seed);
        var outcomes = new bool[items];
        var fixedCounts = new Counts();
        var sequentialCounts = new Counts();
        long used = 0;
        for (int run = 0; run < runs; run++)
        {
            int passed = 0;
            for (int i = 0; i < items; i++)
            {
                outcomes[i] = random.NextDouble() < rate;
                passed += outcomes[i] ? 1 : 0;
            }

            fixedCounts.Add(VerdictCalculator.FixedNPassRate(Estimators.Wilson(passed, items, confidence), bar));

            var test = TwoSidedBettingTest.Start(bar, confidence);
            int seen = 0;
            while (seen < items && test.Decision is null)
            {
                test = test.Observe(outcomes[seen++]);
            }

            used += seen;
            sequentialCounts.Add(test.Decision switch
            {
                BetDirection.Above => VerdictKind.Sufficient,
                BetDirection.Below => VerdictKind.Insufficient,
                _ => VerdictKind.Undecided,
            });
        }

        return new CellResult(fixedCounts, sequentialCounts, used);
    }

    private static string Pct(int count, int runs) => (100.0 * count / runs).ToString("0.00", CultureInfo.InvariantCulture) + "%";

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private sealed record CellResult(Counts Fixed, Counts Sequential, long ItemsUsed);

    private sealed class Counts
    {
        public int Sufficient { get; private set; }

        public int Insufficient { get; private set; }

        public int Undecided { get; private set; }

        public void Add(VerdictKind kind)
        {
            switch (kind)
            {
                case VerdictKind.Sufficient: Sufficient++; break;
                case VerdictKind.Insufficient: Insufficient++; break;
                default: Undecided++; break;
            }
        }

        // A model below the bar wrongly passed, or one at or above it wrongly failed.
        public int Error(double rate, double bar) => rate < bar - 1e-12 ? Sufficient : Insufficient;
    }
}
