using Harness.Core.Models;
using Harness.Tests.Cli;
using Xunit.Abstractions;

namespace Harness.IntegrationTests.Cli;

/// <summary>The real process, as a new user meets it: examples copied from the docs, output piped, a wrong path.</summary>
[Trait("Category", "Model")]
public sealed class CommandsAsPrintedTests(ITestOutputHelper log)
{
    private static readonly TimeSpan Timeout = TimeSpan.FromMinutes(5);

    [Fact]
    public async Task The_cheap_examples_of_the_readme_and_docs_run_as_written_and_succeed()
    {
        using var ws = new HarnessProcess.Workspace();
        CopyDirectory(Path.Combine(HarnessProcess.RepositoryRoot, "docs", "examples"), Path.Combine(ws.Root, "docs", "examples"));
        var ran = new HashSet<string>(StringComparer.Ordinal);
        foreach (var example in CommandExamples.FromDocs(HarnessProcess.RepositoryRoot).Where(IsCheap))
        {
            if (!ran.Add(string.Join('\u0001', example.Args)))
            {
                continue;
            }

            var result = await HarnessProcess.RunAsync(ws.Root, Timeout, [.. example.Args]);
            log.WriteLine($"{example} -> exit {result.ExitCode}");
            Assert.True(result.ExitCode == 0, $"{example}: exit {result.ExitCode}\n{result.Output}\n{result.Error}");
        }

        // The run, import, quantize and doctor examples are among them, not only the listings.
        Assert.Contains(ran, r => r.StartsWith("run\u0001", StringComparison.Ordinal));
        Assert.Contains(ran, r => r.StartsWith("tasks\u0001import", StringComparison.Ordinal));
        Assert.Contains(ran, r => r.StartsWith("quantize\u0001", StringComparison.Ordinal));
        Assert.True(Directory.Exists(Path.Combine(ws.Root, "tasks", "my-qa")));
    }

    [Fact]
    public async Task Piped_tables_keep_every_model_id_and_path_on_one_line()
    {
        using var ws = new HarnessProcess.Workspace();
        var start = HarnessProcess.StartInfo(ws.Root, "models");
        start.Environment.Remove("COLUMNS"); // piped as a user pipes it: no width given

        var result = await HarnessProcess.RunToEndAsync(start, Timeout, "harness models | cat");

        Assert.Equal(0, result.ExitCode);
        var ids = new ManifestLoader().Load(Path.Combine(ws.Root, "models.manifest")).Models.Select(m => m.Id).ToList();
        Assert.NotEmpty(ids);
        foreach (var id in ids)
        {
            // One table row per model, holding the whole id and the whole file name.
            Assert.Single(result.Output.Split('\n'), line => line.Contains($"│ {id} ", StringComparison.Ordinal) && line.Contains($"models/{id}.gguf", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task Validate_names_a_missing_model_file_and_one_that_is_not_a_gguf_and_run_then_creates_no_folder()
    {
        using var ws = new HarnessProcess.Workspace();
        await File.WriteAllTextAsync(Path.Combine(ws.Root, "models", "notes.gguf"), "not weights");
        await File.WriteAllTextAsync(Path.Combine(ws.Root, "models.manifest"),
            "version: 1\nmodels:\n  - id: tiny-bigram\n    path: models/tiny-bigram.gguf\n  - id: gone\n    path: models/gone.gguf\n  - id: notes\n    path: models/notes.gguf\n");

        var validate = await HarnessProcess.RunAsync(ws.Root, Timeout, "validate");
        var run = await HarnessProcess.RunAsync(ws.Root, Timeout, "run", "--model", "gone", "--suite", "tasks/arith");

        Assert.Equal(2, validate.ExitCode);
        Assert.Contains($"models.manifest:5: model 'gone': file {Path.Combine(ws.Root, "models", "gone.gguf")} does not exist", validate.Output, StringComparison.Ordinal);
        Assert.Contains($"models.manifest:7: model 'notes': file {Path.Combine(ws.Root, "models", "notes.gguf")}: not a GGUF file", validate.Output, StringComparison.Ordinal);
        Assert.Contains("2 problem(s) found.", validate.Output, StringComparison.Ordinal);
        Assert.Equal(2, run.ExitCode);
        Assert.Contains("model 'gone': file", run.Error, StringComparison.Ordinal);
        Assert.False(Directory.Exists(ws.Results));
    }

    // Cheap: no placeholder, nothing outside the repository, no download and no full run of every model or suite.
    private static bool IsCheap(CommandExample example)
    {
        if (example.HasPlaceholder || example.Args.Any(a => a.StartsWith('/') || a.StartsWith("../", StringComparison.Ordinal)))
        {
            return false;
        }

        var args = example.Args;
        return args[0] switch
        {
            "validate" or "models" or "doctor" or "quantize" => true,
            "tasks" => args.Length == 1 || args[1] is "list" or "new" or "import",
            "forge" => !args.Contains("--recipe") || args.Contains("tiny-bigram"),
            "run" => args.Contains("--model") && args.Contains("--suite"),
            _ => false, // compare and bench take minutes; tasks fetch downloads; report needs a run folder
        };
    }

    private static void CopyDirectory(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.GetFiles(from))
        {
            File.Copy(file, Path.Combine(to, Path.GetFileName(file)));
        }
    }

}
