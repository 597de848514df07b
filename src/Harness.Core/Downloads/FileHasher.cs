using System.Security.Cryptography;
using System.Text.Json;
using System.Text;
using Harness.Core.Serialization;

namespace Harness.Core.Downloads;

/// <summary>
/// SHA-256 of files, remembered in small sidecar files so a multi-gigabyte model is hashed once, not on every run.
/// A sidecar is trusted only while the file's size and last-write time are unchanged. Sidecars live in the
/// harness cache, never next to the model (model folders may be read-only or shared).
/// </summary>
public sealed class FileHasher
{
    private const int BufferBytes = 1 << 20;

    private readonly string sidecarDirectory;

    /// <param name="sidecarDirectory">Folder for the <c>.sha256</c> sidecars, e.g. <see cref="HarnessCache.HashesDirectory"/>.</param>
    public FileHasher(string sidecarDirectory)
    {
        this.sidecarDirectory = Path.GetFullPath(sidecarDirectory);
    }

    /// <summary>Lowercase hex SHA-256 of the file, from its sidecar when still valid.</summary>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    public async Task<string> Sha256Async(string filePath, CancellationToken cancellationToken)
    {
        var fullPath = Path.GetFullPath(filePath);
        var before = Stamp(fullPath);
        var sidecar = SidecarPath(fullPath);
        var cached = TryReadSidecar(sidecar);
        if (cached is not null && cached.Path == fullPath && cached.SizeBytes == before.SizeBytes && cached.LastWriteUtcTicks == before.LastWriteUtcTicks)
        {
            return cached.Sha256;
        }

        string hash;
        var stream = new FileStream(fullPath, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes, FileOptions.Asynchronous | FileOptions.SequentialScan);
        await using (stream)
        {
            hash = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
        }

        // A file rewritten while we read it would pair a stale hash with a fresh stamp.
        if (Stamp(fullPath) == before)
        {
            TryWriteSidecar(sidecar, new Sidecar(fullPath, before.SizeBytes, before.LastWriteUtcTicks, hash));
        }

        return hash;
    }

    /// <summary>Records a hash computed elsewhere (while downloading), so the next <see cref="Sha256Async"/> is free.</summary>
    public void Remember(string filePath, string sha256)
    {
        var fullPath = Path.GetFullPath(filePath);
        var stamp = Stamp(fullPath);
        TryWriteSidecar(SidecarPath(fullPath), new Sidecar(fullPath, stamp.SizeBytes, stamp.LastWriteUtcTicks, sha256.ToLowerInvariant()));
    }

    /// <summary>The sidecar name keeps the file name readable and adds a path hash so equal names in different folders never collide.</summary>
    internal string SidecarPath(string fullPath)
    {
        var pathHash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fullPath)))[..16];
        return Path.Combine(sidecarDirectory, $"{Path.GetFileName(fullPath)}.{pathHash}.sha256");
    }

    private static FileStamp Stamp(string fullPath)
    {
        var info = new FileInfo(fullPath);
        if (!info.Exists)
        {
            throw new FileNotFoundException($"file not found: {fullPath}", fullPath);
        }

        return new FileStamp(info.Length, info.LastWriteTimeUtc.Ticks);
    }

    private static Sidecar? TryReadSidecar(string sidecarPath)
    {
        try
        {
            return File.Exists(sidecarPath) ? JsonSerializer.Deserialize<Sidecar>(File.ReadAllText(sidecarPath)) : null;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
        {
            // A damaged or unreadable sidecar only costs a re-hash.
            return null;
        }
    }

    private void TryWriteSidecar(string sidecarPath, Sidecar sidecar)
    {
        try
        {
            Directory.CreateDirectory(sidecarDirectory);
            AtomicFile.WriteAllText(sidecarPath, JsonSerializer.Serialize(sidecar));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The sidecar is an optimisation; a read-only cache must not fail the run.
        }
    }

    private readonly record struct FileStamp(long SizeBytes, long LastWriteUtcTicks);

    private sealed record Sidecar(string Path, long SizeBytes, long LastWriteUtcTicks, string Sha256);
}
