using System.Collections.Immutable;
using System.Text;
using System.Text.RegularExpressions;
using Harness.Cli;
using Harness.Cli.Commands;
using Harness.Core.Models;
using Harness.Forge;
using Harness.Tasks.Catalog;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Tests.Cli;

/// <summary>One <c>harness ...</c> command as a user would copy it from a document or from <c>--help</c>.</summary>
/// <param name="Source">Where it was printed: a file and line, or a help page.</param>
/// <param name="Args">The command line split as a POSIX shell splits it, without the leading <c>harness</c>.</param>
internal sealed record CommandExample(string Source, string Text, ImmutableArray<string> Args)
{
    /// <summary>A <c>&lt;...&gt;</c> stands for something the reader supplies (a run folder, a judge model).</summary>
    public bool HasPlaceholder => Args.Any(CommandExamples.IsPlaceholder);

    public override string ToString() => $"{Source}: harness {Text}";
}

/// <summary>What parsing an example with the real command tree gave: its command and bound, validated settings.</summary>
internal sealed record ParsedExample(CommandExample Example, string Command, CommandSettings Settings);

/// <summary>
/// Finds every <c>harness ...</c> example in README.md, docs/*.md and each command's <c>--help</c>, parses it with
/// the real command tree (unknown options and failed validation are errors) and checks the model ids, suites and
/// files it names against the repository. Fenced blocks marked <c>text</c> are usage synopses and are skipped.
/// </summary>
internal static partial class CommandExamples
{
    public static bool IsPlaceholder(string arg) => arg.Contains('<', StringComparison.Ordinal) && arg.Contains('>', StringComparison.Ordinal);

    /// <summary>Every example of README.md and docs/*.md, in document order.</summary>
    public static IReadOnlyList<CommandExample> FromDocs(string root)
    {
        var files = new[] { Path.Combine(root, "README.md") }.Concat(Directory.GetFiles(Path.Combine(root, "docs"), "*.md").Order(StringComparer.Ordinal));
        var examples = new List<CommandExample>();
        foreach (var file in files)
        {
            var lines = File.ReadAllLines(file);
            var inBlock = false;
            var skipBlock = false;
            for (var i = 0; i < lines.Length; i++)
            {
                var trimmed = lines[i].TrimStart();
                if (trimmed.StartsWith("```", StringComparison.Ordinal))
                {
                    skipBlock = !inBlock && trimmed[3..].Trim() == "text";
                    inBlock = !inBlock;
                    continue;
                }

                if (!inBlock || skipBlock || !trimmed.StartsWith("harness ", StringComparison.Ordinal) && trimmed != "harness")
                {
                    continue;
                }

                var first = i;
                var text = new StringBuilder(trimmed);
                while (text.Length > 0 && text[^1] == '\\' && i + 1 < lines.Length)
                {
                    text.Length--;
                    text.Append(' ').Append(lines[++i].Trim());
                }

                examples.Add(Example($"{Path.GetRelativePath(root, file)}:{first + 1}", text.ToString()));
            }
        }

        return examples;
    }

    /// <summary>The examples of one printed help page (the lines under EXAMPLES:).</summary>
    public static IReadOnlyList<CommandExample> FromHelp(string help, string command)
    {
        var examples = new List<CommandExample>();
        var inExamples = false;
        foreach (var line in help.Split('\n').Select(l => l.TrimEnd('\r', ' ')))
        {
            if (line.Length > 0 && !char.IsWhiteSpace(line[0]))
            {
                inExamples = line == "EXAMPLES:";
                continue;
            }

            if (inExamples && line.TrimStart().StartsWith("harness", StringComparison.Ordinal))
            {
                examples.Add(Example($"harness {command} --help".Replace("  ", " ", StringComparison.Ordinal), line.Trim()));
            }
        }

        return examples;
    }

