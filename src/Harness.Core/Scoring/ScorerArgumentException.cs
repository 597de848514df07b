namespace Harness.Core.Scoring;

/// <summary>
/// A suite's scorer arguments are wrong. The message is complete and printed as is ("scorer 'exact': unknown argument
/// 'ignore_case'; known: ..."): unlike <see cref="ArgumentException"/> it carries no " (Parameter 'x')" suffix, which
/// names a .NET parameter, not anything a suite author wrote. <see cref="ArgumentException.ParamName"/> still names
/// the suite's argument.
/// </summary>
public sealed class ScorerArgumentException : ArgumentException
{
    private readonly string message;

    public ScorerArgumentException(string scorer, string? argument, string problem)
        : base(null, argument) =>
        message = $"scorer '{scorer}': {problem}";

    /// <summary>A problem that is not one scorer's (an unknown scorer name); <paramref name="message"/> is complete.</summary>
    public ScorerArgumentException(string message)
        : base(null, (string?)null) =>
        this.message = message;

    public override string Message => message;
}
