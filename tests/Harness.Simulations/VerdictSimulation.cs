namespace Harness.Simulations;

/// <summary>Error rates and items used by the fixed-n and sequential fixed-requirement rules (owned by the sequential-verdicts work).</summary>
internal static class VerdictSimulation
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("verdicts: not written yet");
        return 1;
    }
}
