using System.Collections.Immutable;

namespace Harness.Tasks.Import;

/// <summary>One bad row of an imported file.</summary>
/// <param name="Row">Where in the file: the physical line for CSV/TSV and JSONL, <c>[i]</c> (0-based) for a JSON
/// array, <c>row i</c> (0-based) for Parquet; empty for a problem of the whole file.</param>
public sealed record ImportProblem(string File, string Row, string Problem)
{
    public override string ToString() => Row.Length == 0 ? $"{File}: {Problem}" : $"{File}:{Row}: {Problem}";
}

/// <summary>An import refused: every problem found, each as <c>file:row: problem</c>. Nothing was written.</summary>
public sealed class ImportException(ImmutableArray<ImportProblem> problems)
    : Exception(Describe(problems))
{
    /// <summary>Problems listed in the message before the rest are only counted.</summary>
    public const int ListedProblems = 20;

    public ImmutableArray<ImportProblem> Problems { get; } = problems;

    public ImportException(ImportProblem problem)
        : this([problem])
    {
    }

    private static string Describe(ImmutableArray<ImportProblem> problems)
    {
        var lines = problems.Take(ListedProblems).Select(p => p.ToString()).ToList();
        if (problems.Length > ListedProblems)
        {
            lines.Add($"... and {problems.Length - ListedProblems} more problem(s)");
        }
        return string.Join("\n", lines);
    }
}
