using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;

namespace Harness.Core.Serialization;

/// <summary>
/// The one JSON dialect of Harness: run.json, store payloads, report.json and the worker protocol.
/// camelCase properties, enums as camelCase strings, <see cref="TimeSpan"/> as a number of milliseconds,
/// dictionary keys verbatim, derived (get-only) properties left out, culture-invariant by construction.
/// </summary>
public static class HarnessJson
{
    /// <summary>Compact form, for store payloads and the worker protocol.</summary>
    public static JsonSerializerOptions Options { get; } = Create(indented: false);

    /// <summary>Same dialect, indented, for files people read (run.json, report.json).</summary>
    public static JsonSerializerOptions IndentedOptions { get; } = Create(indented: true);

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T Deserialize<T>(string json) =>
        JsonSerializer.Deserialize<T>(json, Options)
        ?? throw new JsonException($"Expected a {typeof(T).Name}, got null.");

    /// <summary>From UTF-8 bytes as stored, without decoding them into a string first.</summary>
    public static T Deserialize<T>(ReadOnlySpan<byte> utf8Json) =>
        JsonSerializer.Deserialize<T>(utf8Json, Options)
        ?? throw new JsonException($"Expected a {typeof(T).Name}, got null.");

    private static JsonSerializerOptions Create(bool indented)
    {
        var options = new JsonSerializerOptions
        {
            PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
            DictionaryKeyPolicy = null,
            WriteIndented = indented,
            // Log-probabilities can be -Infinity; named literals keep them representable instead of failing the write.
            NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
            // Prompts are full of '<', '>' and non-ASCII text; escaping them would make the evidence unreadable.
            // These files are never embedded in HTML, so the relaxed encoder is safe here.
            Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
            RespectNullableAnnotations = false,
            UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip,
            TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { DropDerivedProperties } },
        };
        options.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false));
        options.Converters.Add(new MillisecondsTimeSpanConverter());
        options.MakeReadOnly();
        return options;
    }

    // Rates such as ItemMetrics.PromptTokensPerSecond are computed from stored fields; writing them would
    // store the same fact twice and let the copies disagree after a re-score.
    private static void DropDerivedProperties(JsonTypeInfo typeInfo)
    {
        if (typeInfo.Kind != JsonTypeInfoKind.Object)
        {
            return;
        }

        for (int i = typeInfo.Properties.Count - 1; i >= 0; i--)
        {
            JsonPropertyInfo property = typeInfo.Properties[i];
            if (property.Set is null && property.AssociatedParameter is null)
            {
                typeInfo.Properties.RemoveAt(i);
            }
        }
    }
}

/// <summary>
/// Writes a <see cref="TimeSpan"/> as a JSON number of milliseconds (fractional, exact to the 100 ns tick);
/// reads it back rounded to the nearest tick. Numbers are easier to chart and diff than "00:00:01.5".
/// </summary>
public sealed class MillisecondsTimeSpanConverter : JsonConverter<TimeSpan>
{
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType != JsonTokenType.Number)
        {
            throw new JsonException($"Expected a duration in milliseconds (a number), got {reader.TokenType}.");
        }

        double milliseconds = reader.GetDouble();
        double ticks = Math.Round(milliseconds * TimeSpan.TicksPerMillisecond, MidpointRounding.AwayFromZero);
        if (double.IsNaN(ticks) || ticks > long.MaxValue || ticks < long.MinValue)
        {
            throw new JsonException(string.Create(CultureInfo.InvariantCulture, $"Duration {milliseconds} ms is out of range."));
        }

        return TimeSpan.FromTicks((long)ticks);
    }

    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        // Decimal keeps "1.5" as 1.5 rather than 1.4999999999 for every whole-tick value.
        writer.WriteNumberValue(value.Ticks / (decimal)TimeSpan.TicksPerMillisecond);
    }
}
