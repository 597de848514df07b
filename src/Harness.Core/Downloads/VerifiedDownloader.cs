using System.Buffers;
using System.Security.Cryptography;
using Harness.Core.Serialization;

namespace Harness.Core.Downloads;

/// <summary>
/// Downloads one file whose sha256 is known in advance, for models and datasets alike. Bytes stream through a temp
/// file beside the target and are hashed on the way; the file is moved into place only when the hash matches, so a
/// content-addressed cache (<c>&lt;root&gt;/&lt;sha256&gt;/&lt;file name&gt;</c>) never holds a partial or wrong file.
/// </summary>
public sealed class VerifiedDownloader
{
    private const int BufferBytes = 1 << 16;

    private readonly HttpClient http;
    private readonly FileHasher hasher;

    /// <param name="http">Used as given: the caller owns its lifetime, handler and timeouts.</param>
    /// <param name="hasher">Told the hash of every completed download so later cache checks skip re-hashing.</param>
    public VerifiedDownloader(HttpClient http, FileHasher hasher)
    {
        this.http = http;
        this.hasher = hasher;
    }

    /// <summary>The content-addressed place of a file with this hash and name under <paramref name="cacheDirectory"/>.</summary>
    public static string CachePath(string cacheDirectory, string sha256, string fileName) =>
        Path.Combine(Path.GetFullPath(cacheDirectory), sha256.ToLowerInvariant(), fileName);

    /// <summary>
    /// True when <paramref name="path"/> exists with the expected hash. A file that hashes otherwise is deleted: only
    /// verified bytes are ever moved into the cache, so a mismatch means later damage and the file must be fetched again.
    /// </summary>
    public async Task<bool> IsCachedAsync(string path, string sha256, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            return false;
        }

        var actual = await hasher.Sha256Async(path, cancellationToken);
        if (string.Equals(actual, sha256, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        File.Delete(path);
        return false;
    }

    /// <summary>The cached file at <paramref name="target"/> when it is intact, else a fresh download of <paramref name="url"/> into it.</summary>
    /// <param name="name">What is downloaded, for progress (a model id, a dataset file).</param>
    /// <exception cref="DownloadException">HTTP error, network failure or checksum mismatch.</exception>
    public async Task<string> GetAsync(
        string name, Uri url, string sha256, string target, IProgress<DownloadProgress>? progress, CancellationToken cancellationToken) =>
        await IsCachedAsync(target, sha256, cancellationToken)
            ? target
            : await DownloadAsync(name, url, sha256, target, progress, cancellationToken);

    /// <summary>Downloads <paramref name="url"/> to <paramref name="target"/>, verifying <paramref name="sha256"/>. Always downloads.</summary>
    /// <param name="name">What is downloaded, for progress (a model id, a dataset file).</param>
    /// <returns>The target path.</returns>
    /// <exception cref="DownloadException">HTTP error, network failure or checksum mismatch.</exception>
    /// <exception cref="OperationCanceledException">Cancelled; nothing is left at the target.</exception>
    public async Task<string> DownloadAsync(
        string name,
        Uri url,
        string sha256,
        string target,
        IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        var expected = sha256.ToLowerInvariant();
        target = Path.GetFullPath(target);
        var folder = Path.GetDirectoryName(target)!;
        Directory.CreateDirectory(folder);
        var temp = Path.Combine(folder, $".{Path.GetFileName(target)}.{Guid.NewGuid():N}.partial");
        var completed = false;
        try
        {
            using var response = await SendAsync(url, cancellationToken);
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
                        while ((read = await ReadAsync(url, source, buffer, cancellationToken)) > 0)
                        {
                            hash.AppendData(buffer, 0, read);
                            await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                            done += read;
                            progress?.Report(new DownloadProgress(name, url, done, total));
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
                throw new DownloadException($"checksum mismatch for {url}: expected sha256 {expected}, got {actual}; the download was discarded");
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

    private async Task<HttpResponseMessage> SendAsync(Uri url, CancellationToken cancellationToken)
    {
        HttpResponseMessage response;
        try
        {
            response = await http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (HttpRequestException ex)
        {
            throw new DownloadException($"download of {url} failed: {ex.Message}", ex);
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new DownloadException($"download of {url} timed out", ex);
        }

        if (!response.IsSuccessStatusCode)
        {
            var status = (int)response.StatusCode;
            var reason = response.ReasonPhrase;
            response.Dispose();
            throw new DownloadException($"download of {url} failed: HTTP {status} {reason}".TrimEnd());
        }

        return response;
    }

    private static async Task<int> ReadAsync(Uri url, Stream source, byte[] buffer, CancellationToken cancellationToken)
    {
        try
        {
            return await source.ReadAsync(buffer, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException)
        {
            throw new DownloadException($"download of {url} broke off: {ex.Message}", ex);
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
            // Another download may be using the folder; a stray .partial is ignored by every cache check.
        }
    }
}
