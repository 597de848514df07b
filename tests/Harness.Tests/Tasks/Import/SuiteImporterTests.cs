using System.Globalization;
using Harness.Core.Suites;
using Harness.Tasks.Import;
using Parquet.Serialization;

namespace Harness.Tests.Tasks.Import;

public sealed class SuiteImporterTests
{
    [Fact]
    public async Task A_csv_becomes_a_suite_that_loads_with_its_fields_target_and_liquid_prompt()
    {
        using var ws = new ImportWorkspace();
        var csv = ws.Write("qa.csv", "question,answer,topic\n\"Capital of France, in one word?\",Paris,geo\n\"2+2\nequals?\",4,math\n");

        var result = await ImportWorkspace.ImportAsync(ws.Options(csv, "Q: {{ question }}\nA:", "answer"));

        Assert.Equal(2, result.Items);
        var suite = SuiteLoader.Load(result.Directory);
        Assert.Equal("imported", suite.Name);
        Assert.Equal(PromptEngine.Liquid, suite.Prompt.Engine);
        Assert.Equal(["Paris", "4"], suite.Items.Select(i => i.Target));
        var first = suite.Items.Single(i => i.Target == "Paris");
        Assert.Equal(["answer", "question", "topic"], first.Fields.Keys);
        Assert.Equal("Q: Capital of France, in one word?\nA:", PromptRenderer.Render(suite, first).PlainText);
        var yaml = await File.ReadAllTextAsync(Path.Combine(result.Directory, "suite.yaml"));
        Assert.Contains("engine: liquid", yaml, StringComparison.Ordinal);
        Assert.Contains("max_tokens: 16", yaml, StringComparison.Ordinal);
        Assert.Contains("min_pass_rate: 0.9", yaml, StringComparison.Ordinal);
        Assert.Contains("from qa.csv (sha256 ", yaml, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Arc_style_choices_as_an_object_of_lists_with_a_label_target_render_as_a_numbered_list()
    {
        using var ws = new ImportWorkspace();
        var jsonl = ws.Write("arc.jsonl",
            "{\"id\":\"q1\",\"question\":\"Sky colour?\",\"choices\":{\"text\":[\"red\",\"blue\"],\"label\":[\"A\",\"B\"]},\"answerKey\":\"B\"}\n"
            + "{\"id\":\"q2\",\"question\":\"Grass?\",\"choices\":{\"text\":[\"green\",\"pink\"],\"label\":[\"A\",\"B\"]},\"answerKey\":\"A\"}\n");
        var options = ws.ChoiceOptions(jsonl, "{{ question }}\n{% for c in source_choices.text %}{{ source_choices.label[forloop.index0] }}. {{ c }}\n{% endfor %}Answer:", "answerKey", "choices.text")
            with { TargetIn = "choices.label", IdPath = "id" };

        var suite = SuiteLoader.Load((await ImportWorkspace.ImportAsync(options)).Directory);

        var q1 = suite.Items.Single(i => i.Id == "q1");
        Assert.Equal([" red", " blue"], q1.Choices.ToArray());
        Assert.Equal(" blue", q1.Target);
        Assert.Equal("Sky colour?\nA. red\nB. blue\nAnswer:", PromptRenderer.Render(suite, q1).PlainText);
        // The source's own id and choices are kept, renamed, because the item's keys are reserved.
        Assert.Equal("q1", q1.Fields["source_id"].GetString());
        Assert.Equal(" green", suite.Items.Single(i => i.Id == "q2").Target);
    }

    [Fact]
    public async Task Choices_as_a_list_of_objects_a_join_and_an_index_target()
    {
        using var ws = new ImportWorkspace();
        var json = ws.Write("mc.json", "[{\"q\":\"Pick\",\"options\":[{\"text\":\"x\"},{\"text\":\"y\"},{\"text\":\"z\"}],\"label\":2}]");
        var options = ws.Options(json, "{{ q }} ({{ options | map: 'text' | join: ', ' }}); or as listed: {% for c in choices %}{{ forloop.index }}={{ c }} {% endfor %}", "label")
            with { ChoicesPath = "options.text", TargetIsIndex = true };

        var suite = SuiteLoader.Load((await ImportWorkspace.ImportAsync(options)).Directory);

        var item = Assert.Single(suite.Items);
        Assert.Equal("z", item.Target);
        Assert.Equal(["x", "y", "z"], item.Choices.ToArray());
        Assert.Equal("Pick (x, y, z); or as listed: 1=x 2=y 3=z ", PromptRenderer.Render(suite, item).PlainText);
    }

    [Fact]
    public async Task Parquet_with_nested_choices_imports_like_its_jsonl_twin()
    {
        using var ws = new ImportWorkspace();
        var path = Path.Combine(ws.Root, "arc.parquet");
        await ParquetSerializer.SerializeAsync(ArcRow.Sample, path);
        var options = ws.ChoiceOptions(path, "{{ Question }} (grade {{ Grade }}, weight {{ Weight }})\nAnswer:", "AnswerKey", "Choices.Text")
            with { TargetIn = "Choices.Label", IdPath = "Id" };

        var suite = SuiteLoader.Load((await ImportWorkspace.ImportAsync(options)).Directory);

        Assert.Equal(["q1", "q2"], suite.Items.Select(i => i.Id).Order(StringComparer.Ordinal));
        var q1 = suite.Items.Single(i => i.Id == "q1");
        Assert.Equal(" blue", q1.Target);
        Assert.Equal("Sky colour? (grade 3, weight 0.25)\nAnswer:", PromptRenderer.Render(suite, q1).PlainText);
    }

    [Fact]
    public async Task Liquid_prints_numbers_in_the_invariant_culture()
    {
        var before = CultureInfo.CurrentCulture;
        CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
        try
        {
            using var ws = new ImportWorkspace();
            var jsonl = ws.Write("n.jsonl", "{\"x\":1.5,\"t\":\"a\"}\n");

            var suite = SuiteLoader.Load((await ImportWorkspace.ImportAsync(ws.Options(jsonl, "{{ x }} {{ x | times: 2 }}", "t"))).Directory);

            Assert.Equal("1.5 3.0", PromptRenderer.Render(suite, suite.Items[0]).PlainText);
        }
        finally
        {
            CultureInfo.CurrentCulture = before;
        }
    }

    [Fact]
    public async Task Ids_without_an_id_field_are_a_hash_of_the_record_so_reordering_keeps_them()
    {
        using var ws = new ImportWorkspace();
        var a = ws.Write("a.csv", "q,a\nx,1\ny,2\nz,3\n");
        var b = ws.Write("b.csv", "a,q\n3,z\n1,x\n2,y\n");

        var first = SuiteLoader.Load((await ImportWorkspace.ImportAsync(ws.Options(a, "{{ q }}", "a"))).Directory);
        var second = SuiteLoader.Load((await ImportWorkspace.ImportAsync(ws.Options(b, "{{ q }}", "a") with { Name = "reordered" })).Directory);

        Assert.Equal(first.Items.ToDictionary(i => i.Id, i => i.Target), second.Items.ToDictionary(i => i.Id, i => i.Target));
        Assert.All(first.Items, i => Assert.Matches("^[0-9a-f]{16}$", i.Id));
    }

    [Fact]
    public async Task Every_bad_row_is_reported_as_file_row_problem_and_nothing_is_written()
    {
        using var ws = new ImportWorkspace();
        var jsonl = ws.Write("bad.jsonl", string.Join("\n",
            "{\"id\":\"1\",\"q\":\"ok\",\"opts\":[\"a\",\"b\"],\"ans\":\"a\"}",
            "{\"id\":\"2\",\"q\":\"no target\",\"opts\":[\"a\",\"b\"]}",
            "{\"id\":\"3\",\"q\":\"not a list\",\"opts\":\"a,b\",\"ans\":\"a\"}",
            "{\"id\":\"4\",\"q\":\"not among\",\"opts\":[\"a\",\"b\"],\"ans\":\"c\"}",
            "{\"id\":\"1\",\"q\":\"duplicate\",\"opts\":[\"a\",\"b\"],\"ans\":\"b\"}",
            "[1,2]",
            "{broken") + "\n");
        var options = ws.ChoiceOptions(jsonl, "{{ q }}", "ans", "opts") with { IdPath = "id" };

        var problems = await ImportWorkspace.ProblemsAsync(options);

        Assert.StartsWith($"{jsonl}:7: invalid JSON: ", problems[0], StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber: 0", problems[0], StringComparison.Ordinal);
        Assert.Equal(
        [
            $"{jsonl}:2: missing target field 'ans'",
            $"{jsonl}:3: choices field 'opts' must be a list, not string",
            $"{jsonl}:4: target 'c' is not among the choices of 'opts' (use --target-in <labels> or --target-index when it names one)",
            $"{jsonl}:5: duplicate id '1' (also at {jsonl}:1)",
            $"{jsonl}:6: a record must be a JSON object, not Array",
        ], problems[1..]);
        ws.AssertNothingWritten();
    }

    [Fact]
    public async Task A_template_that_fails_on_a_row_names_the_row_and_the_unknown_variable()
    {
        using var ws = new ImportWorkspace();
        var csv = ws.Write("t.csv", "question,answer\nx,1\n");

        var problems = await ImportWorkspace.ProblemsAsync(ws.Options(csv, "{{ qestion }}", "answer"));

        Assert.Equal([$"{csv}:2: the template fails on this record: Undefined variable 'qestion'"], problems);
        ws.AssertNothingWritten();
    }

    [Fact]
    public async Task Errors_in_json_and_parquet_rows_are_located_by_index()
    {
        using var ws = new ImportWorkspace();
        var json = ws.Write("d.json", "[{\"q\":\"a\",\"t\":\"1\"},{\"q\":\"b\"}]");
        var parquet = Path.Combine(ws.Root, "d.parquet");
        await ParquetSerializer.SerializeAsync(ArcRow.Sample, parquet);

        Assert.Equal([$"{json}:[1]: missing target field 't'"], await ImportWorkspace.ProblemsAsync(ws.Options(json, "{{ q }}", "t")));
        Assert.Equal([$"{parquet}:row 0: target 'B' is not among the choices of 'Choices.Text' (use --target-in <labels> or --target-index when it names one)",
                      $"{parquet}:row 1: target 'A' is not among the choices of 'Choices.Text' (use --target-in <labels> or --target-index when it names one)"],
            await ImportWorkspace.ProblemsAsync(ws.ChoiceOptions(parquet, "{{ Question }}", "AnswerKey", "Choices.Text")));
        ws.AssertNothingWritten();
    }

    [Fact]
    public async Task Identical_records_without_an_id_field_are_a_duplicate_naming_both_rows()
    {
        using var ws = new ImportWorkspace();
        var csv = ws.Write("d.csv", "q,a\nx,1\ny,2\nx,1\n");

        var problem = Assert.Single(await ImportWorkspace.ProblemsAsync(ws.Options(csv, "{{ q }}", "a")));

        Assert.StartsWith($"{csv}:4: duplicate record: the same fields as {csv}:2", problem, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Bad_options_are_refused_before_the_file_is_read()
    {
        using var ws = new ImportWorkspace();
        var csv = ws.Write("d.csv", "q,a\nx,1\n");

        var problems = await ImportWorkspace.ProblemsAsync(ws.Options(csv, "{% for %}", "a") with { Name = "Bad_Name", Request = RequestKind.LogLikelihood, Generation = null });

        Assert.Contains(problems, p => p.Contains("--name 'Bad_Name' must match [a-z0-9-]+", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("--request loglikelihood needs --choices", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("--template: the liquid template does not parse", StringComparison.Ordinal));
        ws.AssertNothingWritten();
    }

    [Fact]
    public async Task An_existing_folder_is_refused_without_force_and_replaced_with_it()
    {
        using var ws = new ImportWorkspace();
        var v1 = ws.Write("v1.csv", "q,a\nx,1\n");
        var v2 = ws.Write("v2.csv", "q,a\ny,2\nz,3\n");
        var directory = (await ImportWorkspace.ImportAsync(ws.Options(v1, "{{ q }}", "a"))).Directory;

        var refused = await ImportWorkspace.ProblemsAsync(ws.Options(v2, "{{ q }}", "a"));
        var replaced = await ImportWorkspace.ImportAsync(ws.Options(v2, "{{ q }}", "a") with { Force = true });

        Assert.Equal([$"{v2}: {directory} already exists (pass --force to replace it)"], refused);
        Assert.Equal(2, SuiteLoader.Load(replaced.Directory).Items.Length);
        Assert.Equal(["imported"], Directory.GetFileSystemEntries(ws.Tasks).Select(Path.GetFileName));
    }

    [Fact]
    public async Task A_scorer_with_bad_arguments_is_caught_by_validation_before_the_folder_appears()
    {
        using var ws = new ImportWorkspace();
        var csv = ws.Write("d.csv", "q,a\nx,1\n");
        var unknown = ws.Options(csv, "{{ q }}", "a") with
        {
            Scorers = [new ScorerSpec("no_such_scorer", System.Collections.Immutable.ImmutableSortedDictionary<string, System.Text.Json.JsonElement>.Empty)],
        };

        var problem = Assert.Single(await ImportWorkspace.ProblemsAsync(unknown));

        Assert.Contains("the written suite would not load: suite.yaml:", problem, StringComparison.Ordinal);
        Assert.Contains("unknown scorer 'no_such_scorer'", problem, StringComparison.Ordinal);
        ws.AssertNothingWritten();
    }

    [Fact]
    public void Field_paths_reach_into_objects_lists_of_objects_and_indexes()
    {
        using var document = System.Text.Json.JsonDocument.Parse("{\"a\":{\"b\":[1,2]},\"l\":[{\"t\":\"x\"},{\"t\":\"y\"}],\"c.d\":\"dotted\"}");
        var root = document.RootElement;

        Assert.Equal("[1,2]", FieldPath.Resolve(root, "a.b")!.Value.GetRawText());
        Assert.Equal("2", FieldPath.Resolve(root, "a.b.1")!.Value.GetRawText());
        Assert.Equal("[\"x\",\"y\"]", FieldPath.Resolve(root, "l.t")!.Value.GetRawText());
        Assert.Equal("dotted", FieldPath.Resolve(root, "c.d")!.Value.GetString());
        Assert.Null(FieldPath.Resolve(root, "a.c"));
        Assert.Null(FieldPath.Resolve(root, "a.b.5"));
    }
}
