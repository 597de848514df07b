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
        try
        {
            using (JsonDocument document = JsonDocument.Parse(bytes))
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object
                    || !document.RootElement.TryGetProperty("schemaVersion", out JsonElement version)
                    || version.ValueKind != JsonValueKind.Number
                    || !version.TryGetInt32(out int schemaVersion))
                {
                    throw new InputFileException(path, null, "no integer \"schemaVersion\" at the top level.");
                }

                if (schemaVersion != RunManifest.CurrentSchemaVersion)
                {
                    throw new InputFileException(
                        path,
                        null,
                        $"schemaVersion {schemaVersion} is not supported; this build reads schemaVersion {RunManifest.CurrentSchemaVersion}.");
                }
            }

            return JsonSerializer.Deserialize<RunManifest>(bytes, HarnessJson.Options)
                ?? throw new InputFileException(path, null, "the file holds null instead of a run manifest.");
        }
        catch (JsonException e)
        {
            throw new InputFileException(path, e.LineNumber is { } line ? (int)line + 1 : null, $"invalid run manifest: {e.Message}");
        }
    }
}
