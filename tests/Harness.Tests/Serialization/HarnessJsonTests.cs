using System.Text.Json;
using Harness.Core.Runs;
using Harness.Core.Serialization;
using Harness.Core.Suites;

namespace Harness.Tests.Serialization;

public class HarnessJsonTests
{
    // Records holding ImmutableArray compare arrays by reference, so round trips are checked by re-serializing.
    private static T RoundTrip<T>(T value, out string json)
    {
        json = HarnessJson.Serialize(value);
        T back = HarnessJson.Deserialize<T>(json);
        Assert.Equal(json, HarnessJson.Serialize(back));
        return back;
    }

    [Fact]
    public void ItemRecord_round_trips_with_every_field()
    {
        ItemRecord item = SampleRecords.Item("tiny", "arith", "q1", passed: true, totalMs: 123.4567);

        ItemRecord back = RoundTrip(item, out string json);

        Assert.Equal(item.Key, back.Key);
        Assert.Equal(item.PromptText, back.PromptText);
        Assert.Equal(item.Metrics.Timings, back.Metrics.Timings);
        Assert.Equal(item.CompletedAt, back.CompletedAt);
        Assert.Equal(double.NegativeInfinity, back.Choices[1].LogProbability);
        Assert.Equal(item.Scores[0], back.Scores[0]);
        Assert.Contains("\"status\":\"scored\"", json, StringComparison.Ordinal);
        Assert.Contains("\"finishReason\":\"stopSequence\"", json, StringComparison.Ordinal);
        Assert.Contains("\"total\":123.4567", json, StringComparison.Ordinal);
        // Readable evidence: prompt markup and non-ASCII text are not \u-escaped.
        Assert.Contains("<|user|>Question q1: what is 1½ + 2? «ä»", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Derived_properties_are_not_stored()
    {
        string json = HarnessJson.Serialize(SampleRecords.Item("tiny", "arith", "q1", passed: true));

        Assert.DoesNotContain("TokensPerSecond", json, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("\"passed\":true,\"answer\"", json, StringComparison.Ordinal);
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement score = document.RootElement.GetProperty("scores")[0];
        Assert.False(score.TryGetProperty("passed", out _));
    }

    [Fact]
    public void ModelRunRecord_round_trips_including_null_load_info()
    {
        ModelRunRecord loaded = SampleRecords.Model("tiny", ModelRunStatus.Completed);
        ModelRunRecord failed = SampleRecords.Model("bad", ModelRunStatus.LoadFailed, "bad magic in GGUF header", peak: null);

        ModelRunRecord loadedBack = RoundTrip(loaded, out string json);
        ModelRunRecord failedBack = RoundTrip(failed, out _);

        Assert.Equal(loaded.LoadInfo!.LoadTime, loadedBack.LoadInfo!.LoadTime);
        Assert.Equal("c0c7e14", loadedBack.LoadInfo.Versions["llama.cpp"]);
        Assert.Contains("\"LLamaSharp\":\"0.30.0\"", json, StringComparison.Ordinal);
        Assert.Contains("\"loadTime\":1234.5678", json, StringComparison.Ordinal);
        Assert.Equal(ModelRunStatus.LoadFailed, failedBack.Status);
        Assert.Null(failedBack.LoadInfo);
        Assert.Equal("bad magic in GGUF header", failedBack.Failure);
    }

    [Fact]
    public void RunManifest_round_trips_with_nested_settings_and_scorer_arguments()
    {
        RunManifest manifest = SampleRecords.Manifest();

        RunManifest back = RoundTrip(manifest, out string json);

        Assert.Equal(2, back.Models.Length);
        Assert.Equal(manifest.Models[0].Entry.Backend, back.Models[0].Entry.Backend);
        Assert.Equal(2_147_483_648, back.Models[0].FileSizeBytes);
        Assert.Equal(manifest.Suites[0].Requirement, back.Suites[0].Requirement);
        Assert.Equal(SuiteKind.Open, back.Suites[1].Kind);
        Assert.Equal("\\d+", back.Suites[0].Scorers[0].Arguments["pattern"].GetString());
        Assert.Equal(["\n\n", "</s>"], back.Suites[0].Generation.Stop.ToArray());
        Assert.Contains("\"maxP95Latency\":500", json, StringComparison.Ordinal);
        Assert.Contains("\"kind\":\"fixed\"", json, StringComparison.Ordinal);
    }

    [Fact]
    public void Output_is_identical_under_a_decimal_comma_culture()
    {
        ItemRecord item = SampleRecords.Item("tiny", "arith", "q1", passed: true, totalMs: 1.5);
        string invariant = HarnessJson.Serialize(item);

        string german;
        ItemRecord back;
        using (new CultureScope("de-DE"))
        {
            german = HarnessJson.Serialize(item);
            back = HarnessJson.Deserialize<ItemRecord>(german);
        }

        Assert.Equal(invariant, german);
        Assert.Contains("\"total\":1.5", german, StringComparison.Ordinal);
        Assert.Contains("\"logProbability\":-0.25", german, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromMilliseconds(1.5), back.Metrics.Timings.Total);
    }

    [Fact]
    public void TimeSpan_is_milliseconds_exact_to_the_tick()
    {
        TimeSpan value = TimeSpan.FromTicks(12_345_678_901);

        string json = JsonSerializer.Serialize(value, HarnessJson.Options);

        Assert.Equal("1234567.8901", json);
        Assert.Equal(value, JsonSerializer.Deserialize<TimeSpan>(json, HarnessJson.Options));
        Assert.Equal((TimeSpan?)null, JsonSerializer.Deserialize<TimeSpan?>("null", HarnessJson.Options));
    }

    [Fact]
    public void A_duration_string_is_rejected_with_a_clear_message()
    {
        var error = Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<TimeSpan>("\"00:00:01\"", HarnessJson.Options));

        Assert.Contains("milliseconds", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_are_frozen()
    {
        Assert.True(HarnessJson.Options.IsReadOnly);
        Assert.True(HarnessJson.IndentedOptions.IsReadOnly);
    }
}
