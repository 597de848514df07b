using System.Globalization;
using System.Text.Json;
using Harness.Cli.Output;

namespace Harness.Tests.Cli;

public sealed class QuantizeJsonTests
{
    private static QuantizeJson Sample() => new(
        "models/m.gguf", "m", "models.manifest", "models/m-quantize.log",
        [
            new QuantizedFileJson("Q8_0", "models/m-q8_0.gguf", 1234, 8.5, 0.25, null, new QuantizeLogJson(0, null, null), "m-q8_0", true, null, null),
            new QuantizedFileJson("Q4_K_M", "models/m-q4_k_m.gguf", 999, 5.75, 1.5,
                new QuantizeFallbackJson(8, 9, "8 of 9 weight matrices to Q5_0 (rows of 96 not divisible by 256)"),
                new QuantizeLogJson(9, 8, 12), null, false, "'models:' is not the last top-level key", "  - id: m-q4_k_m\n"),
        ]);

    [Fact]
    public void Each_file_carries_the_table_facts_under_camel_case_names_with_invariant_numbers()
    {
        var culture = CultureInfo.CurrentCulture;
        string text;
        try
        {
            // A decimal-comma culture must not turn 8.5 into "8,5".
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            text = Sample().Serialize();
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }

        using var json = JsonDocument.Parse(text);
        var root = json.RootElement;
        Assert.Equal("models/m-quantize.log", root.GetProperty("log").GetString());
        Assert.Equal("models.manifest", root.GetProperty("manifest").GetString());
        var q8 = root.GetProperty("files")[0];
        Assert.Equal(1234, q8.GetProperty("sizeBytes").GetInt64());
        Assert.Equal(8.5, q8.GetProperty("bitsPerParameter").GetDouble());
        Assert.Equal(0.25, q8.GetProperty("durationSeconds").GetDouble());
        Assert.Equal(JsonValueKind.Null, q8.GetProperty("fallback").ValueKind);
        Assert.True(q8.GetProperty("manifestReplaced").GetBoolean());
        var k = root.GetProperty("files")[1];
        Assert.Equal(8, k.GetProperty("fallback").GetProperty("fellBack").GetInt32());
        Assert.Equal(9, k.GetProperty("fallback").GetProperty("weightMatrices").GetInt32());
        Assert.Equal(12, k.GetProperty("llamaCpp").GetProperty("reportedTensors").GetInt32());
        Assert.Equal(JsonValueKind.Null, k.GetProperty("manifestId").ValueKind);
        Assert.Equal("  - id: m-q4_k_m\n", k.GetProperty("manifestEntry").GetString());
    }
}
