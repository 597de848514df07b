using System.Text.Json;
using System.Text.Json.Serialization;

namespace Harness.Core.Serialization;

// PLACEHOLDER until the store branch lands (it owns this file).
public static class HarnessJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web)
    {
        WriteIndented = true,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public static JsonSerializerOptions Compact { get; } = new(Options) { WriteIndented = false };
}
