using Harness.Simulations;

// One entry per simulation; each prints a Markdown table that docs/statistics.md quotes with this command line.
var simulations = new Dictionary<string, Func<string[], int>>(StringComparer.Ordinal)
{
    ["verdicts"] = VerdictSimulation.Run,
    ["frontier"] = FrontierSimulation.Run,
    ["agreement"] = AgreementCheck.Run,
};

if (args.Length == 0 || !simulations.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Harness.Simulations <{string.Join('|', simulations.Keys)}> [options]");
    return 2;
}

return run(args[1..]);
