namespace Harness.Cli;

/// <summary>Process exit codes, documented in README.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int UnexpectedError = 1;
    public const int BadInput = 2;
    /// <summary>The run finished, but at least one model failed to load or crashed.</summary>
    public const int ModelFailures = 3;
    /// <summary>
    /// The run finished and every model ran, but some (model, suite) is in error: items failed for a reason that is
    /// not the model's answer (the prompt does not fit the context, a scorer could not run, a backend error).
    /// <see cref="ModelFailures"/> wins when both apply.
    /// </summary>
    public const int VerdictErrors = 4;
    public const int Cancelled = 130;
}
