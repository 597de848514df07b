namespace Harness.Simulations;

/// <summary>Family-wise error of the frontier rule (owned by the statistics work).</summary>
internal static class FrontierSimulation
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("frontier: not written yet");
        return 1;
    }
}
