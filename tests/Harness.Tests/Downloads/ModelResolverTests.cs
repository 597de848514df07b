using System.Collections.Immutable;
using System.Security.Cryptography;
using Harness.Core.Downloads;
using Harness.Core.Models;
using Harness.Tests.Models;

namespace Harness.Tests.Downloads;

public sealed class ModelResolverTests : IDisposable
{
    private static readonly BackendOptions Backend = new(512, 1, 512, 0, ChatTemplateMode.None);

    private readonly TempFolder folder = new();
    private readonly HarnessCache cache;
    private readonly HttpClient http = new();
    private readonly byte[] payload;
    private readonly string payloadSha256;

    public ModelResolverTests()
    {
        cache = new HarnessCache(Path.Combine(folder.Path, "cache"));
        payload = new byte[300_000];
        new Random(42).NextBytes(payload);
        payloadSha256 = Convert.ToHexStringLower(SHA256.HashData(payload));
    }

    public void Dispose()
    {
        http.Dispose();
        folder.Dispose();
    }

    private static ModelEntry Entry(string? path = null, Uri? url = null, string? sha256 = null) =>
        new("tiny", ModelFormat.Gguf, new ModelSource(path, url, sha256), Backend, null, ImmutableSortedDictionary<string, string>.Empty, 3);

    private ModelResolver Resolver() => ModelResolver.Create(http, cache);

    private static string[] FilesUnder(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, "*", SearchOption.AllDirectories) : [];

    [Fact]
    public async Task Url_is_downloaded_into_the_cache_with_progress()
    {
        await using var server = new LoopbackHttpServer(_ => new(200, payload));
        var url = new Uri(server.BaseUri, "files/tiny%20model.gguf?download=1");
        var reports = new List<DownloadProgress>();

        var resolved = await Resolver().ResolveAsync(Entry(url: url, sha256: payloadSha256.ToUpperInvariant()), folder.Path, new SyncProgress<DownloadProgress>(reports.Add), CancellationToken.None);

        Assert.Equal(Path.Combine(cache.ModelsDirectory, payloadSha256, "tiny model.gguf"), resolved.ResolvedPath);
        Assert.Equal(payload, await File.ReadAllBytesAsync(resolved.ResolvedPath));
        Assert.Equal(payloadSha256, resolved.FileSha256);
        Assert.Equal(payload.Length, resolved.FileSizeBytes);
        Assert.Equal("tiny", resolved.Entry.Id);
        Assert.NotEmpty(reports);
        Assert.All(reports, r => Assert.Equal(payload.Length, r.TotalBytes));
        Assert.All(reports, r => Assert.Equal(url, r.Url));
        Assert.Equal(payload.Length, reports[^1].BytesDone);
        Assert.Equal(reports.Select(r => r.BytesDone).Order(), reports.Select(r => r.BytesDone));
        Assert.Equal([resolved.ResolvedPath], FilesUnder(cache.ModelsDirectory));
    }

    [Fact]
    public async Task Second_resolve_uses_the_cache_without_a_request()
    {
        await using var server = new LoopbackHttpServer(_ => new(200, payload));
        var entry = Entry(url: new Uri(server.BaseUri, "tiny.gguf"), sha256: payloadSha256);
        var first = await Resolver().ResolveAsync(entry, folder.Path, null, CancellationToken.None);
        var reports = 0;

        var second = await Resolver().ResolveAsync(entry, folder.Path, new SyncProgress<DownloadProgress>(_ => reports++), CancellationToken.None);

        Assert.Equal(1, server.RequestCount);
        Assert.Equal(0, reports);
        Assert.Equal(first, second);
    }

    [Fact]
    public async Task Damaged_cache_file_is_downloaded_again()
    {
        await using var server = new LoopbackHttpServer(_ => new(200, payload));
        var entry = Entry(url: new Uri(server.BaseUri, "tiny.gguf"), sha256: payloadSha256);
        var first = await Resolver().ResolveAsync(entry, folder.Path, null, CancellationToken.None);
        await File.WriteAllTextAsync(first.ResolvedPath, "bit rot");

        var second = await Resolver().ResolveAsync(entry, folder.Path, null, CancellationToken.None);

        Assert.Equal(2, server.RequestCount);
        Assert.Equal(payload, await File.ReadAllBytesAsync(second.ResolvedPath));
    }

