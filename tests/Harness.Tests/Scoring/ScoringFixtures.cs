using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Tests.Scoring;

internal static class ScoringFixtures
{
    public static ScoringInput Input(string output, string? target) =>
        new(new SuiteItem("item-1", ImmutableSortedDictionary<string, JsonElement>.Empty, target, []), output);

    /// <summary>Scorer arguments as a suite would write them, from a JSON object.</summary>
    public static ImmutableSortedDictionary<string, JsonElement> Args(string json = "{}")
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.EnumerateObject()
            .ToImmutableSortedDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal);
    }

    public static IScorer Create(string name, string json = "{}", string suiteDirectory = ".") =>
        ScorerRegistry.Default.Create(new ScorerSpec(name, Args(json)), suiteDirectory);

    public static Score Score(string name, string output, string? target, string json = "{}", string suiteDirectory = ".") =>
        Create(name, json, suiteDirectory).Score(Input(output, target));

    /// <summary>Runs <paramref name="action"/> with a decimal-comma culture to prove nothing depends on the current culture.</summary>
    public static T UnderGermanCulture<T>(Func<T> action)
    {
        var culture = CultureInfo.CurrentCulture;
        var uiCulture = CultureInfo.CurrentUICulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            CultureInfo.CurrentUICulture = CultureInfo.GetCultureInfo("de-DE");
            return action();
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
            CultureInfo.CurrentUICulture = uiCulture;
        }
    }
}
