namespace Harness.Cli.Running;

/// <summary>
/// A run or comparison stopped by Ctrl+C after its folder was created: carries the folder, so the message can say
/// which command continues it, with the path to paste.
/// </summary>
/// <param name="RunDirectory">The absolute path of the run folder.</param>
/// <param name="IsComparison">The folder is a <c>harness compare</c> run, continued by <c>harness compare --resume</c>.</param>
internal sealed class RunCancelledException(string runDirectory, bool isComparison, OperationCanceledException inner)
    : OperationCanceledException($"run {runDirectory} cancelled", inner, inner.CancellationToken)
{
    public string RunDirectory { get; } = runDirectory;

    public bool IsComparison { get; } = isComparison;

    /// <summary>run.json was written before the cancel: the plan exists, so a resume can continue it.</summary>
    public bool Resumable => File.Exists(Core.Serialization.RunManifestFile.PathIn(RunDirectory));

    /// <summary>The command that continues the run, with the folder as the user would type it.</summary>
    public string ResumeCommand(string currentDirectory)
    {
        var relative = Path.GetRelativePath(currentDirectory, RunDirectory);
        var shown = relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative) ? RunDirectory : relative;
        // Quoted for a POSIX shell when it holds anything the shell would split or expand.
        if (shown.Any(c => char.IsWhiteSpace(c) || c is '\'' or '"' or '$' or '`' or '*' or '?' or '&' or ';'))
        {
            shown = "'" + shown.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
        }

        return $"harness {(IsComparison ? "compare" : "run")} --resume {shown}";
    }
}
