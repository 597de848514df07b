using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Harness.Cli.Output;
using Harness.Core.Downloads;
using Harness.Core.Serialization;
using Harness.Tasks.Catalog;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal sealed class TasksFetchSettings : TasksSettings
{
    [CommandArgument(0, "<NAME>")]
    [Description("Catalogue names (harness tasks list --catalog); a trailing * matches a prefix, e.g. 'arc-*'")]
    public string[] Names { get; init; } = [];

    [CommandOption("--from <DIR>")]
    [Description("Read the files from a local copy instead of downloading: a datasets folder (DIR/<source folder>/<file>) or a checkout of the upstream repository")]
    public string? From { get; init; }

    [CommandOption("--mirror <URL>")]
    [Description("Download from this host instead of https://raw.githubusercontent.com, laid out the same way: <URL>/<owner>/<repo>/<commit>/<path>")]
    public string? Mirror { get; init; }

    [CommandOption("--force")]
    [Description("Replace a suite folder that holds other content")]
    public bool Force { get; init; }

    [CommandOption("--json")]
    public bool Json { get; init; }

    public override ValidationResult Validate()
    {
        if (Names.Length == 0)
        {
            return ValidationResult.Error("name at least one catalogue entry (harness tasks list --catalog)");
        }

        if (From is not null && Mirror is not null)
        {
            return ValidationResult.Error("--from and --mirror exclude each other: --from reads local files, --mirror downloads");
        }

        if (Mirror is not null && !(Uri.TryCreate(Mirror, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"))
        {
            return ValidationResult.Error($"--mirror must be an http or https URL, got '{Mirror}'");
        }

        return ValidationResult.Success();
    }
}

/// <summary>
/// Fetches standard benchmarks from the catalogue: downloads (or reads with --from) each recipe's pinned files,
/// verifies every sha256, converts and writes tasks/&lt;suite&gt;/ with its SOURCE.md, each folder all or nothing.
/// </summary>
internal sealed class TasksFetchCommand : AsyncCommand<TasksFetchSettings>
{
    public override async Task<int> ExecuteAsync(CommandContext context, TasksFetchSettings settings, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
        var cache = HarnessCache.FromEnvironment();
        IProgress<DownloadProgress>? progress = settings.Json ? null : new LineProgressObserver(AnsiConsole.Console);
        IRecipeFileSource source = settings.From is { } from
            ? new LocalRecipeFileSource(from)
            : new DownloadRecipeFileSource(
                new VerifiedDownloader(http, new FileHasher(cache.HashesDirectory)),
                cache.DatasetsDirectory,
                settings.Mirror is { } mirror ? new Uri(mirror) : null,
                progress);

        var results = new List<FetchResult>();
        try
        {
            foreach (var recipe in CatalogFetcher.Select(settings.Names, BenchmarkCatalog.Recipes()))
            {
                var result = await CatalogFetcher.FetchAsync(recipe, source, settings.Tasks, settings.Force, cancellationToken);
                results.Add(result);
                if (!settings.Json)
                {
                    WriteResult(result);
                }
            }
        }
        catch (Exception ex) when (ex is CatalogException or DownloadException or InvalidDataException)
        {
            // Folders already fetched stay (each is complete); say what failed and what was written before it.
            if (settings.Json)
            {
                Console.Out.WriteLine(Json(results));
                Console.Error.WriteLine($"error: {ex.Message}");
            }
            else
            {
                ConsoleLayout.StandardError().MarkupLineInterpolated($"[red]error:[/] {ex.Message}");
            }

            return ExitCodes.BadInput;
        }

        if (settings.Json)
        {
            Console.Out.WriteLine(Json(results));
        }

        return ExitCodes.Success;
    }

    /// <summary><c>harness tasks list --catalog</c>: every recipe with its pinned source and the suites it writes.</summary>
    internal static int ListCatalog(bool json)
    {
        var recipes = BenchmarkCatalog.Recipes();
        if (json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(recipes.Select(r => new
            {
                r.Name, r.Description, r.Source.Repository, r.Source.Commit, r.Source.Licence, LmEval = r.FollowsLmEval,
                r.ConversionVersion, Suites = r.SuiteNames, Files = r.Source.Files.Select(f => new { f.Path, f.Sha256 }),
            }), HarnessJson.IndentedOptions));
            return ExitCodes.Success;
        }

        var table = new Table().AddColumns("name", "description", "source", "licence", "lm-eval task file", "suites").KeepWhole(0);
        foreach (var r in recipes)
        {
            var suites = r.SuiteNames.Length <= 3 ? string.Join(", ", r.SuiteNames) : $"{r.SuiteNames[0]}, ... ({r.SuiteNames.Length.ToString(CultureInfo.InvariantCulture)} suites)";
            table.AddRow(Markup.Escape(r.Name), Markup.Escape(r.Description), Markup.Escape($"{r.Source.Repository}@{Short(r.Source.Commit)}"),
                Markup.Escape(r.Source.Licence), Markup.Escape(r.FollowsLmEval), Markup.Escape(suites));
        }

        AnsiConsole.Write(table);
        AnsiConsole.MarkupLine("Fetch one with [bold]harness tasks fetch <name>[/] (or [bold]--from DIR[/] for a local copy).");
        return ExitCodes.Success;
    }

    private static string Short(string commit) => commit.Length > 7 ? commit[..7] : commit;

    private static void WriteResult(FetchResult result)
    {
        var source = result.Recipe.Source;
        AnsiConsole.MarkupLineInterpolated(
            $"{result.Recipe.Name}: {source.Repository}@{Short(source.Commit)}, {result.Files.Files.Length} file(s) verified, follows {result.Recipe.FollowsLmEval}");
        foreach (var suite in result.Suites)
        {
            var outcome = suite.Outcome switch
            {
                SuiteWriteOutcome.Written => "written",
                SuiteWriteOutcome.Replaced => "replaced (--force)",
                _ => "up to date",
            };
            AnsiConsole.MarkupLineInterpolated(CultureInfo.InvariantCulture, $"  {suite.Directory}: {suite.Items} items, {outcome}");
        }
    }

    private static string Json(IEnumerable<FetchResult> results) => JsonSerializer.Serialize(
        results.Select(r => new
        {
            Name = r.Recipe.Name,
            r.Recipe.Source.Repository,
            r.Recipe.Source.Commit,
            LmEval = r.Recipe.FollowsLmEval,
            r.Recipe.ConversionVersion,
            Files = r.Files.Files.Select(f => new { f.Source.Path, f.Source.Sha256, Bytes = f.SizeBytes, f.LocalPath }),
            Suites = r.Suites.Select(s => new { Name = s.Suite, s.Directory, s.Items, s.Outcome }),
        }),
        HarnessJson.IndentedOptions);
}
