using System.Text.Json;
using Harness.Core.Runs;
using Harness.Core.Suites;

namespace Harness.Core.Serialization;

/// <summary>Reads and writes <c>results/&lt;run-id&gt;/run.json</c>.</summary>
public static class RunManifestFile
{
    public const string FileName = "run.json";

    public static string PathIn(string runDirectory) => Path.Combine(runDirectory, FileName);

    /// <summary>
    /// Writes run.json through <see cref="AtomicFile"/>, so a reader (or a resume after a crash) sees either the
    /// old file or the complete new one, never a torn one.
    /// </summary>
    public static async Task WriteAsync(RunManifest manifest, string runDirectory, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(manifest);
        Directory.CreateDirectory(runDirectory);
        await AtomicFile.WriteAsync(
            PathIn(runDirectory),
            (stream, token) => JsonSerializer.SerializeAsync(stream, manifest, HarnessJson.IndentedOptions, token),
            cancellationToken);
    }

    /// <exception cref="InputFileException">run.json is missing, not JSON, or of another schema version.</exception>
    public static async Task<RunManifest> ReadAsync(string runDirectory, CancellationToken cancellationToken)
    {
        string path = PathIn(runDirectory);
        if (!File.Exists(path))
        {
            throw new InputFileException(path, null, "run.json not found; is this a run folder?");
        }

        byte[] bytes = await File.ReadAllBytesAsync(path, cancellationToken);
        return VersionedJson.Deserialize<RunManifest>(path, bytes, RunManifest.CurrentSchemaVersion, "run manifest");
    }
}
