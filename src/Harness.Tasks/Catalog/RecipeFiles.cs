using System.Collections.Immutable;
using System.Security.Cryptography;
using Harness.Core.Downloads;

namespace Harness.Tasks.Catalog;

/// <summary>A recipe's source file on this machine, its bytes checked against the pinned sha256.</summary>
/// <param name="LocalPath">Where the verified bytes are (the download cache, or the local copy read with <c>--from</c>).</param>
public sealed record VerifiedFile(SourceFile Source, string LocalPath, long SizeBytes);

/// <summary>The verified files of one recipe, opened by <see cref="SourceFile.Path"/>.</summary>
public sealed class VerifiedRecipeFiles : IRecipeFiles
{
    public VerifiedRecipeFiles(ImmutableArray<VerifiedFile> files)
    {
        Files = files;
    }

    /// <summary>In the recipe's declaration order.</summary>
    public ImmutableArray<VerifiedFile> Files { get; }

    public Stream Open(string path)
    {
        var file = Files.FirstOrDefault(f => string.Equals(f.Source.Path, path, StringComparison.Ordinal))
            ?? throw new FileNotFoundException($"'{path}' is not one of the recipe's declared source files", path);
        return new FileStream(file.LocalPath, FileMode.Open, FileAccess.Read, FileShare.Read);
    }

    public bool Contains(string path) => Files.Any(f => string.Equals(f.Source.Path, path, StringComparison.Ordinal));
}

/// <summary>Makes a recipe's source files available and verified: from a local copy, or downloaded into the cache.</summary>
public interface IRecipeFileSource
{
    /// <exception cref="CatalogException">A local file is missing or its sha256 differs.</exception>
    /// <exception cref="DownloadException">A download failed or its bytes did not hash to the pinned sha256.</exception>
    Task<VerifiedRecipeFiles> AcquireAsync(IBenchmarkRecipe recipe, CancellationToken cancellationToken);
}

/// <summary>
/// Reads a recipe's files from a local folder (<c>--from DIR</c>, offline): either a datasets root laid out like
/// ../shared/datasets (DIR/<see cref="DataSource.LocalFolder"/>/<see cref="SourceFile.LocalPath"/>) or a checkout
/// of the upstream repository (DIR/<see cref="SourceFile.Path"/>). Every file is hashed; an altered copy is refused.
/// </summary>
public sealed class LocalRecipeFileSource(string root) : IRecipeFileSource
{
    public async Task<VerifiedRecipeFiles> AcquireAsync(IBenchmarkRecipe recipe, CancellationToken cancellationToken)
    {
        var full = Path.GetFullPath(root);
        if (!Directory.Exists(full))
        {
            throw new CatalogException($"{full}: folder does not exist (--from names a datasets folder or a checkout of {recipe.Source.Repository})");
        }

        var files = ImmutableArray.CreateBuilder<VerifiedFile>();
        foreach (var source in recipe.Source.Files)
        {
            var candidates = new[]
            {
                Path.Combine(full, recipe.Source.LocalFolder, source.LocalPath),
                Path.Combine(full, source.Path),
            };
            var path = candidates.FirstOrDefault(File.Exists);
            if (path is null && source.Optional)
            {
                // The recipe carries its own copy of these bytes (checked against the same sha256 when it reads them).
                continue;
            }

            if (path is null)
            {
                throw new CatalogException($"{recipe.Name}: source file missing: looked for {string.Join(" and ", candidates)}");
            }

            string actual;
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.Asynchronous | FileOptions.SequentialScan);
            await using (stream)
            {
                actual = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
            }

            if (!string.Equals(actual, source.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                throw new CatalogException($"{path}: checksum mismatch: expected sha256 {source.Sha256.ToLowerInvariant()}, got {actual} (not the file {recipe.Source.Repository}@{Short(recipe.Source.Commit)} holds at {source.Path})");
            }

            files.Add(new VerifiedFile(source, path, new FileInfo(path).Length));
        }

        return new VerifiedRecipeFiles(files.ToImmutable());
    }

    internal static string Short(string commit) => commit.Length > 7 ? commit[..7] : commit;
}

/// <summary>
/// Downloads a recipe's files from GitHub's raw-file host (or a mirror with the same layout) into the content-addressed
/// cache <c>&lt;datasets&gt;/&lt;sha256&gt;/&lt;file name&gt;</c>; a cached file with the right hash is not downloaded again.
/// </summary>
public sealed class DownloadRecipeFileSource : IRecipeFileSource
{
    /// <summary>The raw-file host: <c>{base}/{owner/name}/{commit}/{path}</c>.</summary>
    public static readonly Uri GitHubRaw = new("https://raw.githubusercontent.com/");

    private readonly VerifiedDownloader downloader;
    private readonly string datasetsDirectory;
    private readonly Uri baseUri;
    private readonly IProgress<DownloadProgress>? progress;

    /// <param name="datasetsDirectory">Cache root for dataset files, e.g. <see cref="HarnessCache.DatasetsDirectory"/>.</param>
    /// <param name="mirror">A host laid out like <see cref="GitHubRaw"/>; null for GitHub itself.</param>
    public DownloadRecipeFileSource(VerifiedDownloader downloader, string datasetsDirectory, Uri? mirror, IProgress<DownloadProgress>? progress)
    {
        this.downloader = downloader;
        this.datasetsDirectory = Path.GetFullPath(datasetsDirectory);
        baseUri = mirror ?? GitHubRaw;
        this.progress = progress;
    }

    /// <summary>The URL of one source file: <c>{base}/{repository}/{commit}/{path}</c>, each path segment escaped.</summary>
    public static Uri UrlOf(Uri baseUri, DataSource source, SourceFile file)
    {
        var root = baseUri.AbsoluteUri.TrimEnd('/');
        var path = string.Join('/', file.Path.Split('/').Select(Uri.EscapeDataString));
        return new Uri($"{root}/{source.Repository}/{source.Commit}/{path}");
    }

    public async Task<VerifiedRecipeFiles> AcquireAsync(IBenchmarkRecipe recipe, CancellationToken cancellationToken)
    {
        var files = ImmutableArray.CreateBuilder<VerifiedFile>();
        foreach (var source in recipe.Source.Files)
        {
            var url = UrlOf(baseUri, recipe.Source, source);
            var target = VerifiedDownloader.CachePath(datasetsDirectory, source.Sha256, Path.GetFileName(source.Path));
            var path = await downloader.GetAsync($"{recipe.Name}: {source.Path}", url, source.Sha256, target, progress, cancellationToken);
            files.Add(new VerifiedFile(source, path, new FileInfo(path).Length));
        }

        return new VerifiedRecipeFiles(files.ToImmutable());
    }
}
