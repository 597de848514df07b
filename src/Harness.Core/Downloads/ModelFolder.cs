using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Harness.Core.Downloads;

/// <summary>An ONNX Runtime GenAI model folder: how it is recognised and how its contents are identified.</summary>
public static class ModelFolder
{
    /// <summary>The file ONNX Runtime GenAI reads first; a folder without it is not a GenAI model.</summary>
    public const string ConfigFileName = "genai_config.json";

    /// <summary>Why <paramref name="fullPath"/> is not an ONNX Runtime GenAI folder; null when it is one.</summary>
    public static string? Problem(string fullPath)
    {
        if (Directory.Exists(fullPath))
        {
            return File.Exists(Path.Combine(fullPath, ConfigFileName))
                ? null
                : $"{fullPath} is not an ONNX Runtime GenAI folder (no {ConfigFileName})";
        }

        return File.Exists(fullPath)
            ? $"{fullPath} is a file, not an ONNX Runtime GenAI folder (a folder with {ConfigFileName}, the model and its tokenizer)"
            : $"folder {fullPath} does not exist";
    }

    /// <summary>
    /// The sha256 of the folder's contents and their total size: SHA-256 over one line per file, in ordinal order of the
    /// relative path (<c>/</c> separators), each <c>path</c>, a tab and the file's own sha256. A renamed, added or changed
    /// file changes it; the files are hashed through <paramref name="hasher"/>, so a resume reads each one once.
    /// </summary>
    public static async Task<(string Sha256, long SizeBytes)> Sha256Async(FileHasher hasher, string fullPath, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(hasher);
        var files = Directory.EnumerateFiles(fullPath, "*", SearchOption.AllDirectories)
            .Select(f => (Full: f, Relative: Path.GetRelativePath(fullPath, f).Replace(Path.DirectorySeparatorChar, '/')))
            .OrderBy(f => f.Relative, StringComparer.Ordinal)
            .ToList();
        var listing = new StringBuilder();
        long size = 0;
        foreach (var (full, relative) in files)
        {
            var sha256 = await hasher.Sha256Async(full, cancellationToken).ConfigureAwait(false);
            listing.Append(CultureInfo.InvariantCulture, $"{relative}\t{sha256}\n");
            size += new FileInfo(full).Length;
        }

        return (Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(listing.ToString()))), size);
    }
}
