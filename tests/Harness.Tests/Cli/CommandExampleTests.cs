using Spectre.Console.Cli;

namespace Harness.Tests.Cli;

/// <summary>Every <c>harness ...</c> example a user can copy, from README.md, docs/*.md and every --help page, is a command that works.</summary>
public sealed class CommandExampleTests
{
    private static readonly string Root = Suites.RepoPaths.Root();

    [Fact]
    public async Task Every_example_of_the_readme_and_docs_parses_and_names_models_suites_and_files_that_exist()
    {
        var examples = CommandExamples.FromDocs(Root);

        // The extraction itself is checked: the README alone shows over twenty commands, compare and quantize among them.
        Assert.True(examples.Count(e => e.Source.StartsWith("README.md", StringComparison.Ordinal)) > 20, string.Join("\n", examples));
        Assert.Contains(examples, e => e.Args[0] == "compare" && e.Source.StartsWith("README.md", StringComparison.Ordinal));
        Assert.Contains(examples, e => e.Args[0] == "quantize" && e.Source.StartsWith("docs/compare.md", StringComparison.Ordinal));
        var problems = await ProblemsAsync(examples.GroupBy(e => e.Source.Split(':')[0]));
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task Every_example_of_every_help_page_parses_and_names_models_suites_and_files_that_exist()
    {
        var pages = new List<(string Command, string Help)> { ("", await CommandExamples.HelpAsync()) };
        foreach (var command in CommandExamples.CommandsIn(pages[0].Help))
        {
            var help = await CommandExamples.HelpAsync(command);
            pages.Add((command, help));
            foreach (var sub in CommandExamples.CommandsIn(help))
            {
                pages.Add(($"{command} {sub}", await CommandExamples.HelpAsync(command, sub)));
            }
        }

        Assert.Contains(pages, p => p.Command == "tasks import");
        var examples = pages.Select(p => CommandExamples.FromHelp(p.Help, p.Command)).ToList();
        Assert.Contains(examples.SelectMany(e => e), e => e.Args[0] == "compare");
        Assert.Contains(examples.SelectMany(e => e), e => e.Args[0] == "quantize");
        var problems = await ProblemsAsync(examples);
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public async Task The_check_finds_an_unknown_model_id_an_unknown_option_a_missing_file_and_an_unquoted_help_template()
    {
        // The examples this project printed before: each must fail the check above.
        var oldCompare = Example("harness compare --base tiny-multi-m --candidates tiny-multi-m-q8_0,tiny-multi-m-q4_0");
        var oldQuantize = Example("harness quantize tiny-multi-m --types Q8_0,Q4_0");
        var oldBench = Example("harness bench --model-file m.gguf -t 1,2 -p 512 -n 128");

        Assert.Contains(await ProblemsAsync([[oldCompare]]), p => p.Contains("model id 'tiny-multi-m' is not in models.manifest", StringComparison.Ordinal));
        Assert.Contains(await ProblemsAsync([[oldQuantize]]), p => p.Contains("model id 'tiny-multi-m' is not in models.manifest", StringComparison.Ordinal));
        Assert.Contains(await ProblemsAsync([[oldBench]]), p => p.Contains("model file 'm.gguf' does not exist", StringComparison.Ordinal));
        await Assert.ThrowsAnyAsync<CommandAppException>(() => CommandExamples.ParseAsync(Example("harness run --modle tiny-bigram")));
        await Assert.ThrowsAnyAsync<CommandAppException>(() => CommandExamples.ParseAsync(Example("harness compare --base tiny-bigram")));
        // Spectre prints an example's words joined by spaces: a template with spaces only survives with its quotes.
        var unquoted = Example("harness tasks import docs/examples/qa.csv --name my-qa --kind fixed --template Q: {{ question }}\\nA: --target answer");
        await Assert.ThrowsAnyAsync<CommandAppException>(() => CommandExamples.ParseAsync(unquoted));
    }

    [Fact]
    public void Examples_are_split_as_a_shell_splits_them()
    {
        var words = CommandExamples.ShellWords("harness tasks import a\\ b.csv --template 'Q: {{ question }}\\nA:' --x \"say \\\"hi\\\"\" results/<run-id>   # a comment");
        Assert.Equal(
            "harness|tasks|import|a b.csv|--template|Q: {{ question }}\\nA:|--x|say \"hi\"|results/<run-id>",
            string.Join('|', words));
        Assert.ThrowsAny<Exception>(() => CommandExamples.ShellWords("harness models | grep tiny"));
    }

    private static CommandExample Example(string line)
    {
        var words = CommandExamples.ShellWords(line);
        return new CommandExample("test", line, words[1..]);
    }

    private static async Task<List<string>> ProblemsAsync(IEnumerable<IEnumerable<CommandExample>> documents)
    {
        var problems = new List<string>();
        foreach (var document in documents)
        {
            var produced = new CommandExamples.Produced();
            foreach (var example in document)
            {
                try
                {
                    var parsed = await CommandExamples.ParseAsync(example);
                    problems.AddRange(CommandExamples.Check(parsed, Root, produced).Select(p => $"{example}: {p}"));
                }
                catch (CommandAppException ex)
                {
                    problems.Add($"{example}: {ex.Message}");
                }
            }
        }

        return problems;
    }
}
