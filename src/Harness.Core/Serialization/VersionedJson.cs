using System.Text.Json;
using Harness.Core.Suites;

namespace Harness.Core.Serialization;

/// <summary>
/// Reads a JSON file that carries a top-level integer <c>schemaVersion</c> (run.json, plan.json, shard.json, merge.json):
/// the version is read first, alone, because a later schema may change a field's shape and its reader must be told about
/// the version, not about the field.
/// </summary>
public static class VersionedJson
{
    /// <param name="what">What the file is, for the messages ("run manifest", "plan.json").</param>
    /// <exception cref="InputFileException">Not JSON, no integer schemaVersion, another version, or null.</exception>
    public static T Deserialize<T>(string path, byte[] bytes, int expectedVersion, string what)
        where T : class
    {
        try
        {
            using (var document = JsonDocument.Parse(bytes))
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object
                    || !document.RootElement.TryGetProperty("schemaVersion", out var version)
                    || version.ValueKind != JsonValueKind.Number
                    || !version.TryGetInt32(out var schemaVersion))
                {
                    throw new InputFileException(path, null, $"invalid {what}: no integer \"schemaVersion\" at the top level");
                }

                if (schemaVersion != expectedVersion)
                {
                    throw new InputFileException(path, null, $"schemaVersion {schemaVersion} is not supported; this build reads schemaVersion {expectedVersion}");
                }
            }

            return JsonSerializer.Deserialize<T>(bytes, HarnessJson.Options)
                ?? throw new InputFileException(path, null, $"invalid {what}: the file holds null");
        }
        catch (JsonException e)
        {
            throw new InputFileException(path, e.LineNumber is { } line ? (int)line + 1 : null, $"invalid {what}: {e.Message}");
        }
    }
}
