namespace Harness.IntegrationTests;

/// <summary>
/// The tiny real models tests may use. They live outside the repository and are never committed: in the folder
/// named by <c>HARNESS_SHARED_MODELS</c>, else <c>&lt;repo&gt;/../shared/models/</c>, else the first
/// <c>shared/models</c> folder above the test binaries (git worktrees).
/// </summary>
public static class SharedModels
{
    /// <summary>A 260K-parameter llama trained on TinyStories (MIT, about 1.2 MB).</summary>
    public const string Stories260K = "stories260K.gguf";

    public static string Stories260KPath => PathOf(Stories260K);

    /// <summary>Full path where the shared model <paramref name="fileName"/> is expected, whether or not it exists.</summary>
    public static string PathOf(string fileName) => Path.Combine(Folder(), fileName);

    /// <summary>True when a missing shared model must fail the test instead of skipping it.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string Folder()
    {
        if (Environment.GetEnvironmentVariable("HARNESS_SHARED_MODELS") is { Length: > 0 } configured)
        {
            return configured;
        }

        string? beside = null;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (beside is null && File.Exists(Path.Combine(dir.FullName, "Harness.sln")))
            {
                beside = Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared", "models"));
                if (Directory.Exists(beside))
                {
                    return beside;
                }
            }

            var candidate = Path.Combine(dir.FullName, "shared", "models");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return beside ?? Path.Combine(AppContext.BaseDirectory, "shared", "models");
    }
}

/// <summary>
/// A fact that needs a shared model file: skipped with a reason when the file is missing, except under
/// <c>CI=true</c>, where the test runs and fails on the missing file.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresSharedModelFactAttribute : FactAttribute
{
    public RequiresSharedModelFactAttribute(string fileName = SharedModels.Stories260K)
    {
        FileName = fileName;
        var path = SharedModels.PathOf(fileName);
        if (!File.Exists(path) && !SharedModels.IsCi)
        {
            Skip = $"Shared model {path} is missing (set HARNESS_SHARED_MODELS; under CI=true this test fails instead).";
        }
    }

    public string FileName { get; }
}

/// <summary>The theory form of <see cref="RequiresSharedModelFactAttribute"/>: same skip rule.</summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresSharedModelTheoryAttribute : TheoryAttribute
{
    public RequiresSharedModelTheoryAttribute(string fileName = SharedModels.Stories260K)
    {
        FileName = fileName;
        var path = SharedModels.PathOf(fileName);
        if (!File.Exists(path) && !SharedModels.IsCi)
        {
            Skip = $"Shared model {path} is missing (set HARNESS_SHARED_MODELS; under CI=true this test fails instead).";
        }
    }

    public string FileName { get; }
}
