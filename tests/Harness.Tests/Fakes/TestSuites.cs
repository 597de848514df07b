using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Models;
using Harness.Core.Runs;
using Harness.Core.Scoring;
using Harness.Core.Suites;

namespace Harness.Tests.Fakes;

/// <summary>Small in-memory suites and models for tests that must not touch files or models.</summary>
internal static class TestSuites
{
    /// <summary>Addition items <c>a+b=</c> with targets; the fake backend's answer decides which pass.</summary>
    public static Suite Addition(int count, Requirement? requirement = null) => new(
        "add", 1, requirement is null ? SuiteKind.Open : SuiteKind.Fixed, "test addition", RequestKind.Generate,
        new PromptTemplate("{{a}}+{{b}}=", null, [], "\n"),
        new GenerationSettings(4, ["\n"], 0, 0),
        [new ScorerSpec("equals", ImmutableSortedDictionary<string, JsonElement>.Empty)],
        requirement,
        [.. Enumerable.Range(0, count).Select(i => Item($"add-{i:D3}", i, i + 1, (i + i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture)))],
        "/suites/add", "sha-add");

    public static Suite Choice(int count) => new(
        "choose", 1, SuiteKind.Fixed, "test choices", RequestKind.LogLikelihood,
        new PromptTemplate("{{a}} is", null, [], "\n"),
        new GenerationSettings(1, [], 0, 0),
        [new ScorerSpec("equals", ImmutableSortedDictionary<string, JsonElement>.Empty)],
        new Requirement(0.9, 0.95, null, null),
        [.. Enumerable.Range(0, count).Select(i => Item($"c-{i:D3}", i, 0, i % 2 == 0 ? " even" : " odd", [" even", " odd"]))],
        "/suites/choose", "sha-choose");

    public static SuiteItem Item(string id, int a, int b, string target, ImmutableArray<string> choices = default) => new(
        id,
        ImmutableSortedDictionary<string, JsonElement>.Empty
            .Add("a", JsonSerializer.SerializeToElement(a))
            .Add("b", JsonSerializer.SerializeToElement(b)),
        target,
        choices.IsDefault ? [] : choices);

    public static PreparedSuite Prepare(Suite suite) => new(suite, [new EqualsTargetScorer()]);

    public static RunModel Model(string id) => new(
        new ModelEntry(id, ModelFormat.Gguf, new ModelSource($"{id}.gguf", null, null),
            new BackendOptions(256, 1, 64, 0, ChatTemplateMode.None), null, ImmutableSortedDictionary<string, string>.Empty, 1),
        $"/models/{id}.gguf", "0000", 1234);

    /// <summary>Output equals target: the smallest real scorer, so these tests do not depend on the scorer library.</summary>
    private sealed class EqualsTargetScorer : IScorer
    {
        public string Name => "equals";

        public Score Score(ScoringInput input)
        {
            var value = input.Output == input.Item.Target ? 1.0 : 0.0;
            return new Score(Name, value, input.Output, value, input.Output, null);
        }
    }
}
