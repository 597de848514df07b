using System.Collections.Immutable;
using System.ComponentModel;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Harness.Core.Suites;
using Harness.Tasks.Import;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class TasksImportSettings : TasksSettings
{
    [CommandArgument(0, "<FILE>")]
    [Description("The data: .csv, .tsv (header row required), .jsonl/.ndjson, .json (an array of objects, or an object whose only property is one) or .parquet")]
    public string File { get; init; } = "";

    [CommandOption("--name <NAME>")]
    [Description("Suite name and folder under --tasks ([[a-z0-9-]]+)")]
    public string? Name { get; init; }

    [CommandOption("--kind <KIND>")]
    [Description("fixed (pass/fail against --bar) or open (ranked, no bar)")]
    public string? Kind { get; init; }

    [CommandOption("--template <TEXT>")]
    [Description("Liquid prompt template over the record's fields, e.g. \"Q: {{ question }}\\nA:\"; \\n, \\t and \\\\ are unescaped")]
    public string? Template { get; init; }

    [CommandOption("--template-file <FILE>")]
    [Description("Read the Liquid template from a file instead (taken verbatim)")]
    public string? TemplateFile { get; init; }

    [CommandOption("--system <TEXT>")]
    [Description("System message (same unescaping as --template). Default: none")]
    public string? System { get; init; }

    [CommandOption("--target <FIELD>")]
    [Description("Field holding the answer; a dotted path such as answer.text")]
    public string? Target { get; init; }

    [CommandOption("--choices <FIELD>")]
    [Description("Field holding the list of candidate answers, e.g. choices.text (required for --request loglikelihood)")]
    public string? Choices { get; init; }

    [CommandOption("--target-in <FIELD>")]
    [Description("The target is a label looked up in this list, parallel to --choices (e.g. --target answerKey --target-in choices.label)")]
    public string? TargetIn { get; init; }

    [CommandOption("--target-index")]
    [Description("The target is a 0-based index into --choices")]
    public bool TargetIndex { get; init; }

    [CommandOption("--choice-prefix <TEXT>")]
    [Description("Put before each choice and the target (loglikelihood only; the choices are continuations). Default: \" \", as lm-eval's target_delimiter")]
    public string? ChoicePrefix { get; init; }

    [CommandOption("--id <FIELD>")]
    [Description("Field holding each item's id. Default: a hash of the record, stable when the file is reordered")]
    public string? Id { get; init; }

    [CommandOption("--request <REQUEST>")]
    [Description("generate or loglikelihood. Default: generate")]
    public string Request { get; init; } = "generate";

    [CommandOption("--scorer <SCORER>")]
    [Description("name or name:{json args}, e.g. exact or 'regex:{\"pattern\":\"\\\\d+\"}'; repeat for more (the first decides). Default: choice for loglikelihood, exact with normalize [[trim]] for generate")]
    public string[] Scorers { get; init; } = [];

    [CommandOption("--bar <RATE>")]
    [Description("fixed only: min_pass_rate the pass rate's lower confidence bound must clear. Default: 0.9")]
    public double? Bar { get; init; }

    [CommandOption("--confidence <LEVEL>")]
    [Description("fixed only: two-sided confidence level. Default: 0.95")]
    public double? Confidence { get; init; }

    [CommandOption("--max-tokens <N>")]
    [Description("generate only: most tokens per answer. Default: 64")]
    public int? MaxTokens { get; init; }

    [CommandOption("--stop <TEXT>")]
    [Description("generate only: stop sequence (unescaped like --template); repeat for more. Default: \\n")]
    public string[] Stop { get; init; } = [];

    [CommandOption("--force")]
    [Description("Replace an existing suite folder of that name")]
    public bool Force { get; init; }

    public override ValidationResult Validate()
    {
        if (Name is null || Kind is null || Target is null)
        {
            return ValidationResult.Error("--name, --kind and --target are required");
        }
        if ((Template is null) == (TemplateFile is null))
        {
            return ValidationResult.Error("give the prompt with exactly one of --template and --template-file");
        }
        return Kind is "fixed" or "open"
            ? Request is "generate" or "loglikelihood" ? ValidationResult.Success() : ValidationResult.Error($"--request must be generate or loglikelihood, not '{Request}'")
            : ValidationResult.Error($"--kind must be fixed or open, not '{Kind}'");
    }
}

