using System.Buffers;
using System.Security.Cryptography;
using Harness.Core.Serialization;

namespace Harness.Core.Downloads;

/// <summary>
/// Downloads a model into the content-addressed cache <c>&lt;models&gt;/&lt;sha256&gt;/&lt;file name&gt;</c>.
/// Bytes stream through a temp file in the same folder and are hashed on the way; the file is moved into
/// place only when the hash matches, so the cache never holds a partial or wrong file.
/// </summary>
public sealed class ModelDownloader
{
    private const int BufferBytes = 1 << 16;

    private readonly HttpClient http;
    private readonly string modelsDirectory;
    private readonly FileHasher hasher;

    /// <param name="http">Used as given: the caller owns its lifetime, handler and timeouts.</param>
    /// <param name="modelsDirectory">Cache root for models, e.g. <see cref="HarnessCache.ModelsDirectory"/>.</param>
    /// <param name="hasher">Told the hash of every completed download so later resolves skip re-hashing.</param>
    public ModelDownloader(HttpClient http, string modelsDirectory, FileHasher hasher)
    {
        this.http = http;
        this.modelsDirectory = Path.GetFullPath(modelsDirectory);
        this.hasher = hasher;
    }

    /// <summary>Where the model from <paramref name="url"/> with this hash lives (or will live) in the cache.</summary>
    public string CachePath(Uri url, string sha256) =>
        Path.Combine(modelsDirectory, sha256.ToLowerInvariant(), FileNameFromUrl(url));

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
        var expected = sha256.ToLowerInvariant();
        var target = CachePath(url, expected);
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        var completed = false;
        try
        {
            using var response = await SendAsync(modelId, url, cancellationToken);
            var total = response.Content.Headers.ContentLength;
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = ArrayPool<byte>.Shared.Rent(BufferBytes);
            try
            {
                var source = await response.Content.ReadAsStreamAsync(cancellationToken);
                await using (source)
                {
                    var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, BufferBytes, FileOptions.Asynchronous);
                    await using (file)
                    {
                        long done = 0;
                        int read;
                        while ((read = await ReadAsync(modelId, url, source, buffer, cancellationToken)) > 0)
                        {
                            hash.AppendData(buffer, 0, read);
                            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                            done += read;
                            progress?.Report(new DownloadProgress(modelId, url, done, total));
                        }

                        // Durable before the rename, or a crash could leave a complete-looking name over missing bytes.
                        file.Flush(flushToDisk: true);
                    }
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(buffer);
            }

            var actual = Convert.ToHexStringLower(hash.GetHashAndReset());
            if (actual != expected)
            {
                throw new ModelResolutionException(
                    modelId,
                    $"model '{modelId}': checksum mismatch for {url}: expected sha256 {expected}, got {actual}; the download was discarded");
            }

            AtomicFile.Commit(temp, target);
            completed = true;
            hasher.Remember(target, actual);
            return target;
        }
        finally
        {
            if (!completed)
            {
                CleanUp(temp, folder);
            }
        }
    }

    private async Task<HttpResponseMessage> SendAsync(string modelId, Uri url, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new ModelResolutionException(modelId, $"model '{modelId}': download of {url} failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new ModelResolutionException(modelId, $"model '{modelId}': download of {url} timed out", ex);
        }

        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            var reason = response.ReasonPhrase;
            response.Dispose();
            throw new ModelResolutionException(modelId, $"model '{modelId}': download of {url} failed: HTTP {status} {reason}".TrimEnd());
        }

        return response;
    }

    private static async Task<int> ReadAsync(string modelId, Uri url, Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await source.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new ModelResolutionException(modelId, $"model '{modelId}': download of {url} broke off: {ex.Message}", ex);
        }
    }

    private static void CleanUp(string temp, string folder)
    {
        try
        {
            File.Delete(temp);
            if (!Directory.EnumerateFileSystemEntries(folder).Any())
            {
                Directory.Delete(folder);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // Another download may be using the folder; a stray .partial is ignored by every resolve.
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
