namespace Harness.Tests.Tasks;

/// <summary>
/// The upstream benchmark files tests may read (../shared/datasets, README there). They are never committed: in the
/// folder named by <c>HARNESS_SHARED_DATASETS</c>, else <c>&lt;repo&gt;/../shared/datasets/</c>, else the first
/// <c>shared/datasets</c> folder above the test binaries (git worktrees).
/// </summary>
public static class SharedDatasets
{
    /// <summary>The datasets root, whether or not it exists.</summary>
    public static string Root => Folder();

    /// <summary>Full path of <paramref name="relativePath"/> under the datasets root.</summary>
    public static string PathOf(string relativePath) => Path.Combine(Folder(), relativePath);

    /// <summary>True when missing data must fail the test instead of skipping it.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string Folder()
    {
        if (Environment.GetEnvironmentVariable("HARNESS_SHARED_DATASETS") is { Length: > 0 } configured)
        {
            return configured;
        }

        string? beside = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (beside is null && File.Exists(Path.Combine(dir.FullName, "Harness.sln")))
            {
                beside = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "datasets"));
                if (Directory.Exists(beside))
                {
                    return beside;
                }
            }

            var candidate = Path.Combine(dir.FullName, "shared", "datasets");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return beside ?? Path.Combine(AppContext.BaseDirectory, "shared", "datasets");
    }
}

/// <summary>
/// A fact that reads shared upstream data: skipped with a reason when the folder is missing, except under
/// <c>CI=true</c>, where the test runs and fails on the missing files.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresSharedDatasetFactAttribute : FactAttribute
{
    public RequiresSharedDatasetFactAttribute(string folder)
    {
        var path = SharedDatasets.PathOf(folder);
        if (!Directory.Exists(path) && !SharedDatasets.IsCi)
        {
            Skip = $"Shared dataset {path} is missing (set HARNESS_SHARED_DATASETS; under CI=true this test fails instead).";
        }
    }
}

/// <summary>The theory form of <see cref="RequiresSharedDatasetFactAttribute"/>: same skip rule.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresSharedDatasetTheoryAttribute : TheoryAttribute
{
    public RequiresSharedDatasetTheoryAttribute(string folder)
    {
        var path = SharedDatasets.PathOf(folder);
        if (!Directory.Exists(path) && !SharedDatasets.IsCi)
        {
            Skip = $"Shared dataset {path} is missing (set HARNESS_SHARED_DATASETS; under CI=true this test fails instead).";
        }
    }
}
