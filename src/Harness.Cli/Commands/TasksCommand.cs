using System.ComponentModel;
using System.Globalization;
using System.Text.Json;
using Harness.Core.Serialization;
using Harness.Core.Suites;
using Harness.Tasks;
using Harness.Cli.Output;
using Spectre.Console;
using Spectre.Console.Cli;

namespace Harness.Cli.Commands;

internal class TasksSettings : CommandSettings
{
    [CommandOption("--tasks <DIR>")]
    [Description("Folder holding the suites. Default: tasks")]
    public string Tasks { get; init; } = "tasks";
}

internal sealed class TasksListSettings : TasksSettings
{
    [CommandOption("--json")]
    public bool Json { get; init; }

    [CommandOption("--catalog")]
    [Description("List the standard benchmarks harness tasks fetch can write, instead of the suites in the tasks folder")]
    public bool Catalog { get; init; }
}

/// <summary>The suites that a run would evaluate.</summary>
internal sealed class TasksCommand : Command<TasksListSettings>
{
    public override int Execute(CommandContext context, TasksListSettings settings, CancellationToken cancellationToken)
    {
        if (settings.Catalog)
        {
            return TasksFetchCommand.ListCatalog(settings.Json);
        }

        var suites = SuiteLoader.LoadAll(settings.Tasks);
        if (settings.Json)
        {
            Console.Out.WriteLine(JsonSerializer.Serialize(suites.Select(s => new
            {
                s.Name, s.Version, s.Kind, s.Request, s.Description, Items = s.Items.Length, s.Generation,
                Scorers = s.Scorers.Select(x => x.Name), s.Requirement, s.Directory, s.ContentSha256,
            }), HarnessJson.IndentedOptions));
            return ExitCodes.Success;
        }

        var table = new Table().AddColumns("suite", "version", "kind", "request", "items", "scorers", "requirement").KeepWhole(0);
        foreach (var s in suites)
        {
            var r = s.Requirement;
            var requirement = r is null ? "-" : string.Create(CultureInfo.InvariantCulture,
                $"pass >= {Output.SummaryWriter.Percent(r.MinPassRate)} at {Output.SummaryWriter.Percent(r.Confidence)}{(r.MaxP95Latency is { } l ? $", p95 <= {l.TotalMilliseconds:F0} ms" : "")}{(r.MaxJoulesPerItem is { } j ? $", <= {j:G} J/item" : "")}");
            table.AddRow(Markup.Escape(s.Name), s.Version.ToString(CultureInfo.InvariantCulture), s.Kind.ToString().ToLowerInvariant(),
                s.Request.ToString().ToLowerInvariant(), s.Items.Length.ToString(CultureInfo.InvariantCulture),
                Markup.Escape(string.Join(", ", s.Scorers.Select(x => x.Name))), Markup.Escape(requirement));
        }

        AnsiConsole.Write(table);
        return ExitCodes.Success;
    }
}

/// <summary>Rewrites the shipped suites from their generators; the files are byte-identical unless a generator changed.</summary>
internal sealed class TasksGenerateCommand : Command<TasksSettings>
{
    public override int Execute(CommandContext context, TasksSettings settings, CancellationToken cancellationToken)
    {
        TaskWriter.WriteAll(settings.Tasks);
        AnsiConsole.MarkupLineInterpolated($"wrote {TaskWriter.Generators().Length} suites under {Path.GetFullPath(settings.Tasks)}");
        return ExitCodes.Success;
    }
}
