using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tasks.Catalog;

namespace Harness.Tests.Tasks.Catalog;

/// <summary>
/// A one-file recipe over a small JSON-lines file (<c>{"q": ..., "a": ...}</c>), so the catalogue machinery is tested
/// without the shared datasets. Each row becomes a two-choice item; <see cref="Fail"/> makes the conversion throw.
/// </summary>
internal sealed class FakeRecipe(string name, string sha256, int conversionVersion = 1) : IBenchmarkRecipe
{
    public const string UpstreamPath = "data/rows.jsonl";
    public const string LocalPath = "rows.jsonl";

    public static string Sha256Of(string text) => System.Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)));

    public static string Rows(params string[] questions) =>
        string.Concat(questions.Select(q => JsonSerializer.Serialize(new { q, a = "yes" }) + "\n"));

    public bool Fail { get; init; }

    /// <summary>Gives every item a target that is not one of its choices: a suite the loader refuses (a recipe bug).</summary>
    public bool Invalid { get; init; }

    /// <summary>Further suites beside the main one (named <c>&lt;name&gt;-&lt;suffix&gt;</c>).</summary>
    public ImmutableArray<string> ExtraSuffixes { get; init; } = [];

    public string Name => name;

    public string Description => "a fake benchmark for tests";

    public DataSource Source { get; } = new(
        "example/fake-bench", new string('a', 40), "fake-bench",
        [new SourceFile(UpstreamPath, LocalPath, sha256)], "MIT", "@misc{fake, title={Fake}}");

    public string FollowsLmEval => "lm_eval/tasks/fake/fake.yaml@4e7e0d4";

    public int ConversionVersion => conversionVersion;

    public ImmutableArray<string> Differences => ["Items are made up."];

    public ImmutableArray<ConvertedSuite> Convert(IRecipeFiles files, CancellationToken cancellationToken)
    {
        using var reader = new StreamReader(files.Open(UpstreamPath));
        var items = new List<SuiteItem>();
        var line = 0;
        while (reader.ReadLine() is { } text)
        {
            line++;
            if (Fail)
            {
                throw new InvalidDataException($"{UpstreamPath}:{line}: fails on purpose");
            }

            using var row = JsonDocument.Parse(text);
            items.Add(new SuiteItem(
                (line - 1).ToString("D4", System.Globalization.CultureInfo.InvariantCulture),
                ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal, [KeyValuePair.Create("q", row.RootElement.GetProperty("q").Clone())]),
                Invalid ? " maybe" : " yes",
                [" yes", " no"]));
        }

        return [Suite(name, items), .. ExtraSuffixes.Select(s => Suite($"{name}-{s}", items))];
    }

    private ConvertedSuite Suite(string suiteName, List<SuiteItem> items) => new(
        new SuiteDefinition(
            suiteName, conversionVersion, SuiteKind.Fixed, "fake", RequestKind.LogLikelihood,
            new PromptTemplate("Q: {{q}}\nA:", null, [], "\n\n"), null,
            [new ScorerSpec("choice", ImmutableSortedDictionary<string, JsonElement>.Empty)],
            new Requirement(0.5, 0.95, null, null), ImmutableSortedDictionary<string, string>.Empty),
        [.. items]);
}