/// <summary>The user's own data as a suite: every default that changes scores is written into suite.yaml.</summary>
internal sealed class TasksImportCommand : AsyncCommand<TasksImportSettings>
{
    public const int DefaultMaxTokens = 64;
    public const double DefaultBar = 0.9;
    public const double DefaultConfidence = 0.95;

    private static readonly string[] TrimOnly = ["trim"];

    public override async Task<int> ExecuteAsync(CommandContext context, TasksImportSettings settings, CancellationToken cancellationToken)
    {
        var options = Options(settings);
        using var scorers = new Scoring.HarnessScorers();
        var result = await SuiteImporter.ImportAsync(options, scorers.Registry.Factories, cancellationToken).ConfigureAwait(false);
        AnsiConsole.MarkupLineInterpolated($"wrote {result.Directory} ({result.Items.ToString(CultureInfo.InvariantCulture)} items); check it with [bold]harness tasks[/] and run it with [bold]harness run --suite {result.Directory}[/]");
        return ExitCodes.Success;
    }

    /// <summary>Settings to the importer's options, defaults filled in; option misuse is an <see cref="ImportException"/>.</summary>
    internal static ImportOptions Options(TasksImportSettings s)
    {
        var problems = new List<string>();
        var kind = s.Kind == "open" ? SuiteKind.Open : SuiteKind.Fixed;
        var request = s.Request == "loglikelihood" ? RequestKind.LogLikelihood : RequestKind.Generate;
        if (kind == SuiteKind.Open && (s.Bar is not null || s.Confidence is not null))
        {
            problems.Add("--bar and --confidence apply to --kind fixed only");
        }
        if (request == RequestKind.LogLikelihood && (s.MaxTokens is not null || s.Stop.Length > 0))
        {
            problems.Add("--max-tokens and --stop apply to --request generate only");
        }
        var scorers = ImmutableArray.CreateBuilder<ScorerSpec>();
        foreach (var text in s.Scorers)
        {
            if (ParseScorer(text, out var spec, out var problem))
            {
                scorers.Add(spec!);
            }
            else
            {
                problems.Add(problem!);
            }
        }
        if (scorers.Count == 0)
        {
            scorers.Add(request == RequestKind.LogLikelihood
                ? new ScorerSpec("choice", ImmutableSortedDictionary<string, JsonElement>.Empty.WithComparers(StringComparer.Ordinal))
                : new ScorerSpec("exact", ImmutableSortedDictionary.CreateRange(StringComparer.Ordinal,
                    [KeyValuePair.Create("normalize", JsonSerializer.SerializeToElement(TrimOnly))])));
        }
        string template;
        if (s.TemplateFile is not null)
        {
            if (!System.IO.File.Exists(s.TemplateFile))
            {
                throw new ImportException(new ImportProblem(s.TemplateFile, "", "template file does not exist"));
            }
            template = System.IO.File.ReadAllText(s.TemplateFile, new UTF8Encoding(false, true)).ReplaceLineEndings("\n");
        }
        else
        {
            template = Unescape(s.Template!);
        }
        if (problems.Count > 0)
        {
            throw new ImportException([.. problems.Select(p => new ImportProblem(s.File, "", p))]);
        }
        return new ImportOptions(
            s.File,
            s.Name!,
            kind,
            request,
            template,
            s.System is null ? null : Unescape(s.System),
            s.Target!,
            s.Choices,
            s.TargetIn,
            s.TargetIndex,
            s.ChoicePrefix is { } prefix ? Unescape(prefix) : request == RequestKind.LogLikelihood ? " " : "",
            s.Id,
            scorers.ToImmutable(),
            kind == SuiteKind.Fixed ? new Requirement(s.Bar ?? DefaultBar, s.Confidence ?? DefaultConfidence, null, null) : null,
            request == RequestKind.Generate
                ? new GenerationSettings(s.MaxTokens ?? DefaultMaxTokens, s.Stop.Length > 0 ? [.. s.Stop.Select(Unescape)] : ["\n"], 0, 0)
                : null,
            s.Tasks,
            s.Force);
    }

