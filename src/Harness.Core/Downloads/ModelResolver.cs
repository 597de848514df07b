using Harness.Core.Models;
using Harness.Core.Runs;

namespace Harness.Core.Downloads;

/// <summary>
/// Turns a manifest entry into a local, verified file: a <c>path</c> is checked (and its sha256 compared when the
/// manifest gives one); a <c>url</c> is served from the cache or downloaded into it. Every resolved model carries
/// its sha256 and size, which run.json records.
/// </summary>
public sealed class ModelResolver
{
    private readonly ModelDownloader downloader;
    private readonly FileHasher hasher;

    public ModelResolver(ModelDownloader downloader, FileHasher hasher)
    {
        this.downloader = downloader;
        this.hasher = hasher;
    }

    /// <summary>A resolver over <paramref name="cache"/>, downloading with <paramref name="http"/>.</summary>
    public static ModelResolver Create(HttpClient http, HarnessCache cache)
    {
        var hasher = new FileHasher(cache.HashesDirectory);
        return new ModelResolver(new ModelDownloader(http, cache.ModelsDirectory, hasher), hasher);
    }

    /// <param name="manifestDirectory">Folder of the manifest; relative <c>path</c>s resolve against it.</param>
    /// <param name="progress">Told about download progress; never called for local or cached models.</param>
    /// <exception cref="ModelResolutionException">Missing file, checksum mismatch or failed download; names the model.</exception>
    public async Task<RunModel> ResolveAsync(
        ModelEntry model,
        string manifestDirectory,
        IProgress<DownloadProgress>? progress,
        CancellationToken cancellationToken)
    {
        if (model.Backend.Server is { } server)
        {
            // Weights behind a server: nothing to find, download or hash. What answers is recorded from the server instead.
            return new RunModel(model, server.BaseUrl.ToString(), "", 0);
        }

        var source = model.Source;
        if (source.Path is not null && model.Format == ModelFormat.Onnx)
        {
            return await ResolveFolderAsync(model, Path.GetFullPath(source.Path, Path.GetFullPath(manifestDirectory)), cancellationToken);
        }

        if (source.Path is not null)
        {
            return await ResolveLocalAsync(model, Path.GetFullPath(source.Path, Path.GetFullPath(manifestDirectory)), cancellationToken);
        }

        if (source.Url is null || source.Sha256 is null)
        {
            // The manifest loader rejects such entries; this guards entries built by hand.
            throw new ModelResolutionException(model.Id, $"model '{model.Id}' has neither a path nor a url with sha256");
        }

        var cached = downloader.CachePath(source.Url, source.Sha256);
        if (await downloader.IsCachedAsync(cached, source.Sha256, cancellationToken))
        {
            return new RunModel(model, cached, source.Sha256.ToLowerInvariant(), new FileInfo(cached).Length);
        }

        var downloaded = await downloader.DownloadAsync(model.Id, source.Url, source.Sha256, progress, cancellationToken);
        return new RunModel(model, downloaded, source.Sha256.ToLowerInvariant(), new FileInfo(downloaded).Length);
    }

    // An ONNX Runtime GenAI model is a folder (genai_config.json, the graph, its weights, the tokenizer): its identity is
    // the digest of every file in it (ModelFolder.Sha256Async), its size their sum.
    private async Task<RunModel> ResolveFolderAsync(ModelEntry model, string fullPath, CancellationToken cancellationToken)
    {
        if (ModelFolder.Problem(fullPath) is { } problem)
        {
            throw new ModelResolutionException(model.Id, $"model '{model.Id}': {problem}");
        }

        var (actual, size) = await ModelFolder.Sha256Async(hasher, fullPath, cancellationToken);
        var expected = model.Source.Sha256?.ToLowerInvariant();
        if (expected is not null && actual != expected)
        {
            throw new ModelResolutionException(
                model.Id,
                $"model '{model.Id}': checksum mismatch for the folder {fullPath}: expected sha256 {expected}, got {actual}");
        }

        return new RunModel(model, fullPath, actual, size);
    }

    private async Task<RunModel> ResolveLocalAsync(ModelEntry model, string fullPath, CancellationToken cancellationToken)
    {
        if (!File.Exists(fullPath))
        {
            var why = Directory.Exists(fullPath) ? "is a folder, not a file" : "does not exist";
            throw new ModelResolutionException(model.Id, $"model '{model.Id}': file {fullPath} {why}");
        }

        var actual = await hasher.Sha256Async(fullPath, cancellationToken);
        var expected = model.Source.Sha256?.ToLowerInvariant();
        if (expected is not null && actual != expected)
        {
            throw new ModelResolutionException(
                model.Id,
                $"model '{model.Id}': checksum mismatch for {fullPath}: expected sha256 {expected}, got {actual}");
        }

        return new RunModel(model, fullPath, actual, new FileInfo(fullPath).Length);
    }
}
