using Harness.Core.Scoring;
using Harness.Tests.Models;
using static Harness.Tests.Scoring.ScoringFixtures;

namespace Harness.Tests.Scoring;

public sealed class JsonScorerTests : IDisposable
{
    private const string PersonSchema = """
        {
          "$schema": "https://json-schema.org/draft/2020-12/schema",
          "type": "object",
          "properties": {
            "name": { "type": "string" },
            "age": { "type": "integer", "minimum": 0 }
          },
          "required": ["name", "age"],
          "additionalProperties": false
        }
        """;

    private readonly TempFolder suite = new();

    public JsonScorerTests()
    {
        suite.Write("schemas/person.json", PersonSchema);
    }

    public void Dispose() => suite.Dispose();

    private const string WithSchema = """{"schema": "schemas/person.json"}""";

    [Fact]
    public void Valid_json_that_validates_passes()
    {
        var score = Score("json", """  {"name": "Ada", "age": 36}  """, null, WithSchema, suite.Path);

        Assert.Equal(1.0, score.Value);
        Assert.Equal("""{"name": "Ada", "age": 36}""", score.Answer);
        Assert.Null(score.Explanation);
    }

    [Fact]
    public void Without_schema_any_json_value_passes()
    {
        Assert.Equal(1.0, Score("json", "[1, 2, 3]", null).Value);
        Assert.Equal(1.0, Score("json", "null", null).Value);
        Assert.Equal(0.0, Score("json", "{'single': 'quotes'}", null).Value);
    }

    [Theory]
    // Seen from a forged model: numbers JsonSchema.Net cannot read as decimal used to end the whole run.
    [InlineData("""{"name": "Ada", "age": 1e400}""")]
    [InlineData("""{"name": "Ada", "age": 1234567890123456789012345678901234567890}""")]
    public void A_number_outside_the_validators_range_fails_the_item_instead_of_the_run(string output)
    {
        var score = Score("json", output, null, WithSchema, suite.Path);

        Assert.Equal((0.0, 0.0), (score.Value, score.FlexibleValue));
        Assert.Contains("cannot be validated", score.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_error_is_named_in_the_explanation()
    {
        var score = Score("json", """{"name": "Ada", "age": -1}""", null, WithSchema, suite.Path);

        Assert.Equal((0.0, 0.0), (score.Value, score.FlexibleValue));
        Assert.StartsWith("schema: /age: ", score.Explanation, StringComparison.Ordinal);
        Assert.Contains("minimum", score.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_inside_prose_or_a_code_fence_passes_only_flexibly()
    {
        const string output = """
            Sure! Here is the {requested} object:
            ```json
            {"name": "Ada {the first}", "age": 36}
            ```
            """;

        var score = Score("json", output, null, WithSchema, suite.Path);

        Assert.Equal(0.0, score.Value);
        Assert.Null(score.Answer);
        Assert.Equal(1.0, score.FlexibleValue);
        Assert.Equal("""{"name": "Ada {the first}", "age": 36}""", score.FlexibleAnswer);
        Assert.Equal("output is not a single JSON value; flexible extraction passed", score.Explanation);
    }

    [Fact]
    public void Trailing_text_after_the_value_is_not_strict()
    {
        var score = Score("json", """{"name": "Ada", "age": 36} done""", null, WithSchema, suite.Path);

        Assert.Equal((0.0, 1.0), (score.Value, score.FlexibleValue));
    }

    [Fact]
    public void Match_target_ignores_property_order_and_number_spelling()
    {
        var score = Score("json", """{"age": 36.0, "name": "Ada"}""", """{"name":"Ada","age":36}""", """{"schema": "schemas/person.json", "match_target": true}""", suite.Path);

        Assert.Equal(1.0, score.Value);
    }

    [Fact]
    public void Match_target_fails_on_a_different_value()
    {
        var score = Score("json", """{"age": 37, "name": "Ada"}""", """{"name":"Ada","age":36}""", """{"match_target": true}""");

        Assert.Equal(0.0, score.Value);
        Assert.Contains("differs from the target", score.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Match_target_with_a_non_json_target_is_explained()
    {
        var score = Score("json", "{}", "not json", """{"match_target": true}""");

        Assert.Equal(0.0, score.Value);
        Assert.Contains("is not valid JSON", score.Explanation, StringComparison.Ordinal);
    }

    [Fact]
    public void Validation_messages_do_not_follow_the_current_culture()
    {
        var score = UnderGermanCulture(() => Score("json", """{"name": "Ada", "age": 1.5}""", null, WithSchema, suite.Path));

        Assert.Equal(0.0, score.Value);
        Assert.Contains("/age", score.Explanation, StringComparison.Ordinal);
        Assert.DoesNotContain("1,5", score.Explanation, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("""{"schema": "schemas/missing.json"}""", "schema", "cannot be read")]
    [InlineData("""{"schema": 3}""", "schema", "must be a string")]
    [InlineData("""{"match_target": "yes"}""", "match_target", "true or false")]
    public void Bad_arguments_are_named(string json, string argument, string problem)
    {
        var error = Assert.Throws<ScorerArgumentException>(() => Create("json", json, suite.Path));

        Assert.Equal(argument, error.ParamName);
        Assert.Contains(problem, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Schema_that_is_not_json_or_not_a_schema_is_rejected_at_creation()
    {
        suite.Write("broken.json", "{ not json");
        suite.Write("typo.json", """{"type": "strnig"}""");

        var notJson = Assert.Throws<ScorerArgumentException>(() => Create("json", """{"schema": "broken.json"}""", suite.Path));
        var notSchema = Assert.Throws<ScorerArgumentException>(() => Create("json", """{"schema": "typo.json"}""", suite.Path));

        Assert.Contains("not valid JSON", notJson.Message, StringComparison.Ordinal);
        Assert.Contains("not a valid JSON Schema", notSchema.Message, StringComparison.Ordinal);
        Assert.Equal("schema", notSchema.ParamName);
    }
}
