using System.Globalization;
using Harness.Core.Reports;
using Harness.Core.Serialization;
using Harness.Core.Verdicts;

namespace Harness.Simulations;

/// <summary>
/// Not a simulation: the real-run check of docs/statistics.md. Reads the report.json of a full run and of a run with
/// --until-decided over the same models and suites, and prints per (model, fixed suite) both verdicts and the items
/// the sequential verdict used.
/// </summary>
internal static class AgreementCheck
{
    public static int Run(string[] args)
    {
        if (args.Length != 2)
        {
            Console.Error.WriteLine("usage: Harness.Simulations agreement <full-run-folder> <until-decided-run-folder>");
            return 2;
        }

        var full = Rows(args[0]);
        var sequential = Rows(args[1]);
        Console.WriteLine("| model | suite | full run: passed, verdict | until decided: verdict | items used | agree |");
        Console.WriteLine("|---|---|---|---|---:|---|");
        int used = 0, total = 0, decided = 0, agree = 0;
        foreach (var ((model, suite), (verdict, items)) in full.OrderBy(r => r.Key.Suite, StringComparer.Ordinal).ThenBy(r => r.Key.Model, StringComparer.Ordinal))
        {
            if (!sequential.TryGetValue((model, suite), out var other))
            {
                Console.WriteLine(Inv($"| {model} | {suite} | {verdict.Passed}/{verdict.Items} {Name(verdict.Kind)} | not in the second run | – | – |"));
                continue;
            }

            var itemsUsed = other.Verdict.Sequential?.ItemsUsed ?? other.Verdict.Items;
            used += itemsUsed;
            total += items;
            string same = "(full run undecided)";
            if (verdict.Kind is VerdictKind.Sufficient or VerdictKind.Insufficient)
            {
                decided++;
                agree += verdict.Kind == other.Verdict.Kind ? 1 : 0;
                same = verdict.Kind == other.Verdict.Kind ? "yes" : "NO";
            }

            Console.WriteLine(Inv($"| {model} | {suite} | {verdict.Passed}/{verdict.Items} {Name(verdict.Kind)} | {Name(other.Verdict.Kind)} | {itemsUsed} of {items} | {same} |"));
        }

        Console.WriteLine();
        Console.WriteLine(Inv($"Items used: {used} of {total} ({100.0 * used / Math.Max(1, total):0.0}%); the same verdict on {agree} of the {decided} pairs the full run decided."));
        return 0;
    }

    private static Dictionary<(string Model, string Suite), (FixedSuiteVerdict Verdict, int Items)> Rows(string runFolder)
    {
        var report = HarnessJson.Deserialize<RunReport>(File.ReadAllText(Path.Combine(runFolder, "report.json")));
        return report.FixedSuites
            .SelectMany(s => s.Rows.Select(r => (Key: (r.ModelId, s.Suite), Value: (r.Verdict, s.ItemCount))))
            .ToDictionary(r => r.Key, r => r.Value);
    }

    private static string Name(VerdictKind kind) => kind.ToString().ToLowerInvariant();

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