    [Fact]
    public async Task Wrong_checksum_discards_the_download_and_names_both_hashes()
    {
        await using var server = new LoopbackHttpServer(_ => new(200, payload));
        var expected = new string('0', 64);
        var url = new Uri(server.BaseUri, "tiny.gguf");

        var error = await Assert.ThrowsAsync<ModelResolutionException>(
            () => Resolver().ResolveAsync(Entry(url: url, sha256: expected), folder.Path, null, CancellationToken.None));

        Assert.Equal("tiny", error.ModelId);
        Assert.Contains("model 'tiny'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"expected sha256 {expected}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"got {payloadSha256}", error.Message, StringComparison.Ordinal);
        Assert.Contains(url.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Empty(FilesUnder(cache.ModelsDirectory));
    }

    [Fact]
    public async Task Http_error_names_the_status_and_url()
    {
        await using var server = new LoopbackHttpServer(_ => new(404, "no such model"u8.ToArray()));
        var url = new Uri(server.BaseUri, "missing.gguf");

        var error = await Assert.ThrowsAsync<ModelResolutionException>(
            () => Resolver().ResolveAsync(Entry(url: url, sha256: payloadSha256), folder.Path, null, CancellationToken.None));

        Assert.Contains("HTTP 404", error.Message, StringComparison.Ordinal);
        Assert.Contains(url.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Empty(FilesUnder(cache.ModelsDirectory));
    }

    [Fact]
    public async Task Cancellation_mid_download_leaves_nothing_in_the_cache()
    {
        await using var server = new LoopbackHttpServer(_ => new(200, payload, StallAfterBytes: payload.Length / 2));
        using var cancel = new CancellationTokenSource();
        long bytesSeen = 0;
        var progress = new SyncProgress<DownloadProgress>(p =>
        {
            bytesSeen = p.BytesDone;
            cancel.Cancel();
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Resolver().ResolveAsync(Entry(url: new Uri(server.BaseUri, "tiny.gguf"), sha256: payloadSha256), folder.Path, progress, cancel.Token));

        Assert.InRange(bytesSeen, 1, payload.Length - 1);
        Assert.Empty(FilesUnder(cache.ModelsDirectory));
    }

    [Fact]
    public async Task Stalled_download_is_cancelled_while_waiting_for_bytes()
    {
        await using var server = new LoopbackHttpServer(_ => new(200, payload, StallAfterBytes: 1000));
        using var cancel = new CancellationTokenSource();
        var progress = new SyncProgress<DownloadProgress>(p =>
        {
            if (p.BytesDone == 1000)
            {
                cancel.CancelAfter(TimeSpan.FromMilliseconds(100));
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(
            () => Resolver().ResolveAsync(Entry(url: new Uri(server.BaseUri, "tiny.gguf"), sha256: payloadSha256), folder.Path, progress, cancel.Token));

        Assert.Empty(FilesUnder(cache.ModelsDirectory));
    }

    [Fact]
    public async Task Relative_path_resolves_against_the_manifest_folder_and_is_hashed()
    {
        var modelPath = Path.Combine(folder.Path, "models", "tiny.gguf");
        Directory.CreateDirectory(Path.GetDirectoryName(modelPath)!);
        await File.WriteAllBytesAsync(modelPath, payload);

        var resolved = await Resolver().ResolveAsync(Entry(path: "models/tiny.gguf", sha256: payloadSha256), folder.Path, null, CancellationToken.None);

        Assert.Equal(modelPath, resolved.ResolvedPath);
        Assert.Equal(payloadSha256, resolved.FileSha256);
        Assert.Equal(payload.Length, resolved.FileSizeBytes);
        Assert.Empty(FilesUnder(cache.ModelsDirectory));
    }

    [Fact]
    public async Task Missing_local_file_names_the_model_and_the_path()
    {
        var error = await Assert.ThrowsAsync<ModelResolutionException>(
            () => Resolver().ResolveAsync(Entry(path: "models/gone.gguf"), folder.Path, null, CancellationToken.None));

        Assert.Contains("model 'tiny'", error.Message, StringComparison.Ordinal);
        Assert.Contains(Path.Combine(folder.Path, "models", "gone.gguf"), error.Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Local_checksum_mismatch_names_expected_and_actual()
    {
        var modelPath = Path.Combine(folder.Path, "tiny.gguf");
        await File.WriteAllBytesAsync(modelPath, payload);
        var expected = new string('a', 64);

        var error = await Assert.ThrowsAsync<ModelResolutionException>(
            () => Resolver().ResolveAsync(Entry(path: modelPath, sha256: expected), folder.Path, null, CancellationToken.None));

        Assert.Contains("model 'tiny'", error.Message, StringComparison.Ordinal);
        Assert.Contains($"expected sha256 {expected}", error.Message, StringComparison.Ordinal);
        Assert.Contains($"got {payloadSha256}", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("http://h/a/b/model.Q4.gguf", "model.Q4.gguf")]
    [InlineData("http://h/a/b/model.gguf?x=1#frag", "model.gguf")]
    [InlineData("http://h/a/my%20model.gguf", "my model.gguf")]
    [InlineData("http://h/", "model")]
    [InlineData("http://h/.gguf", "model.gguf")]
    [InlineData("http://h/a/..%2F..%2Fetc", "model.._.._etc")]
    public void Cache_file_name_comes_from_the_last_url_segment(string url, string expected)
    {
        Assert.Equal(expected, ModelDownloader.FileNameFromUrl(new Uri(url)));
    }
}
