using System.Security.Cryptography;
using System.Text.Json;
using Harness.Core.Suites;

namespace Harness.Tests.Suites;

public sealed class SuiteLoaderTests
{
    [Fact]
    public void Committed_suites_load_with_at_least_200_unique_items()
    {
        var suites = SuiteLoader.LoadAll(RepoPaths.Tasks());

        Assert.Equal(["arith", "dates", "json-extract", "reverse", "sentiment"], suites.Select(s => s.Name));
        foreach (var suite in suites)
        {
            Assert.True(suite.Items.Length >= 200, $"{suite.Name}: {suite.Items.Length} items");
            Assert.Equal(suite.Items.Length, suite.Items.Select(i => i.Id).Distinct(StringComparer.Ordinal).Count());
            Assert.All(suite.Items, i => Assert.False(string.IsNullOrEmpty(i.Target)));
            Assert.Equal(suite.Kind == SuiteKind.Fixed, suite.Requirement is not null);
            Assert.Matches("^[0-9a-f]{64}$", suite.ContentSha256);
            Assert.Equal(Path.Combine(RepoPaths.Tasks(), suite.Name), suite.Directory);
        }
        Assert.Empty(SuiteValidator.ValidateAll(RepoPaths.Tasks()));
    }

    [Fact]
    public void Loads_every_key_and_documented_default()
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(items: SuiteTestFiles.ValidItems + "\n\n");

        var suite = SuiteLoader.Load(directory);

