using System.Collections.Immutable;
using System.Text.Json;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Tests.Suites;

namespace Harness.Tests.Tasks;

public sealed class TaskWriterTests
{
    private static readonly string[] Flags = ["i", "m"];

    /// <summary>
    /// The committed tasks/ folder is exactly what the generators write. Set HARNESS_UPDATE_TASKS=1 to rewrite it
    /// after changing a generator (and bump that suite's version).
    /// </summary>
    [Fact]
    public void Committed_tasks_are_byte_identical_to_a_fresh_generation()
    {
        var committed = RepoPaths.Tasks();
        if (Environment.GetEnvironmentVariable("HARNESS_UPDATE_TASKS") == "1")
        {
            TaskWriter.WriteAll(committed);
        }
        using var temp = new SuiteTestFiles();

        Culture.Under("de-DE", () => { TaskWriter.WriteAll(temp.TasksDirectory); return 0; });

        var fresh = Files(temp.TasksDirectory);
        // Only what the generators own: a suite fetched from the catalogue or imported into tasks/ is the user's.
        var owned = fresh.Keys.Select(TopEntry).ToHashSet(StringComparer.Ordinal);
        var generated = Files(committed).Where(f => owned.Contains(TopEntry(f.Key))).ToDictionary(f => f.Key, f => f.Value, StringComparer.Ordinal);
        Assert.Equal(fresh.Keys.Order(StringComparer.Ordinal), generated.Keys.Order(StringComparer.Ordinal));
        foreach (var (path, bytes) in generated)
        {
            Assert.True(bytes.AsSpan().SequenceEqual(fresh[path]), $"tasks/{path} differs from the generator output (HARNESS_UPDATE_TASKS=1 regenerates)");
            Assert.DoesNotContain((byte)'\r', bytes);
        }
    }

    private static string TopEntry(string relativePath) => relativePath.Split('/', '\\')[0];

    [Theory]
    [MemberData(nameof(TaskGeneratorTests.SuiteNames), MemberType = typeof(TaskGeneratorTests))]
    public void Written_suite_loads_back_as_defined(string name)
    {
        var generator = TaskWriter.Generators().Single(g => g.Definition.Name == name);
        using var temp = new SuiteTestFiles();
        TaskWriter.Write(generator, temp.TasksDirectory);

        var suite = SuiteLoader.Load(Path.Combine(temp.TasksDirectory, name));

        AssertMatches(generator.Definition, suite);
        Assert.Equal(TaskWriter.ItemsJsonl(generator.GenerateEvaluation()), TaskWriter.ItemsJsonl(suite.Items));
    }

    [Fact]
    public void Yaml_writer_round_trips_few_shot_system_escapes_and_arguments()
    {
        var definition = new SuiteDefinition(
            "odd-one", 2, SuiteKind.Open, "quotes \" backslash \\ tab \t é 😀", RequestKind.Generate,
            new PromptTemplate(
                "Q: {{q}}\n{{n}} A:",
                "sys \"line\"\nnext",
                [new SuiteItem("ex", Fields(("q", "two\nlines"), ("n", 1.25)), "yes: no", []),
                 new SuiteItem("fewshot-1", Fields(("q", "#not a comment"), ("n", -3)), "", [])],
                "\n---\n"),
            new GenerationSettings(16, ["\n\n", "Q:"], 0.25, 123),
            [new ScorerSpec("regex", Fields(("pattern", "^a: [b]$"), ("flags", Flags), ("weird key", true))),
             new ScorerSpec("token_f1", Fields())],
            null,
            ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal));
        var generator = new FixedGenerator(definition, [new SuiteItem("1", Fields(("q", "z"), ("n", 0)), "t", [])]);
        using var temp = new SuiteTestFiles();
        TaskWriter.Write(generator, temp.TasksDirectory);

        var suite = SuiteLoader.Load(Path.Combine(temp.TasksDirectory, "odd-one"));

