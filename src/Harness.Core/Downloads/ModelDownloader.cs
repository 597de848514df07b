namespace Harness.Core.Downloads;

/// <summary>
/// Downloads a model into the content-addressed cache <c>&lt;models&gt;/&lt;sha256&gt;/&lt;file name&gt;</c> through
/// <see cref="VerifiedDownloader"/>, naming the model in every failure.
/// </summary>
public sealed class ModelDownloader
{
    private readonly VerifiedDownloader downloader;
    private readonly string modelsDirectory;

    /// <param name="http">Used as given: the caller owns its lifetime, handler and timeouts.</param>
    /// <param name="modelsDirectory">Cache root for models, e.g. <see cref="HarnessCache.ModelsDirectory"/>.</param>
    /// <param name="hasher">Told the hash of every completed download so later resolves skip re-hashing.</param>
    public ModelDownloader(HttpClient http, string modelsDirectory, FileHasher hasher)
    {
        downloader = new VerifiedDownloader(http, hasher);
        this.modelsDirectory = Path.GetFullPath(modelsDirectory);
    }

    /// <summary>Where the model from <paramref name="url"/> with this hash lives (or will live) in the cache.</summary>
    public string CachePath(Uri url, string sha256) =>
        VerifiedDownloader.CachePath(modelsDirectory, sha256, FileNameFromUrl(url));

    /// <summary>True when the cache holds the model with this hash; a damaged cached file is deleted (see <see cref="VerifiedDownloader.IsCachedAsync"/>).</summary>
    public Task<bool> IsCachedAsync(string cachePath, string sha256, CancellationToken cancellationToken) =>
        downloader.IsCachedAsync(cachePath, sha256, cancellationToken);

    /// <summary>Downloads <paramref name="url"/> into <see cref="CachePath"/>, verifying <paramref name="sha256"/>. Always downloads; callers check the cache first.</summary>
    /// <returns>The path of the cached file.</returns>
    /// <exception cref="ModelResolutionException">HTTP error, network failure or checksum mismatch.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; nothing is left in the cache.</exception>
    public async Task<string> DownloadAsync(
        string modelId,
        Uri url,
        string sha256,
        IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        try
        {
            return await downloader.DownloadAsync(modelId, url, sha256, CachePath(url, sha256), progress, cancellationToken);
        }
        catch (DownloadException ex)
        {
            throw new ModelResolutionException(modelId, $"model '{modelId}': {ex.Message}", ex);
        }
    }

    /// <summary>The last URL segment, made safe as a file name (query strings and odd characters dropped).</summary>
    internal static string FileNameFromUrl(Uri url)
    {
        var segment = Uri.UnescapeDataString(url.Segments.Length > 0 ? url.Segments[^1] : string.Empty).Trim('/');
        var invalid = Path.GetInvalidFileNameChars();
        var name = new string([.. segment.Select(c => Array.IndexOf(invalid, c) >= 0 || c == '\\' ? '_' : c)]).Trim();
        if (name.Trim('.').Length == 0)
        {
            return "model";
        }

        // A leading dot would hide the file and collide with our own ".partial" temp names.
        return name.StartsWith('.') ? "model" + name : name;
    }
}
