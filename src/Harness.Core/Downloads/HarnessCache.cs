namespace Harness.Core.Downloads;

/// <summary>
/// The harness's cache folder: downloaded models under <c>models/&lt;sha256&gt;/</c>, catalogue benchmark files under
/// <c>datasets/&lt;sha256&gt;/</c>, file-hash sidecars under <c>hashes/</c>. Never holds results; deleting it only costs re-downloads and re-hashing.
/// </summary>
/// <param name="Root">Absolute path of the cache folder.</param>
public sealed record HarnessCache(string Root)
{
    /// <summary>Environment variable that overrides the cache folder.</summary>
    public const string EnvironmentVariable = "HARNESS_CACHE";

    public string ModelsDirectory => Path.Combine(Root, "models");

    public string DatasetsDirectory => Path.Combine(Root, "datasets");

    public string HashesDirectory => Path.Combine(Root, "hashes");

    /// <summary><c>$HARNESS_CACHE</c> when set, else <c>~/.cache/harness</c>.</summary>
    public static HarnessCache FromEnvironment()
    {
        var configured = System.Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrWhiteSpace(configured))
        {
            return new HarnessCache(Path.GetFullPath(configured));
        }

        var home = System.Environment.GetFolderPath(System.Environment.SpecialFolder.UserProfile);
        return new HarnessCache(Path.Combine(home, ".cache", "harness"));
    }
}