        AssertMatches(definition, suite);
    }

    [Fact]
    public void Yaml_writer_round_trips_text_that_a_plain_scalar_would_read_as_null_a_boolean_or_a_number()
    {
        var definition = new SuiteDefinition(
            "null", 1, SuiteKind.Open, "NULL", RequestKind.Generate,
            new PromptTemplate(
                "{{True}} {{q}}",
                "NULL",
                [new SuiteItem("~", Fields(("True", "null"), ("q", "0x1F"), ("NULL", "5"), ("n", 7), ("flag", false), ("none", null!)), "True", [])],
                "\n"),
            new GenerationSettings(4, ["~"], 0, 0),
            [new ScorerSpec("exact", Fields(("True", "NULL"), ("limit", "12"), ("list", new object?[] { "false", 1.5, null })))],
            null,
            ImmutableSortedDictionary.Create<string, string>(StringComparer.Ordinal));
        var generator = new FixedGenerator(definition, [new SuiteItem("1", Fields(("True", "x"), ("q", "y")), "t", [])]);
        using var temp = new SuiteTestFiles();
        TaskWriter.Write(generator, temp.TasksDirectory);

        var suite = SuiteLoader.Load(Path.Combine(temp.TasksDirectory, "null"));

        AssertMatches(definition, suite);
        Assert.Equal(JsonValueKind.Null, suite.Prompt.FewShot[0].Fields["none"].ValueKind);
        Assert.Equal(JsonValueKind.String, suite.Prompt.FewShot[0].Fields["NULL"].ValueKind);
    }

    private static void AssertMatches(SuiteDefinition expected, Suite actual)
    {
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.Version, actual.Version);
        Assert.Equal(expected.Kind, actual.Kind);
        Assert.Equal(expected.Description, actual.Description);
        Assert.Equal(expected.Request, actual.Request);
        Assert.Equal(expected.Prompt.Template, actual.Prompt.Template);
        Assert.Equal(expected.Prompt.System, actual.Prompt.System);
        Assert.Equal(expected.Prompt.FewShotSeparator, actual.Prompt.FewShotSeparator);
        Assert.Equal(TaskWriter.ItemsJsonl(expected.Prompt.FewShot), TaskWriter.ItemsJsonl(actual.Prompt.FewShot));
        if (expected.Generation is { } generation)
        {
            Assert.Equal(generation.MaxTokens, actual.Generation.MaxTokens);
            Assert.Equal(generation.Stop.AsEnumerable(), actual.Generation.Stop);
            Assert.Equal(generation.Temperature, actual.Generation.Temperature);
            Assert.Equal(generation.Seed, actual.Generation.Seed);
        }
        Assert.Equal(expected.Scorers.Select(Describe), actual.Scorers.Select(Describe));
        Assert.Equal(expected.Requirement, actual.Requirement);
        foreach (var (file, text) in expected.ExtraFiles)
        {
            Assert.Equal(text, File.ReadAllText(Path.Combine(actual.Directory, file)));
        }
    }

    private static string Describe(ScorerSpec spec) =>
        spec.Name + JsonSerializer.Serialize(spec.Arguments.ToDictionary(a => a.Key, a => a.Value));

    private static ImmutableSortedDictionary<string, JsonElement> Fields(params (string Name, object Value)[] fields) =>
        fields.ToImmutableSortedDictionary(f => f.Name, f => JsonSerializer.SerializeToElement(f.Value), StringComparer.Ordinal);

    private static ImmutableSortedDictionary<string, byte[]> Files(string root) =>
        Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .Where(p => !Path.GetFileName(p).StartsWith('.'))
            .ToImmutableSortedDictionary(p => Path.GetRelativePath(root, p).Replace('\\', '/'), File.ReadAllBytes, StringComparer.Ordinal);

    private sealed class FixedGenerator(SuiteDefinition definition, ImmutableArray<SuiteItem> items) : ITaskGenerator
    {
        public SuiteDefinition Definition => definition;

        public ImmutableArray<SuiteItem> GenerateEvaluation() => items;

        public IEnumerable<TrainingExample> GenerateTraining(int seed, int count) => [];
    }
}