        Assert.Equal("demo", suite.Name);
        Assert.Equal(1, suite.Version);
        Assert.Equal(SuiteKind.Fixed, suite.Kind);
        Assert.Equal("a demo", suite.Description);
        Assert.Equal(RequestKind.Generate, suite.Request);
        Assert.Equal("{{a}}+{{b}}=", suite.Prompt.Template);
        Assert.Null(suite.Prompt.System);
        Assert.Empty(suite.Prompt.FewShot);
        Assert.Equal("\n", suite.Prompt.FewShotSeparator);
        Assert.Equal(4, suite.Generation.MaxTokens);
        Assert.Empty(suite.Generation.Stop);
        Assert.Equal(0, suite.Generation.Temperature);
        Assert.Equal(0, suite.Generation.Seed);
        var scorer = Assert.Single(suite.Scorers);
        Assert.Equal("numeric", scorer.Name);
        Assert.Equal(JsonValueKind.Number, scorer.Arguments["tolerance"].ValueKind);
        Assert.Equal(new Requirement(0.9, 0.95, null, null), suite.Requirement);
        Assert.Equal(["1", "2"], suite.Items.Select(i => i.Id));
        Assert.Equal(2, suite.Items[1].Fields["a"].GetInt32());
        Assert.Equal("4", suite.Items[1].Target);
        Assert.True(suite.Items[1].Choices.IsEmpty);
    }

    [Fact]
    public void Loads_few_shot_system_scorer_args_and_optional_requirement_keys()
    {
        const string yaml = """
            name: demo
            version: 3
            kind: fixed
            request: generate
            prompt:
              system: "You add."
              template: "{{a}}+{{b}}="
              fewshot:
                - { a: 1, b: 2, target: 3 }
                - id: second
                  a: "x"
                  b: 1.50
                  target: "x1.50"
              fewshot_separator: ";"
            generation:
              max_tokens: 8
              stop: ["\n", "END"]
              temperature: 0.7
              seed: -4
            scorers:
              - name: json
                args: { schema: schema.json, match_target: true, list: [trim, 2, null], nested: { yes: yes, n: 1e2 } }
              - name: exact
            requirement:
              min_pass_rate: 0.5
              confidence: 0.99
              p95_latency_ms: 1500.5
              max_joules_per_item: 5
            """;
        using var files = new SuiteTestFiles();
        var suite = SuiteLoader.Load(files.Write(yaml));

        Assert.Equal("You add.", suite.Prompt.System);
        Assert.Equal(";", suite.Prompt.FewShotSeparator);
        Assert.Equal(["fewshot-0", "second"], suite.Prompt.FewShot.Select(f => f.Id));
        Assert.Equal("3", suite.Prompt.FewShot[0].Target);
        Assert.Equal(JsonValueKind.Number, suite.Prompt.FewShot[0].Fields["a"].ValueKind);
        Assert.Equal("1.50", suite.Prompt.FewShot[1].Fields["b"].GetRawText());
        Assert.Equal((8, 0.7, -4), (suite.Generation.MaxTokens, suite.Generation.Temperature, suite.Generation.Seed));
        Assert.Equal(["\n", "END"], suite.Generation.Stop.AsEnumerable());
        Assert.Equal(["json", "exact"], suite.Scorers.Select(s => s.Name));
        var args = suite.Scorers[0].Arguments;
        Assert.Equal(["list", "match_target", "nested", "schema"], args.Keys);
        Assert.Equal("schema.json", args["schema"].GetString());
        Assert.Equal(JsonValueKind.True, args["match_target"].ValueKind);
        Assert.Equal("""["trim",2,null]""", args["list"].GetRawText());
        Assert.Equal("""{"yes":"yes","n":1e2}""", args["nested"].GetRawText());
        Assert.Empty(suite.Scorers[1].Arguments);
        Assert.Equal(new Requirement(0.5, 0.99, TimeSpan.FromMilliseconds(1500.5), 5), suite.Requirement);
        Assert.Equal("1+2=3;x+1.50=x1.50;1+2=", PromptRenderer.Render(suite, suite.Items[0]).PlainText.Replace("You add.\n", "", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("", false)]
    [InlineData("\n  sequential: false", false)]
    [InlineData("\n  sequential: true", true)]
    public void A_requirement_may_ask_to_run_until_decided(string line, bool sequential)
    {
        using var files = new SuiteTestFiles();

        var suite = SuiteLoader.Load(files.Write(SuiteTestFiles.ValidYaml + line));

        Assert.Equal(sequential, suite.Requirement!.Sequential);
    }

    [Fact]
    public void A_sequential_flag_that_is_not_true_or_false_names_the_file_and_the_key()
    {
        using var files = new SuiteTestFiles();

        var ex = Assert.Throws<InputFileException>(() => SuiteLoader.Load(files.Write(SuiteTestFiles.ValidYaml + "\n  sequential: yes")));

        Assert.Contains("requirement.sequential must be one of true, false, not 'yes'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("suite.yaml", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Numbers_parse_the_same_under_a_decimal_comma_culture()
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(SuiteTestFiles.ValidYaml + "\n  p95_latency_ms: 1500.25");

        var suite = Culture.Under("de-DE", () => SuiteLoader.Load(directory));

        Assert.Equal(new Requirement(0.9, 0.95, TimeSpan.FromMilliseconds(1500.25), null), suite.Requirement);
    }

    [Fact]
    public void Content_hash_covers_suite_items_and_other_files_in_name_order()
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write();
        var before = SuiteLoader.Load(directory).ContentSha256;
        File.WriteAllText(Path.Combine(directory, "schema.json"), "{}");
        File.WriteAllText(Path.Combine(directory, "a.txt"), "x");
        File.WriteAllText(Path.Combine(directory, ".hidden"), "ignored");

        var after = SuiteLoader.Load(directory).ContentSha256;

        var expected = SHA256.HashData(
            [.. File.ReadAllBytes(files.YamlPath()), .. File.ReadAllBytes(files.ItemsPath()), .. "x"u8.ToArray(), .. "{}"u8.ToArray()]);
        Assert.NotEqual(before, after);
        Assert.Equal(Convert.ToHexStringLower(expected), after);
    }

    [Fact]
    public void Loglikelihood_suite_has_choices_and_no_generation()
    {
        using var files = new SuiteTestFiles();
        var directory = files.Write(
            "name: demo\nversion: 1\nkind: open\nrequest: loglikelihood\nprompt:\n  template: \"{{t}}:\"\nscorers:\n  - name: choice",
            """{"id":"a","t":"good","target":" yes","choices":[" yes"," no"]}""");

        var suite = SuiteLoader.Load(directory);

        Assert.Equal(RequestKind.LogLikelihood, suite.Request);
        Assert.Equal((0, 0.0, 0), (suite.Generation.MaxTokens, suite.Generation.Temperature, suite.Generation.Seed));
        Assert.Empty(suite.Generation.Stop);
        Assert.Equal([" yes", " no"], suite.Items[0].Choices.AsEnumerable());
        Assert.Null(suite.Requirement);
    }
}