    /// <summary>The names under COMMANDS: of a printed help page.</summary>
    public static IReadOnlyList<string> CommandsIn(string help)
    {
        var names = new List<string>();
        var inCommands = false;
        foreach (var line in help.Split('\n').Select(l => l.TrimEnd('\r', ' ')))
        {
            if (line.Length > 0 && !char.IsWhiteSpace(line[0]))
            {
                inCommands = line == "COMMANDS:";
                continue;
            }

            if (inCommands && line.StartsWith("    ", StringComparison.Ordinal) && !char.IsWhiteSpace(line[4]))
            {
                names.Add(line.Trim().Split(' ')[0]);
            }
        }

        return names;
    }

    /// <summary>The help page of <paramref name="command"/> (empty: the root), printed as a terminal-less console would.</summary>
    public static async Task<string> HelpAsync(params string[] command)
    {
        using var writer = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(writer),
            Interactive = InteractionSupport.No,
        });
        Harness.Cli.Output.ConsoleLayout.Apply(console, outputRedirected: true);
        var app = HarnessApp.Build();
        app.Configure(c => c.ConfigureConsole(console));
        var exit = await app.RunAsync([.. command, "--help"]);
        Assert.Equal(0, exit);
        return writer.ToString();
    }

    /// <summary>Parses <paramref name="example"/> with the real command tree and validates its settings, running nothing.</summary>
    /// <exception cref="CommandAppException">An unknown command or option, a value that does not convert, or settings
    /// whose own validation fails (Spectre validates while binding, before the interceptor).</exception>
    public static async Task<ParsedExample> ParseAsync(CommandExample example)
    {
        var interceptor = new ParseOnly();
        var app = HarnessApp.Build();
        app.Configure(c => c.SetInterceptor(interceptor));
        try
        {
            await app.RunAsync([.. example.Args]);
        }
        catch (ParsedException parsed)
        {
            return new ParsedExample(example, parsed.Command, parsed.Settings);
        }

        throw new InvalidOperationException($"{example}: no command was bound (help or version instead?)");
    }

    /// <summary>
    /// The problems of one parsed example: model ids not in its manifest, suites that are neither in tasks/ nor in the
    /// catalogue, files that do not exist. What an earlier example of the same document makes (a quantized model, an
    /// imported suite, a forged file) counts as existing for the ones after it.
    /// </summary>
    public static IReadOnlyList<string> Check(ParsedExample parsed, string root, Produced produced)
    {
        var problems = new List<string>();
        void Path(string? path, string what)
        {
            if (path is null || IsPlaceholder(path) || IsOutside(path) || produced.Paths.Contains(Normal(path)))
            {
                return;
            }

            var full = System.IO.Path.Combine(root, path);
            if (!File.Exists(full) && !Directory.Exists(full))
            {
                problems.Add($"{what} '{path}' does not exist in the repository");
            }
        }

        void Suite(string path)
        {
            var name = System.IO.Path.GetFileName(path.TrimEnd('/'));
            if (Normal(path).StartsWith("tasks/", StringComparison.Ordinal) && CatalogSuites.Contains(name))
            {
                return; // written by harness tasks fetch <name>
            }

            Path(path, "suite");
        }

        void Models(string manifest, IEnumerable<string?> ids)
        {
            if (IsPlaceholder(manifest) || IsOutside(manifest))
            {
                return;
            }

            Path(manifest, "manifest");
            var full = System.IO.Path.Combine(root, manifest);
            var known = File.Exists(full) ? new ManifestLoader().Load(full).Models.Select(m => m.Id).ToHashSet(StringComparer.Ordinal) : [];
            foreach (var id in ids.OfType<string>().Where(id => !IsPlaceholder(id)))
            {
                if (!known.Contains(id) && !produced.ModelIds.Contains(id))
                {
                    problems.Add($"model id '{id}' is not in {manifest}");
                }
            }
        }

        switch (parsed.Settings)
        {
            case CompareSettings s:
                Models(s.Manifest, [s.Base, .. s.CandidateIds]);
                s.Suites.ToList().ForEach(Suite);
                Path(s.Resume, "run folder");
                Path(s.Reference, "reference text");
                break;
            case RunSettings s:
                Models(s.Manifest, [.. s.Models, s.Judge]);
                s.Suites.ToList().ForEach(Suite);
                Path(s.Resume, "run folder");
                break;
            case BenchSettings s:
                Models(s.Manifest, s.Models);
                s.ModelFiles.ToList().ForEach(f => Path(f, "model file"));
                s.Suites.ToList().ForEach(Suite);
                Path(s.Raw, "reference program");
                break;
            case QuantizeSettings s when QuantizeCommand.IsPath(s.Input):
                Path(s.Input, "model file");
                Path(s.AddTo, "manifest");
                produced.Quantized(s.AddTo is null ? null : QuantizedBaseId(root, s.AddTo, s.Input), s.Types, s.Input);
                break;
            case QuantizeSettings s:
                Models(s.Manifest, [s.Input]);
                produced.Quantized(s.NoManifest ? null : s.Input, s.Types, null);
                break;
            case ValidateSettings s:
                Path(s.Manifest, "manifest");
                Path(s.Tasks, "tasks folder");
                break;
            case ModelsSettings s:
                Path(s.Manifest, "manifest");
                break;
            case ReportSettings s:
                Path(s.Run, "run folder");
                Path(s.RunB, "run folder");
                break;
            case ForgeSettings s:
                if (s.Recipe is { } recipe && !IsPlaceholder(recipe) && ForgeRecipes.Find(recipe) is null)
                {
                    problems.Add($"no forge recipe '{recipe}'");
                }

                if (s.Recipe is not null)
                {
                    produced.Paths.Add(Normal(s.Output ?? $"models/{ForgeRecipes.Find(s.Recipe)?.DefaultFileName}"));
                }

                break;
            case ForgeOnnxSettings s:
                Path(s.Model, "model file");
                produced.Paths.Add(Normal(s.OutputFolder));
                break;
            case TasksFetchSettings s:
                Path(s.From, "datasets folder");
                try
                {
                    foreach (var fetched in CatalogFetcher.Select(s.Names, BenchmarkCatalog.Recipes()))
                    {
                        fetched.SuiteNames.ToList().ForEach(n => produced.Paths.Add(Normal($"{s.Tasks}/{n}")));
                    }
                }
                catch (CatalogException ex)
                {
                    problems.Add(ex.Message);
                }

                break;
            case TasksImportSettings s:
                Path(s.File, "data file");
                Path(s.TemplateFile, "template file");
                produced.Paths.Add(Normal($"{s.Tasks}/{s.Name}"));
                break;
            case TasksNewSettings s:
                produced.Paths.Add(Normal($"{s.Tasks}/{s.Name}"));
                break;
            case TasksSettings s:
                Path(s.Tasks, "tasks folder");
                break;
        }

        return problems;
    }

    /// <summary>What the examples of one document have made so far.</summary>
    internal sealed class Produced
    {
        public HashSet<string> ModelIds { get; } = new(StringComparer.Ordinal);

        public HashSet<string> Paths { get; } = new(StringComparer.Ordinal);

        /// <summary>harness quantize: <c>&lt;base id&gt;-&lt;type&gt;</c> entries and files beside the input.</summary>
        public void Quantized(string? baseId, string types, string? inputPath)
        {
            foreach (var type in types.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (baseId is not null)
                {
                    ModelIds.Add($"{baseId}-{type.ToLowerInvariant()}");
                }

                if (inputPath is not null)
                {
                    Paths.Add(Normal($"{System.IO.Path.ChangeExtension(inputPath, null)}-{type.ToLowerInvariant()}.gguf"));
                }
            }
        }
    }

    /// <summary>The suites harness tasks fetch can write.</summary>
    private static readonly ImmutableHashSet<string> CatalogSuites =
        [.. BenchmarkCatalog.Recipes().SelectMany(r => r.SuiteNames)];

    // Absolute paths and paths above the checkout (a datasets copy, a scratch folder) are on the reader's machine,
    // not in the repository; the documents that use them say how they were made.
    private static bool IsOutside(string path) => System.IO.Path.IsPathRooted(path) || Normal(path).StartsWith("../", StringComparison.Ordinal);

    private static string Normal(string path)
    {
        var normal = path.Replace('\\', '/').TrimEnd('/');
        return normal.StartsWith("./", StringComparison.Ordinal) ? normal[2..] : normal;
    }

    private static string QuantizedBaseId(string root, string manifest, string input)
    {
        var full = System.IO.Path.Combine(root, manifest);
        var loaded = new ManifestLoader().Load(full);
        var directory = System.IO.Path.GetDirectoryName(loaded.FilePath)!;
        var inputPath = System.IO.Path.GetFullPath(input, root);
        return loaded.Models.FirstOrDefault(m => m.Source.Path is { } p && System.IO.Path.GetFullPath(p, directory) == inputPath)?.Id
            ?? System.IO.Path.GetFileNameWithoutExtension(input).ToLowerInvariant();
    }

    private static CommandExample Example(string source, string text)
    {
        var words = ShellWords(text);
        Assert.True(words.Length > 0 && words[0] == "harness", $"{source}: '{text}' does not start with harness");
        return new CommandExample(source, text["harness".Length..].Trim(), words[1..]);
    }

    /// <summary>Splits a line as a POSIX shell does: quotes, backslash escapes, and a comment from an unquoted #.</summary>
    public static ImmutableArray<string> ShellWords(string line)
    {
        var words = ImmutableArray.CreateBuilder<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < line.Length; i++)
        {
            var c = line[i];
            if (char.IsWhiteSpace(c))
            {
                if (inWord)
                {
                    words.Add(word.ToString());
                    word.Clear();
                    inWord = false;
                }

                continue;
            }

            if (c == '#' && !inWord)
            {
                break;
            }

            inWord = true;
            switch (c)
            {
                case '\'':
                    var close = line.IndexOf('\'', i + 1);
                    Assert.True(close > 0, $"unclosed ' in: {line}");
                    word.Append(line, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    for (i++; i < line.Length && line[i] != '"'; i++)
                    {
                        if (line[i] == '\\' && i + 1 < line.Length && line[i + 1] is '"' or '\\' or '$' or '`')
                        {
                            i++;
                        }

                        word.Append(line[i]);
                    }

                    Assert.True(i < line.Length, $"unclosed \" in: {line}");
                    break;
                case '\\' when i + 1 < line.Length:
                    word.Append(line[++i]);
                    break;
                case '<' when PlaceholderPattern().Match(line, i) is { Success: true } match && match.Index == i:
                    word.Append(match.Value); // <run-id> and the like stand for text the reader supplies
                    i += match.Length - 1;
                    break;
                default:
                    Assert.True(c is not ('|' or ';' or '&' or '>' or '<' or '`'), $"'{c}' outside quotes is shell syntax, not part of a harness command: {line}");
                    word.Append(c);
                    break;
            }
        }

        if (inWord)
        {
            words.Add(word.ToString());
        }

        return words.ToImmutable();
    }

    [GeneratedRegex(@"<[A-Za-z0-9_.-]+>")]
    private static partial Regex PlaceholderPattern();


    private sealed class ParsedException(string command, CommandSettings settings) : Exception($"parsed {command}")
    {
        public string Command { get; } = command;

        public CommandSettings Settings { get; } = settings;
    }

    // Runs after Spectre has bound the settings and before the command: stops there, so nothing executes.
    private sealed class ParseOnly : ICommandInterceptor
    {
        public void Intercept(CommandContext context, CommandSettings settings) => throw new ParsedException(context.Name, settings);
    }
}
