using System.ComponentModel;
using Harness.Core.Downloads;
using Harness.Core.Models;
using Harness.Core.Scoring;
using Harness.Core.Suites;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class ValidateSettings : CommandSettings
{
    [CommandOption("--models <FILE>")]
    [Description("Model manifest. Default: models.manifest")]
    public string Manifest { get; init; } = "models.manifest";

    [CommandOption("--tasks <DIR>")]
    [Description("Folder holding the suites. Default: tasks")]
    public string Tasks { get; init; } = "tasks";

    [CommandOption("--json")]
    [Description("Print the problems as a JSON array of {file, line, problem}")]
    public bool Json { get; init; }
}

/// <summary>Every problem of the manifest and of every suite at once, as file:line, so a user fixes them in one pass.</summary>
internal sealed class ValidateCommand : AsyncCommand<ValidateSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, ValidateSettings settings, CancellationToken cancellationToken)
    {
        var manifest = new ManifestLoader().Validate(settings.Manifest);
        // A manifest that parses can still point at a missing or broken file, which a run would find only at load.
        var files = manifest.Manifest is { } parsed
            ? await ModelFileCheck.CheckAsync(parsed.FilePath, parsed.Models, new FileHasher(HarnessCache.FromEnvironment().HashesDirectory), cancellationToken)
            : [];
        using var http = new HttpClient();
        var kinds = manifest.Manifest is { } loaded ? UnavailableKinds(loaded, Running.HarnessBackends.InProcess(new Running.BackendServices(TextWriter.Null, http, TimeProvider.System))) : [];
        using var scorers = new Scoring.HarnessScorers();
        var suites = SuiteValidator.ValidateAll(settings.Tasks, scorers.Registry.Factories);
        var errors = manifest.Errors.AddRange(files).AddRange(kinds).AddRange(suites);
        if (settings.Json)
        {
            Console.Out.WriteLine(System.Text.Json.JsonSerializer.Serialize(
                errors.Select(e => new { file = e.FilePath, line = e.Line, problem = e.Problem }), Core.Serialization.HarnessJson.IndentedOptions));
            return errors.IsEmpty ? ExitCodes.Success : ExitCodes.BadInput;
        }

        foreach (var error in errors)
        {
            AnsiConsole.MarkupLineInterpolated($"[red]{error.Message}[/]");
        }

        if (errors.IsEmpty)
        {
            AnsiConsole.MarkupLineInterpolated($"[green]ok[/]: {settings.Manifest} ({manifest.Manifest!.Models.Length} models, every local file read as a model) and the suites under {settings.Tasks}");
            return ExitCodes.Success;
        }

        AnsiConsole.MarkupLineInterpolated($"{errors.Length} problem(s) found.");
        return ExitCodes.BadInput;
    }

    // A model whose runtime this build lacks would pass every file check and be refused by the run: say so here.
    // Nothing is described (no server is asked): validate makes no network request.
    internal static IEnumerable<InputFileException> UnavailableKinds(ModelManifest manifest, Core.Backends.BackendRegistry backends) =>
        manifest.Models
            .Where(m => !backends.TryGet(m.Backend.Kind, out _))
            .Select(m => new InputFileException(manifest.FilePath, m.Line,
                $"model '{m.Id}': backend '{Core.Backends.BackendKinds.ManifestName(m.Backend.Kind)}' is not part of this build (available: {string.Join(", ", backends.Kinds.Select(k => Core.Backends.BackendKinds.ManifestName(k)))})"));
}
