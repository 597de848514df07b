using System.Collections.Immutable;
using System.Globalization;
using Harness.Core.Suites;

namespace Harness.Tasks.Generators;

/// <summary><c>json-extract</c>: <c>name=Ann age=31 city=Oslo</c> → <c>{"name":"Ann","age":31,"city":"Oslo"}</c>.</summary>
public sealed class JsonExtractGenerator : TaskGenerator<JsonExtractGenerator.Problem>
{
    public sealed record Problem(string Name, int Age, string City);

    // Short plain-ASCII names keep the longest answer (41 characters) inside max_tokens for character-level models.
    private static readonly ImmutableArray<string> Names =
        ["Ann", "Bob", "Eva", "Ida", "Leo", "Max", "Mia", "Noah", "Omar", "Paul",
         "Rosa", "Sam", "Tom", "Una", "Vera", "Zoe", "Lars", "Nina", "Kai", "Emil"];

    private static readonly ImmutableArray<string> Cities =
        ["Oslo", "Rome", "Paris", "Lima", "Cairo", "Delhi", "Tokyo", "Dubai", "Kyiv", "Quito",
         "Bern", "Riga", "Baku", "Doha", "Hanoi", "Seoul", "Perth", "Lagos", "Milan", "Porto"];

    internal const string SchemaJson = """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "properties": {
            "name": { "type": "string", "minLength": 1 },
            "age": { "type": "integer", "minimum": 0, "maximum": 150 },
            "city": { "type": "string", "minLength": 1 }
          },
          "required": ["name", "age", "city"],
          "additionalProperties": false
        }

        """;

    public override SuiteDefinition Definition { get; } = new(
        Name: "json-extract",
        Version: 1,
        Kind: SuiteKind.Fixed,
        Description: "Turn 'name=Ann age=31 city=Oslo' into the JSON object {\"name\":\"Ann\",\"age\":31,\"city\":\"Oslo\"} (age a number), valid under schema.json.",
        Request: RequestKind.Generate,
        Prompt: Template("name={{name}} age={{age}} city={{city}}\njson:"),
        Generation: new GenerationSettings(MaxTokens: 48, Stop: ["\n"], Temperature: 0, Seed: 0),
        Scorers: Scorer("json", ("schema", Json("schema.json")), ("match_target", Json(true))),
        Requirement: new Requirement(MinPassRate: 0.8, Confidence: 0.95, MaxP95Latency: null, MaxJoulesPerItem: null),
        ExtraFiles: ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal).Add("schema.json", SchemaJson));

    protected override int EvaluationSeed => 1004;

    protected override Problem Sample(Random random) =>
        new(Names[random.Next(Names.Length)], random.Next(18, 91), Cities[random.Next(Cities.Length)]);

    protected override string KeyOf(Problem problem) =>
        string.Create(CultureInfo.InvariantCulture, $"{problem.Name}|{problem.Age}|{problem.City}");

    protected override SuiteItem ToItem(string id, Problem problem) => new(
        id,
        Fields(("name", Json(problem.Name)), ("age", Json(problem.Age)), ("city", Json(problem.City))),
        string.Create(CultureInfo.InvariantCulture, $"{{\"name\":\"{problem.Name}\",\"age\":{problem.Age},\"city\":\"{problem.City}\"}}"),
        []);
}