    /// <summary><c>name</c> or <c>name:{"arg": value}</c>.</summary>
    internal static bool ParseScorer(string text, out ScorerSpec? spec, out string? problem)
    {
        spec = null;
        problem = null;
        var colon = text.IndexOf(':', StringComparison.Ordinal);
        var name = colon < 0 ? text : text[..colon];
        if (name.Length == 0)
        {
            problem = $"--scorer '{text}' has no name";
            return false;
        }
        var arguments = ImmutableSortedDictionary.CreateBuilder<string, JsonElement>(StringComparer.Ordinal);
        if (colon >= 0)
        {
            try
            {
                using var document = JsonDocument.Parse(text[(colon + 1)..]);
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                {
                    problem = $"--scorer {name}: the arguments after ':' must be a JSON object";
                    return false;
                }
                foreach (var property in document.RootElement.EnumerateObject())
                {
                    arguments[property.Name] = property.Value.Clone();
                }
            }
            catch (JsonException e)
            {
                problem = $"--scorer {name}: the arguments after ':' are not JSON: {e.Message}";
                return false;
            }
        }
        spec = new ScorerSpec(name, arguments.ToImmutable());
        return true;
    }

    /// <summary>Shells make a newline awkward to type: \n, \t and \\ in a command-line template are unescaped.</summary>
    internal static string Unescape(string text)
    {
        var result = new StringBuilder(text.Length);
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '\\' && i + 1 < text.Length && text[i + 1] is 'n' or 't' or '\\')
            {
                result.Append(text[i + 1] switch { 'n' => '\n', 't' => '\t', _ => '\\' });
                i++;
            }
            else
            {
                result.Append(text[i]);
            }
        }
        return result.ToString();
    }
}

internal sealed class TasksNewSettings : TasksSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Suite name and folder under --tasks ([[a-z0-9-]]+)")]
    public string Name { get; init; } = "";

    [CommandOption("--kind <KIND>")]
    [Description("fixed or open. Default: fixed")]
    public string Kind { get; init; } = "fixed";

    [CommandOption("--request <REQUEST>")]
    [Description("generate or loglikelihood. Default: generate")]
    public string Request { get; init; } = "generate";

    public override ValidationResult Validate() =>
        Kind is not ("fixed" or "open") ? ValidationResult.Error($"--kind must be fixed or open, not '{Kind}'")
        : Request is not ("generate" or "loglikelihood") ? ValidationResult.Error($"--request must be generate or loglikelihood, not '{Request}'")
        : ValidationResult.Success();
}

/// <summary>A commented suite with one example item that loads as written.</summary>
internal sealed class TasksNewCommand : Command<TasksNewSettings>
{
    public override int Execute(CommandContext context, TasksNewSettings settings, CancellationToken cancellationToken)
    {
        using var scorers = new Scoring.HarnessScorers();
        var directory = SuiteScaffold.Create(
            settings.Tasks, settings.Name,
            settings.Kind == "open" ? SuiteKind.Open : SuiteKind.Fixed,
            settings.Request == "loglikelihood" ? RequestKind.LogLikelihood : RequestKind.Generate,
            scorers.Registry.Factories);
        AnsiConsole.MarkupLineInterpolated($"wrote {directory}: edit suite.yaml (each key is explained there) and add items to items.jsonl");
        return ExitCodes.Success;
    }
}
