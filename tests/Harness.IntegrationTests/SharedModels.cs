namespace Harness.IntegrationTests;

/// <summary>
/// Locates the tiny models kept outside the repository in <c>&lt;repo&gt;/../shared/models/</c>.
/// They are never committed; see DEVELOPERS.md.
/// </summary>
public static class SharedModels
{
    /// <summary>A real 260K-parameter llama trained on TinyStories (about 1.2 MB).</summary>
    public static string Stories260KPath => PathOf("stories260K.gguf");

    /// <summary>Full path where the shared model <paramref name="fileName"/> is expected, whether or not it exists.</summary>
    public static string PathOf(string fileName) =>
        Path.GetFullPath(Path.Combine(FindRepositoryRoot(), "..", "shared", "models", fileName));

    /// <summary>True when the run is a CI run, where a missing model must fail rather than skip.</summary>
    public static bool IsCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    private static string FindRepositoryRoot()
    {
        // Walk up from the test assembly (bin/<config>/<tfm>/) to the folder holding Harness.sln.
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Harness.sln")))
                return dir.FullName;
        }
        throw new InvalidOperationException($"No Harness.sln found above '{AppContext.BaseDirectory}'.");
    }
}

/// <summary>
/// A fact that needs a shared model file: skipped with a reason when the file is missing on a developer machine,
/// but left enabled when CI=true so that a missing model fails loudly instead of silently skipping.
/// </summary>
[AttributeUsage(AttributeTargets.Method, AllowMultiple = false)]
public sealed class RequiresSharedModelFactAttribute : FactAttribute
{
    public RequiresSharedModelFactAttribute(string fileName = "stories260K.gguf")
    {
        FileName = fileName;
        var path = SharedModels.PathOf(fileName);
        if (!File.Exists(path) && !SharedModels.IsCi)
            Skip = $"Shared model '{fileName}' not found at '{path}' (set CI=true to make this a failure).";
    }

    public string FileName { get; }
}
