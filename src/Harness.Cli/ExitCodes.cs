namespace Harness.Cli;

/// <summary>Process exit codes, documented in README.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int UnexpectedError = 1;
    public const int BadInput = 2;
    /// <summary>The run finished, but at least one model failed to load or crashed.</summary>
    public const int ModelFailures = 3;
    public const int Cancelled = 130;
}
